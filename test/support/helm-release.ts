// The chart installed into a namespace of the local cluster, the fixture of the e2e files: the
// namespace (labelled privileged, as the README tells the operator), `helm upgrade --install` with
// the local cluster's values, a Job made from the release's CronJob and its log, and the teardown
// (release, namespace, the images left on the node). Also the pinned helm and the node's images.
import { execFile } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll } from "vitest";
import { ensureCluster, kubectl } from "./cluster.js";
import { helperPodsIn } from "./controller-on-cluster.js";
import { tempDir } from "./temp-dir.js";

export const run = promisify(execFile);
export const repo = join(import.meta.dirname, "..", "..");

/** The cluster's pinned helm, run from the repository root; its stdout. */
export async function helm(args: string[]): Promise<string> {
  const c = ensureCluster();
  return (await run(join(c.binDir, "helm"), ["--kubeconfig", c.kubeconfig, ...args], { cwd: repo }))
    .stdout;
}

/** ctr against the node's containerd, in its k8s.io namespace (the kubelet's); its stdout. */
export async function ctrOnNode(args: string[]): Promise<string> {
  const c = ensureCluster();
  return (await run("ctr", ["--address", c.containerdSocket, "-n", "k8s.io", ...args])).stdout;
}

/** Names of the images on the node under `prefix`, sorted. */
export async function imagesOnNode(prefix: string): Promise<string[]> {
  const stdout = await ctrOnNode(["images", "ls", "-q"]);
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

/** Imports sample images into the node (test/cluster/sample-images.sh: `ref` or `ref=created`). */
export async function importSampleImages(refs: string[]): Promise<void> {
  await run("bash", [join(repo, "test/cluster/sample-images.sh"), ...refs]);
}

/** Removes every image on the node under `prefix` (ctr, k8s.io namespace). */
export async function removeImagesOnNode(prefix: string): Promise<void> {
  const left = await imagesOnNode(prefix);
  if (left.length > 0) await ctrOnNode(["images", "rm", ...left]);
}

export interface HelmRelease {
  readonly ns: string;
  readonly release: string;
  /**
   * `helm upgrade --install` of the chart, waiting, with test/local-cluster-values.yaml, the node's
   * containerd socket, a schedule that does not fire during the test and only the real node; `args`
   * after those (more `--set` or `-f`). `wait: false`: returns once the release is applied (a
   * pre-pull Job is left to run).
   */
  install(args: string[], opts?: { wait?: boolean }): Promise<void>;
  /**
   * install() with `values` in a file (expressions keep their backslashes), over the same
   * schedule, socket and node, with nsenter into the node's containerd.
   */
  installValues(values: Record<string, unknown>): Promise<void>;
  /**
   * Creates Job `name` from the release's CronJob, waits for its condition `until` (complete by
   * default; "Failed" for a run that must fail), returns its log.
   */
  runJobNow(name: string, until?: "complete" | "Failed"): Promise<string>;
  /** Names of the helper pods (component agent) in the namespace. */
  helperPods(): Promise<string[]>;
}

/**
 * `pull` from a workstation against the local cluster's one real node, as the e2e files run it:
 * its kubeconfig, helper pods in `namespace` from the app image this checkout built (never
 * pulled), the node's containerd reached through nsenter; the caller's flags after these.
 */
export function pullOnClusterArgs(namespace: string): string[] {
  const c = ensureCluster();
  return [
    "pull",
    "--kubeconfig",
    c.kubeconfig,
    "-n",
    namespace,
    `--socket=${c.containerdSocket}`,
    "--nsenter-target=containerd",
    `--helper-image=${c.image}`,
    "--helper-image-pull-policy=Never",
  ];
}

/**
 * The chart's release `release` in namespace `ns`, for the tests of the file or describe block it is
 * called in: its beforeAll creates the namespace, its afterAll uninstalls the release, deletes the
 * namespace and removes the node's images under `imagePrefix`.
 */
export function helmRelease(opts: {
  ns: string;
  release: string;
  imagePrefix: string;
}): HelmRelease {
  const { ns, release } = opts;
  const valuesDir = tempDir("kic-e2e-values-");
  beforeAll(async () => {
    await kubectl(["create", "namespace", ns]);
    await kubectl(["label", "namespace", ns, "pod-security.kubernetes.io/enforce=privileged"]);
  });
  afterAll(async () => {
    await helm(["uninstall", release, "-n", ns]).catch(() => "");
    await kubectl(["delete", "namespace", ns, "--wait=true", "--timeout=60s"]).catch(() => "");
    await removeImagesOnNode(opts.imagePrefix);
  });
  const chart: HelmRelease = {
    ns,
    release,
    install: async (args, { wait = true } = {}) => {
      const c = ensureCluster();
      await helm([
        "upgrade",
        "--install",
        release,
        "chart",
        "-n",
        ns,
        ...(wait ? ["--wait"] : []),
        "-f",
        "test/local-cluster-values.yaml",
        // The node's containerd socket lives in this user's cache dir (test/cluster/lib.sh).
        "--set",
        `runtime.socket=${c.containerdSocket}`,
        "--set",
        "schedule=0 3 * * *",
        // Only the real node: benchmarks may add kwok nodes to the same cluster.
        "--set",
        `nodes.names={${c.nodeName}}`,
        ...args,
      ]);
    },
    installValues: async (values) => {
      const c = ensureCluster();
      const file = join(mkdtempSync(join(valuesDir, "install-")), "values.json");
      writeFileSync(
        file,
        JSON.stringify({
          schedule: "0 3 * * *",
          runtime: { socket: c.containerdSocket, nsenterTarget: "containerd" },
          nodes: { names: [c.nodeName] },
          ...values,
        }),
      );
      await chart.install(["-f", file]);
    },
    runJobNow: async (name, until = "complete") => {
      // By the release's label: a test may add CronJobs of its own (workloads) to the namespace.
      const cronjob = (
        await kubectl([
          "get",
          "cronjob",
          "-n",
          ns,
          "-l",
          `app.kubernetes.io/instance=${release}`,
          "-o",
          "name",
        ])
      ).trim();
      if (!/^cronjob\.batch\/\S+$/.test(cronjob))
        throw new Error(
          `expected one CronJob of release ${release} in ${ns}, got ${JSON.stringify(cronjob)}`,
        );
      await kubectl(["create", "job", "-n", ns, `--from=${cronjob}`, name]);
      try {
        await kubectl([
          "wait",
          "-n",
          ns,
          `job/${name}`,
          `--for=condition=${until}`,
          until === "complete" ? "--timeout=240s" : "--timeout=180s",
        ]);
      } finally {
        // The log is the audit trail: print it so a failure here is readable in CI.
        process.stdout.write(
          await kubectl(["logs", "-n", ns, `job/${name}`]).catch((e: unknown) => String(e)),
        );
      }
      return kubectl(["logs", "-n", ns, `job/${name}`]);
    },
    helperPods: async () =>
      (await helperPodsIn(ns))
        .split("\n")
        .filter(Boolean)
        .map((name) => name.replace(/^pod\//, "")),
  };
  return chart;
}
