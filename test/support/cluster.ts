// The one way integration and e2e tests get the local real cluster: `ensureCluster()` runs
// test/cluster/up.sh (idempotent; seconds when it is already up, and `npm test` brings it up before
// these suites start) and returns what the tests need to reach it.
import { execFile, execFileSync } from "node:child_process";
import { promisify } from "node:util";
import { existsSync } from "node:fs";
import { join } from "node:path";

export interface LocalCluster {
  /** Admin (system:masters) kubeconfig. */
  kubeconfig: string;
  /** The one real kubelet node. */
  nodeName: string;
  /** The node's containerd socket (the same the kubelet uses). */
  containerdSocket: string;
  /** That socket's group (containerd's [grpc] gid): what socket-mode helper pods run with. */
  containerdSocketGid: number;
  /** The project image as imported into that containerd. */
  image: string;
  /** Directory of the pinned binaries (kubectl, crictl, helm, kwok, etcd). */
  binDir: string;
  /** API server URL (loopback). */
  server: string;
  /**
   * The cluster's OCI registry, `host:port` (plain HTTP on loopback, test/cluster/registry.sh): the
   * first component of the images pods pull from it, e.g. `127.0.0.1:5100/team/app:v1`.
   */
  registry: string;
}

const repoRoot = join(import.meta.dirname, "..", "..");

/**
 * The cluster's paths and names exactly as test/cluster/lib.sh computes them (KIC_CACHE,
 * XDG_CACHE_HOME, HOME, KIC_NODE_NAME, ...): one definition, so tests and scripts never disagree
 * about where the cache, the socket or the kubeconfig is.
 */
function clusterEnv(): Record<string, string> {
  const names = [
    "KIC_CACHE",
    "KIC_BIN",
    "KIC_KUBECONFIG",
    "KIC_CONTAINERD_SOCK",
    "KIC_CONTAINERD_SOCKET_GID",
    "KIC_NODE_NAME",
    "KIC_API_PORT",
    "KIC_REGISTRY",
  ];
  const out = execFileSync(
    "bash",
    [
      "-c",
      `. "$1" && printf '%s\\n' ${names.map((n) => `"$${n}"`).join(" ")}`,
      "bash",
      join(repoRoot, "test/cluster/lib.sh"),
    ],
    { encoding: "utf8" },
  ).split("\n");
  return Object.fromEntries(names.map((n, i) => [n, out[i] ?? ""]));
}

export const clusterPaths = clusterEnv();
export const cacheDir = clusterPaths.KIC_CACHE ?? "";

let cached: LocalCluster | undefined;

export function ensureCluster(): LocalCluster {
  if (cached) return cached;
  const kubeconfig = clusterPaths.KIC_KUBECONFIG ?? "";
  const up = existsSync(kubeconfig) && clusterAnswers(kubeconfig);
  if (!up) {
    // stdio inherited for stderr so a failing bring-up shows which component failed and its log.
    execFileSync("bash", [join(repoRoot, "test/cluster/up.sh")], {
      stdio: ["ignore", "pipe", "inherit"],
    });
  }
  cached = {
    kubeconfig,
    nodeName: clusterPaths.KIC_NODE_NAME ?? "",
    containerdSocket: clusterPaths.KIC_CONTAINERD_SOCK ?? "",
    containerdSocketGid: Number(clusterPaths.KIC_CONTAINERD_SOCKET_GID),
    image: "docker.io/library/kube-image-cleanup:dev",
    binDir: clusterPaths.KIC_BIN ?? "",
    server: `https://127.0.0.1:${clusterPaths.KIC_API_PORT ?? ""}`,
    registry: clusterPaths.KIC_REGISTRY ?? "",
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
      join(clusterPaths.KIC_BIN ?? "", "kubectl"),
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
