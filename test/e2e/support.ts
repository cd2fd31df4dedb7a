// What the e2e files share: the pinned helm against the local cluster, and the node's images.
import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import { ensureCluster } from "../support/cluster.js";

export const run = promisify(execFile);
export const repo = join(import.meta.dirname, "..", "..");

/** The cluster's pinned helm, run from the repository root; its stdout. */
export async function helm(args: string[]): Promise<string> {
  const c = ensureCluster();
  return (await run(join(c.binDir, "helm"), ["--kubeconfig", c.kubeconfig, ...args], { cwd: repo }))
    .stdout;
}

/** Names of the images on the node under `prefix`, sorted (ctr, containerd's k8s.io namespace). */
export async function imagesOnNode(prefix: string): Promise<string[]> {
  const c = ensureCluster();
  const { stdout } = await run("ctr", [
    "--address",
    c.containerdSocket,
    "-n",
    "k8s.io",
    "images",
    "ls",
    "-q",
  ]);
  return stdout
    .split("\n")
    .filter((n) => n.startsWith(`${prefix}/`))
    .sort();
}

/** One image `sample-images.sh --push` put into the cluster's registry. */
export interface PushedImage {
  name: string;
  /** The config digest: the image id a node shows once it has pulled the image. */
  id: string;
  /** The manifest digest the registry serves: the repo digest a pull records. */
  manifest: string;
}

/** Builds small sample images and pushes them to the cluster's registry (test/cluster/registry.sh). */
export async function pushImages(refs: string[]): Promise<PushedImage[]> {
  const { stdout } = await run("bash", [
    join(repo, "test/cluster/sample-images.sh"),
    "--push",
    ...refs,
  ]);
  return stdout
    .trim()
    .split("\n")
    .map((line) => JSON.parse(line) as PushedImage);
}
