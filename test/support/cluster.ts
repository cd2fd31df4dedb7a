// The one way integration and e2e tests get the local real cluster: `ensureCluster()` runs
// test/cluster/up.sh (idempotent; seconds when it is already up, and `npm test` brings it up before
// these suites start) and returns what the tests need to reach it.
import { execFile, execFileSync } from "node:child_process";
import { promisify } from "node:util";
import { existsSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";

export interface LocalCluster {
  /** Admin (system:masters) kubeconfig. */
  kubeconfig: string;
  /** The one real kubelet node. */
  nodeName: string;
  /** The node's containerd socket (the same the kubelet uses). */
  containerdSocket: string;
  /** The project image as imported into that containerd. */
  image: string;
  /** Directory of the pinned binaries (kubectl, crictl, helm, kwok, etcd). */
  binDir: string;
  /** API server URL (loopback). */
  server: string;
}

const repoRoot = join(import.meta.dirname, "..", "..");
export const cacheDir =
  process.env.KIC_CACHE ??
  join(process.env.XDG_CACHE_HOME ?? join(homedir(), ".cache"), "kube-image-cleanup");
const stateDir = join(cacheDir, "cluster");

let cached: LocalCluster | undefined;

export function ensureCluster(): LocalCluster {
  if (cached) return cached;
  const kubeconfig = join(stateDir, "admin.kubeconfig");
  const up = existsSync(kubeconfig) && clusterAnswers(kubeconfig);
  if (!up) {
    // stdio inherited for stderr so a failing bring-up shows which component failed and its log.
    execFileSync("bash", [join(repoRoot, "test/cluster/up.sh")], {
      stdio: ["ignore", "pipe", "inherit"],
    });
  }
  cached = {
    kubeconfig,
    nodeName: process.env.KIC_NODE_NAME ?? "kic-node",
    containerdSocket: join(stateDir, "containerd", "containerd.sock"),
    image: "docker.io/library/kube-image-cleanup:dev",
    binDir: join(cacheDir, "bin"),
    server: `https://127.0.0.1:${process.env.KIC_API_PORT ?? "16443"}`,
  };
  return cached;
}

const execFileAsync = promisify(execFile);

/**
 * Runs the pinned kubectl against the cluster and resolves to stdout. Asynchronous on purpose: a
 * blocking child process (`kubectl wait`) would stall the vitest worker's RPC. On failure it rejects
 * with an error carrying `stdout`, `stderr` and `code`.
 */
export async function kubectl(
  args: string[],
  opts: { input?: string; kubeconfig?: string } = {},
): Promise<string> {
  const c = ensureCluster();
  const child = execFileAsync(
    join(c.binDir, "kubectl"),
    ["--kubeconfig", opts.kubeconfig ?? c.kubeconfig, ...args],
    {
      encoding: "utf8",
      maxBuffer: 64 << 20,
    },
  );
  if (opts.input !== undefined) child.child.stdin?.end(opts.input);
  return (await child).stdout;
}

function clusterAnswers(kubeconfig: string): boolean {
  try {
    execFileSync(
      join(cacheDir, "bin", "kubectl"),
      ["--kubeconfig", kubeconfig, "get", "--raw", "/readyz"],
      {
        stdio: "ignore",
        timeout: 10_000,
      },
    );
    return true;
  } catch {
    // Not up (or not yet built): the caller brings it up, which reports what failed.
    return false;
  }
}
