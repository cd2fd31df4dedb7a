// A real, standalone CRI-O for the agent's integration suite, started and stopped by the tests like
// test/support/containerd.ts does containerd: own root, runroot and socket under a temp dir,
// runc and conmon from Debian, pinns and crio built by test/cluster/build-binaries.sh. CRI-O has no
// ctr: images go into its storage with buildah (Debian), which shares containers/storage with it
// (the same root, runroot and driver), from the OCI archives test/cluster/oci-image.mjs makes.
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, openSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  binDir,
  crictl,
  type ImageStore,
  PAUSE_IMAGE,
  pathWithBins,
  pauseArchive,
} from "./containerd.js";
import { whenAnswering } from "./daemon-ready.js";
import { removeMountedDir } from "./leftovers.js";

export const crioDir = join(binDir, "crio");

export interface StandaloneCrio {
  socket: string;
  pid: number;
  log: string;
  /** The PATH the agent gets in direct mode: the pinned crictl; no ctr (CRI-O has none). */
  path: string;
  /** As `crictl version` reports it, e.g. "1.34.0". */
  version: string;
  /** Images in and out of CRI-O's storage (buildah in, crictl to list and remove). */
  store: ImageStore;
  stop(): void;
}

export async function startCrio(): Promise<StandaloneCrio> {
  const crio = join(crioDir, "crio");
  if (!existsSync(crio))
    throw new Error(
      `${crio} is missing: run \`bash test/cluster/build-binaries.sh crio\` (npm test does)`,
    );
  const dir = mkdtempSync(join(tmpdir(), "kic-crio-"));
  const socket = join(dir, "crio.sock");
  const root = join(dir, "root");
  const runroot = join(dir, "run");
  const log = join(dir, "crio.log");
  for (const d of ["logs", "cni", "exits", "attach", "ns", "runc"]) mkdirSync(join(dir, d));
  // No registry is reached: accept any image, and no registries.conf from /etc.
  writeFileSync(
    join(dir, "policy.json"),
    JSON.stringify({ default: [{ type: "insecureAcceptAnything" }] }),
  );
  writeFileSync(join(dir, "registries.conf"), "");
  writeFileSync(
    join(dir, "crio.conf"),
    `[crio]
root = "${root}"
runroot = "${runroot}"
storage_driver = "overlay"
log_dir = "${join(dir, "logs")}"
version_file = "${join(dir, "version")}"
version_file_persist = "${join(dir, "version-persist")}"
clean_shutdown_file = "${join(dir, "clean.shutdown")}"
[crio.api]
listen = "${socket}"
stream_address = "127.0.0.1"
stream_port = "0"
[crio.runtime]
default_runtime = "runc"
cgroup_manager = "cgroupfs"
namespaces_dir = "${join(dir, "ns")}"
pinns_path = "${join(crioDir, "pinns")}"
container_exits_dir = "${join(dir, "exits")}"
container_attach_socket_dir = "${join(dir, "attach")}"
hooks_dir = []
# No pause (infra) container: CRI-O gives it oom_score_adj -998, which this VM refuses (no
# CAP_SYS_RESOURCE; containerd has restrict_oom_score_adj for it, CRI-O nothing). The pause image
# stays the configured one all the same (crictl info).
drop_infra_ctr = true
# runc, not Debian's crun 1.8.1: that refuses CRI-O 1.34's OCI spec ("unknown version specified").
[crio.runtime.runtimes.runc]
runtime_path = "/usr/sbin/runc"
runtime_root = "${join(dir, "runc")}"
monitor_path = "/usr/bin/conmon"
monitor_cgroup = "pod"
[crio.image]
pause_image = "${PAUSE_IMAGE}"
signature_policy = "${join(dir, "policy.json")}"
[crio.network]
network_dir = "${join(dir, "cni")}"
plugin_dirs = ["/usr/lib/cni"]
[crio.metrics]
enable_metrics = false
[crio.nri]
enable_nri = false
`,
  );
  const env = { ...process.env, CONTAINERS_REGISTRIES_CONF: join(dir, "registries.conf") };
  const out = openSync(log, "a");
  const proc: ChildProcess = spawn(
    crio,
    ["--config", join(dir, "crio.conf"), "--config-dir", join(dir, "conf.d")],
    { stdio: ["ignore", out, out], env },
  );
  const buildah = (args: string[]) =>
    execFileSync(
      "buildah",
      ["--root", root, "--runroot", runroot, "--storage-driver", "overlay", ...args],
      { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], env },
    );
  const instance: StandaloneCrio = {
    socket,
    pid: proc.pid ?? 0,
    log,
    path: pathWithBins,
    version: "",
    store: {
      import: (archive, name) => {
        const id = buildah(["pull", "--quiet", `oci-archive:${archive}`]).trim();
        buildah(["tag", id, name]);
      },
      tag: (source, target) => {
        buildah(["tag", source, target]);
      },
      refs: () =>
        (
          JSON.parse(crictl(socket, ["images", "-o", "json"])) as {
            images: { id: string; repoTags?: string[] }[];
          }
        ).images.flatMap((i) => [i.id, ...(i.repoTags ?? [])]),
      remove: (refs) => {
        crictl(socket, ["rmi", ...refs]);
      },
    },
    stop: () => {
      stopCrio(proc, dir, socket);
    },
  };
  instance.version = await whenAnswering(
    "CRI-O",
    {
      proc,
      log,
      stop: () => {
        instance.stop();
      },
    },
    () => /RuntimeVersion:\s*(\S+)/.exec(crictl(socket, ["version"]))?.[1] ?? "unknown",
    { everyMs: 300 },
  );
  instance.store.import(pauseArchive(dir), PAUSE_IMAGE);
  return instance;
}

function stopCrio(proc: ChildProcess, dir: string, socket: string): void {
  // Pods first, so conmon and crun tear their containers down; then CRI-O itself.
  try {
    const pods = crictl(socket, ["pods", "-q"]).split("\n").filter(Boolean);
    const containers = crictl(socket, ["ps", "-aq"]).split("\n").filter(Boolean);
    if (containers.length > 0) crictl(socket, ["stop", "--timeout", "0", ...containers]);
    for (const p of pods) {
      crictl(socket, ["stopp", p]);
      crictl(socket, ["rmp", "-f", p]);
    }
  } catch {
    // CRI-O is not answering (it failed to start): nothing of it to stop through it.
  }
  proc.kill("SIGKILL");
  removeMountedDir(dir);
}
