// Helm against the local real cluster: install, test and uninstall the chart in a namespace of its
// own. Asynchronous like `kubectl()`, so a slow helm call does not stall the vitest worker.
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { ensureCluster, kubectl } from "../../support/cluster.js";

const execFileAsync = promisify(execFile);
export const chartDir = join(import.meta.dirname, "..", "..", "..", "chart");

export interface ExecResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** A finished command: its exit code instead of a rejection, so tests can assert on failures too. */
async function settle(run: Promise<{ stdout: string; stderr?: string }>): Promise<ExecResult> {
  try {
    const r = await run;
    return { code: 0, stdout: r.stdout, stderr: r.stderr ?? "" };
  } catch (err) {
    const e = err as { code?: unknown; stdout?: string; stderr?: string };
    // No numeric exit code: the command did not run at all (missing binary, timeout).
    if (typeof e.code !== "number") throw err;
    return { code: e.code, stdout: e.stdout ?? "", stderr: e.stderr ?? "" };
  }
}

/** Runs the pinned helm against the local cluster. */
export function helm(args: string[]): Promise<ExecResult> {
  const c = ensureCluster();
  return settle(
    execFileAsync(join(c.binDir, "helm"), ["--kubeconfig", c.kubeconfig, ...args], {
      encoding: "utf8",
      maxBuffer: 64 << 20,
      timeout: 300_000,
    }),
  );
}

/** Like helm(), but rejects with helm's output when it fails. */
export async function helmOk(args: string[]): Promise<string> {
  const r = await helm(args);
  if (r.code !== 0)
    throw new Error(`helm ${args.join(" ")} failed (${String(r.code)}):\n${r.stderr}${r.stdout}`);
  return r.stdout;
}

/** `kubectl` with the exit code (for `auth can-i`, which exits 1 on "no"). */
export function kubectlResult(args: string[], input?: string): Promise<ExecResult> {
  return settle(kubectl(args, input === undefined ? {} : { input }).then((stdout) => ({ stdout })));
}

export function uniqueName(prefix: string): string {
  return `${prefix}-${randomBytes(3).toString("hex")}`;
}

/** The values that make the chart run on the local cluster (image, host network); testValues() adds the socket. */
export const localClusterValuesFile = join(
  import.meta.dirname,
  "..",
  "..",
  "local-cluster-values.yaml",
);

/**
 * Values for these tests on top of localClusterValuesFile: the required ones, no scheduled run, and
 * the controller and test pods on the real node (the cluster may also carry kwok's simulated nodes,
 * which do not have the image).
 */
export function testValues(): Record<string, unknown> {
  return {
    schedule: "0 3 * * *",
    suspend: true,
    images: { include: ["docker.io/acme/*"] },
    controller: { nodeSelector: { "kubernetes.io/hostname": ensureCluster().nodeName } },
    // The node's containerd socket lives in this user's cache dir (test/cluster/lib.sh).
    runtime: { socket: ensureCluster().containerdSocket },
  };
}

/**
 * Installs the chart as `release` into the new namespace `ns`, labelled for privileged pods as
 * chart/README.md and NOTES.txt tell the operator (the helper pods are privileged), with
 * localClusterValuesFile, then testValues() with `values` over them (top-level keys replace).
 */
export async function installInNewNamespace(
  release: string,
  ns: string,
  values: Record<string, unknown>,
): Promise<void> {
  await kubectl(["create", "namespace", ns]);
  await kubectl(["label", "namespace", ns, "pod-security.kubernetes.io/enforce=privileged"]);
  const dir = mkdtempSync(join(tmpdir(), "kic-values-"));
  try {
    writeFileSync(join(dir, "values.json"), JSON.stringify({ ...testValues(), ...values }));
    await helmOk([
      "install",
      release,
      chartDir,
      "--namespace",
      ns,
      "-f",
      localClusterValuesFile,
      "-f",
      join(dir, "values.json"),
    ]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
