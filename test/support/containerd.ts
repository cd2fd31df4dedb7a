// A real, standalone containerd (CRI plugin on) that the agent's integration tests start and stop
// themselves: own root, state and socket under a temp dir, so no kubelet reaps the sandboxes the
// tests make (the local cluster's kubelet kills pods it does not know) and no other suite's images
// mix into the inventory. Its sandbox image is the locally built pause image. Helpers build and
// import test images and make real sandboxes and containers with crictl and ctr; everything a test
// creates is recorded in a `Scratch` and removed by `cleanup()`.
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import {
  existsSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { cacheDir } from "./cluster.js";
import { whenAnswering } from "./daemon-ready.js";
import { killPids, removeMountedDir } from "./leftovers.js";

const repoRoot = join(import.meta.dirname, "..", "..");
export const binDir = join(cacheDir, "bin");
export const PAUSE_IMAGE = "registry.k8s.io/pause:kic";
/** PATH with the pinned crictl first, as the agent sees it in the tests (with containerd 1.6's ctr). */
export const pathWithBins = `${binDir}:${process.env.PATH ?? "/usr/bin:/bin"}`;

/**
 * The containerd releases the agent's integration suite runs on: Debian's 1.6 (the local cluster's
 * default runtime) and the pinned 2.x that test/cluster/build-binaries.sh builds into its own
 * directory (KIC_CONTAINERD2_VERSION in test/cluster/lib.sh).
 */
export const CONTAINERD_RUNTIMES = ["containerd-1.6", "containerd-2"] as const;
export type ContainerdRuntime = (typeof CONTAINERD_RUNTIMES)[number];

/** Where build-binaries.sh puts containerd 2.x's daemon, ctr and runc shim. */
export const containerd2Dir = join(binDir, "containerd2");

/** Each runtime's own binaries: the daemon, its ctr, and the directory of its runc shim. */
function binariesOf(runtime: ContainerdRuntime): { daemon: string; ctr: string; pathDir?: string } {
  if (runtime === "containerd-1.6") return { daemon: "containerd", ctr: "ctr" };
  const daemon = join(containerd2Dir, "containerd");
  if (!existsSync(daemon))
    throw new Error(
      `${daemon} is missing: run \`bash test/cluster/build-binaries.sh containerd2\` (npm test does)`,
    );
  return { daemon, ctr: join(containerd2Dir, "ctr"), pathDir: containerd2Dir };
}

/** The ctr of the containerd listening on each socket: the tests talk to each with its own. */
const ctrBySocket = new Map<string, string>();

export interface StandaloneContainerd {
  runtime: ContainerdRuntime;
  socket: string;
  /** containerd's own pid. */
  pid: number;
  /** containerd's root: the content store is under it. */
  root: string;
  /** Containerd's own log, for failures. */
  log: string;
  /**
   * The PATH the agent gets in direct mode: the pinned crictl, and this runtime's own ctr first (a
   * node runs the ctr of its containerd).
   */
  path: string;
  /** The version containerd reports (`ctr version`), e.g. "1.6.20~ds1" or "v2.4.2". */
  version: string;
  stop(): void;
  /** Stops containerd (SIGTERM) and starts it again on the same root, state and config. */
  restart(): Promise<void>;
}

/** The config file: version 2 for 1.6, version 3 for 2.x (the CRI plugin split in two there). */
function configToml(
  runtime: ContainerdRuntime,
  dir: string,
  options: {
    socketGid?: number;
    pinned?: readonly string[];
    registryConfigPath?: string;
    statsCollectPeriod?: number;
  },
): string {
  const stats =
    options.statsCollectPeriod === undefined
      ? ""
      : `\n  stats_collect_period = ${String(options.statsCollectPeriod)}`;
  const head = `root = "${join(dir, "root")}"
state = "${join(dir, "state")}"
[grpc]
  address = "${join(dir, "containerd.sock")}"${options.socketGid === undefined ? "" : `\n  gid = ${options.socketGid}`}
[ttrpc]
  address = "${join(dir, "containerd.sock")}.ttrpc"
`;
  if (runtime === "containerd-1.6")
    return `version = 2
${head}[plugins."io.containerd.internal.v1.opt"]
  path = "${join(dir, "opt")}"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "${PAUSE_IMAGE}"${stats}
  # This VM withholds CAP_SYS_RESOURCE: negative oom_score_adj fails runc (see test/cluster/containerd.sh).
  restrict_oom_score_adj = true
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "${join(dir, "cni")}"
${registryTable('"io.containerd.grpc.v1.cri"', options.registryConfigPath)}`;
  // containerd 2 pins every image named in pinned_images (the sandbox image is one): the CRI reports
  // it `pinned`, and containerd labels it io.cri-containerd.pinned=pinned, also when it is imported.
  const pinned = (options.pinned ?? []).map((ref, i) => `\n    kic-${i} = "${ref}"`).join("");
  return `version = 3
${head}[plugins.'io.containerd.internal.v1.opt']
  path = "${join(dir, "opt")}"
[plugins.'io.containerd.cri.v1.images']
  snapshotter = "overlayfs"${stats}
  [plugins.'io.containerd.cri.v1.images'.pinned_images]
    sandbox = "${PAUSE_IMAGE}"${pinned}
${registryTable("'io.containerd.cri.v1.images'", options.registryConfigPath)}[plugins.'io.containerd.cri.v1.runtime']
  # This VM withholds CAP_SYS_RESOURCE: negative oom_score_adj fails runc (see test/cluster/containerd.sh).
  restrict_oom_score_adj = true
  [plugins.'io.containerd.cri.v1.runtime'.containerd]
    default_runtime_name = "runc"
    [plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
  [plugins.'io.containerd.cri.v1.runtime'.cni]
    bin_dirs = ["/usr/lib/cni"]
    conf_dir = "${join(dir, "cni")}"
`;
}

/** The CRI's per-registry settings: hosts.toml files under `path` (as test/cluster/containerd.sh). */
function registryTable(plugin: string, path: string | undefined): string {
  return path === undefined ? "" : `  [plugins.${plugin}.registry]\n    config_path = "${path}"\n`;
}

/** How startContainerd starts containerd (each option is described there). */
export interface ContainerdOptions {
  runtime?: ContainerdRuntime;
  socketGid?: number;
  dir?: string;
  pinned?: readonly string[];
  registryConfigPath?: string;
  statsCollectPeriod?: number;
}

/**
 * Starts containerd (`runtime`, default Debian's 1.6) with a config of its own (CRI on, overlayfs,
 * runc, sandbox image registry.k8s.io/pause:kic imported) and waits until it answers. `socketGid`
 * makes its socket group-owned by that gid (containerd's `[grpc] gid`), for clients that are not
 * root. `pinned` (containerd 2 only; 1.6 has no pinning): more image names it pins.
 * `registryConfigPath`: containerd's `config_path`, a directory of `<host>/hosts.toml`.
 * `statsCollectPeriod`: seconds between the CRI's image filesystem stats passes (containerd's
 * default 10; the first pass runs at start). `dir` (default: a
 * new temp dir) holds its socket, root and state, and is removed by `stop()`.
 */
export async function startContainerd(
  options: ContainerdOptions = {},
): Promise<StandaloneContainerd> {
  const runtime = options.runtime ?? "containerd-1.6";
  if (runtime === "containerd-1.6" && options.pinned !== undefined)
    throw new Error("containerd 1.6 has no pinned images: pass `pinned` for containerd-2 only");
  const bins = binariesOf(runtime);
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), "kic-cd-"));
  const socket = join(dir, "containerd.sock");
  const root = join(dir, "root");
  const log = join(dir, "containerd.log");
  writeFileSync(join(dir, "config.toml"), configToml(runtime, dir, options));
  const systemPath = process.env.PATH ?? "/usr/bin:/bin";
  // The daemon finds its runc shim on PATH: 2.x's own, not 1.6's of the same name in /usr/bin.
  const path = bins.pathDir ? `${bins.pathDir}:${pathWithBins}` : pathWithBins;
  const out = openSync(log, "a");
  const launch = (): ChildProcess =>
    spawn(bins.daemon, ["--config", join(dir, "config.toml")], {
      stdio: ["ignore", out, out],
      env: {
        ...process.env,
        PATH: bins.pathDir ? `${bins.pathDir}:${systemPath}` : systemPath,
      },
    });
  let proc = launch();
  ctrBySocket.set(socket, bins.ctr);
  const waitReady = (): Promise<string> =>
    whenAnswering(
      "containerd",
      {
        proc,
        log,
        stop: () => {
          instance.stop();
        },
      },
      () =>
        execFileSync(bins.ctr, ["--address", socket, "version"], {
          encoding: "utf8",
          stdio: ["ignore", "pipe", "ignore"],
          timeout: 5000,
        }),
      { tail: 2000 },
    );
  const instance: StandaloneContainerd = {
    runtime,
    socket,
    pid: proc.pid ?? 0,
    root,
    log,
    path,
    version: "",
    stop: () => {
      ctrBySocket.delete(socket);
      stopContainerd(proc, socket, dir);
    },
    restart: async () => {
      const exited = new Promise((r) => proc.once("exit", r));
      proc.kill("SIGTERM");
      await exited;
      proc = launch();
      instance.pid = proc.pid ?? 0;
      await waitReady();
    },
  };
  instance.version = await waitReady();
  instance.version = serverVersion(instance.version);
  ctr(socket, ["images", "import", pauseArchive(dir)]);
  return instance;
}

/** The server's version from `ctr version` (Client: ... Server: Version: ...). */
function serverVersion(text: string): string {
  const server = text.split(/^Server:/m)[1] ?? "";
  return /Version:\s*(\S+)/.exec(server)?.[1] ?? "unknown";
}

/** The pause image archive test/cluster builds; else one made here from the pause binary or busybox. */
export function pauseArchive(dir: string): string {
  const cached = join(cacheDir, "images", "pause.tar");
  if (existsSync(cached)) return cached;
  const out = join(dir, "pause.tar");
  const pause = join(binDir, "pause");
  const args = existsSync(pause)
    ? ["--file", `${pause}:/pause`, "--entrypoint", '["/pause"]']
    : ["--busybox", "--entrypoint", '["/bin/sleep","2147483647"]'];
  execFileSync("node", [
    join(repoRoot, "test/cluster/oci-image.mjs"),
    "--name",
    PAUSE_IMAGE,
    "--out",
    out,
    ...args,
  ]);
  return out;
}

function stopContainerd(proc: ChildProcess, socket: string, dir: string): void {
  // Shims outlive containerd; this instance's shims carry its socket address on their command line.
  const shims = readdirSync("/proc")
    .filter((p) => /^\d+$/.test(p))
    .filter((pid) => {
      try {
        const cmd = readFileSync(`/proc/${pid}/cmdline`, "utf8");
        const argv0 = cmd.split("\0")[0] ?? "";
        return /\/containerd-shim[^/]*$/.test(argv0) && cmd.includes(socket);
      } catch {
        // The process ended while we looked.
        return false;
      }
    });
  proc.kill("SIGKILL");
  killPids(shims);
  removeMountedDir(dir);
}

export function crictl(socket: string, args: string[]): string {
  const endpoint = `unix://${socket}`;
  return execFileSync(
    join(binDir, "crictl"),
    ["--runtime-endpoint", endpoint, "--image-endpoint", endpoint, "--timeout", "60s", ...args],
    { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] },
  );
}

/** The ctr of the containerd on `socket` (the system's 1.6 ctr for a socket started elsewhere). */
export function ctr(socket: string, args: string[]): string {
  return execFileSync(
    ctrBySocket.get(socket) ?? "ctr",
    ["--address", socket, "--namespace", "k8s.io", ...args],
    {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
}

export interface BuiltImage {
  name: string;
  /** Config digest = CRI image id. */
  id: string;
  manifest: string;
  /** Manifest + config + layers, bytes. */
  size: number;
}

/** A short random token: unique names per test run, so re-runs never meet leftovers. */
export function uniqueToken(): string {
  return randomBytes(4).toString("hex");
}

/** Every content blob (manifest, config, layers) of an image with its size on disk. */
export function blobsOf(
  cd: StandaloneContainerd,
  manifestDigest: string,
): { digest: string; bytes: number }[] {
  const manifest = JSON.parse(ctr(cd.socket, ["content", "get", manifestDigest])) as {
    config: { digest: string };
    layers: { digest: string }[];
  };
  return [manifestDigest, manifest.config.digest, ...manifest.layers.map((l) => l.digest)].map(
    (digest) => ({
      digest,
      bytes: blobBytes(cd, digest) ?? 0,
    }),
  );
}

/** Size of a blob file in the content store, undefined when it is gone. */
export function blobBytes(cd: StandaloneContainerd, digest: string): number | undefined {
  const file = join(
    cd.root,
    "io.containerd.content.v1.content",
    "blobs",
    "sha256",
    digest.replace(/^sha256:/, ""),
  );
  return existsSync(file) ? statSync(file).size : undefined;
}

/** Image references currently in the k8s.io namespace. */
export function imageRefs(socket: string): string[] {
  return ctr(socket, ["images", "ls", "-q"]).split("\n").filter(Boolean);
}

/** Creates things in containerd and removes them again, whatever state a failed test left. */
/** How a test puts images into a runtime, names them, lists and removes them. */
export interface ImageStore {
  import(archive: string, name: string): void;
  tag(source: string, target: string): void;
  /** Every image reference present. */
  refs(): string[];
  remove(refs: string[]): void;
}

/** containerd's, through its ctr (namespace k8s.io). */
function containerdStore(socket: string): ImageStore {
  return {
    import: (archive) => {
      ctr(socket, ["images", "import", archive]);
    },
    tag: (source, target) => {
      ctr(socket, ["images", "tag", "--force", "--", source, target]);
    },
    refs: () => imageRefs(socket),
    remove: (refs) => {
      ctr(socket, ["images", "rm", "--sync", "--", ...refs]);
    },
  };
}

export class Scratch {
  readonly dir = mkdtempSync(join(tmpdir(), "kic-agent-it-"));
  private readonly refs = new Set<string>();
  private readonly sandboxes: string[] = [];
  private readonly ctrContainers: string[] = [];
  private readonly store: ImageStore;

  /**
   * `store`: how images get in (default: containerd's ctr on `socket`). `ownPidNamespaces`: sandboxes
   * whose containers each get their own PID namespace, so the runtime needs no pause container
   * (CRI-O gives that one oom_score_adj -998, which this VM refuses).
   */
  constructor(
    readonly socket: string,
    store?: ImageStore,
    private readonly options: { ownPidNamespaces?: boolean } = {},
  ) {
    this.store = store ?? containerdStore(socket);
  }

  /**
   * Builds an OCI archive (test/cluster/oci-image.mjs) and imports it. Without `busybox` the image
   * is only its salt layer: content no other image shares, so deleting it frees exactly `size`.
   */
  /**
   * `count` images `<prefix>/imgNN:1`, 1 KiB of filler each: more than one removal batch of images
   * (REMOVE_BATCH), small enough to make fast.
   */
  paddedImages(prefix: string, count: number): BuiltImage[] {
    return Array.from({ length: count }, (_, i) =>
      this.image(`${prefix}/img${String(i).padStart(2, "0")}:1`, { pad: 1024 }),
    );
  }

  image(
    name: string,
    opts: { busybox?: boolean; pad?: number; created?: string } = {},
  ): BuiltImage {
    const out = join(this.dir, `${uniqueToken()}.tar`);
    const args = [join(repoRoot, "test/cluster/oci-image.mjs"), "--name", name, "--out", out];
    args.push("--salt", `${name}-${uniqueToken()}`, "--pad", String(opts.pad ?? 65_536));
    if (opts.busybox) args.push("--busybox", "--cmd", '["sleep","3600"]');
    if (opts.created !== undefined) args.push("--created", opts.created);
    const built = JSON.parse(execFileSync("node", args, { encoding: "utf8" })) as BuiltImage;
    this.refs.add(name);
    this.refs.add(built.id);
    this.store.import(out, name);
    rmSync(out);
    return built;
  }

  /** Adds another name to an image (ctr images tag). */
  tag(source: string, target: string): void {
    this.refs.add(target);
    this.store.tag(source, target);
  }

  /**
   * A running CRI pod sandbox on the host network (no CNI needed); returns its id. `kubeletLabels`:
   * with the labels a kubelet gives every sandbox (`io.kubernetes.pod.name`, `.namespace`, `.uid`),
   * which the CRI plugin copies onto the sandbox's containerd container (what `ctr` sees).
   */
  sandbox(name: string, opts: { kubeletLabels?: boolean } = {}): string {
    const config = join(this.dir, `pod-${name}.json`);
    const metadata = { name, namespace: "kic-agent-it", uid: `${name}-uid`, attempt: 0 };
    writeFileSync(
      config,
      JSON.stringify({
        metadata,
        ...(opts.kubeletLabels === true
          ? {
              labels: {
                "io.kubernetes.pod.name": metadata.name,
                "io.kubernetes.pod.namespace": metadata.namespace,
                "io.kubernetes.pod.uid": metadata.uid,
              },
            }
          : {}),
        // network 2 = NODE; pid 1 = CONTAINER (default 0 = POD, shared through a pause container).
        linux: {
          security_context: {
            namespace_options: { network: 2, ...(this.options.ownPidNamespaces ? { pid: 1 } : {}) },
          },
        },
      }),
    );
    const id = crictl(this.socket, ["runp", config]).trim();
    this.sandboxes.push(id);
    return id;
  }

  /** A CRI container in `sandboxId`: created, running (sleep) or exited (true). */
  criContainer(
    sandboxId: string,
    name: string,
    image: string,
    state: "created" | "running" | "exited",
  ): string {
    const pod = join(this.dir, `pod-for-${name}.json`);
    writeFileSync(
      pod,
      JSON.stringify({
        metadata: { name: `p-${name}`, namespace: "kic-agent-it", uid: "u", attempt: 0 },
      }),
    );
    const config = join(this.dir, `container-${name}.json`);
    // `true` can exit before runc reports the start ("container process is already dead").
    const command = state === "exited" ? ["sleep", "1"] : ["sleep", "3600"];
    writeFileSync(
      config,
      JSON.stringify({
        metadata: { name },
        image: { image },
        command,
        linux: this.options.ownPidNamespaces
          ? { security_context: { namespace_options: { network: 2, pid: 1 } } }
          : {},
      }),
    );
    const id = crictl(this.socket, ["create", sandboxId, config, pod]).trim();
    if (state !== "created") crictl(this.socket, ["start", id]);
    if (state === "exited")
      waitFor(
        () =>
          crictl(this.socket, [
            "inspect",
            "-o",
            "go-template",
            "--template",
            "{{.status.state}}",
            id,
          ]).trim() === "CONTAINER_EXITED",
      );
    return id;
  }

  /** A container made with ctr directly: created (no task), running (task), or exited (task gone). */
  ctrContainer(id: string, image: string, state: "created" | "running" | "exited"): string {
    this.ctrContainers.push(id);
    if (state === "created") ctr(this.socket, ["containers", "create", image, id, "sleep", "3600"]);
    else if (state === "running") ctr(this.socket, ["run", "-d", image, id, "sleep", "3600"]);
    else ctr(this.socket, ["run", image, id, "sleep", "1"]);
    return id;
  }

  cleanup(): void {
    for (const id of this.ctrContainers) {
      quiet(() => ctr(this.socket, ["tasks", "kill", "-s", "KILL", id]));
      quiet(() => ctr(this.socket, ["tasks", "rm", "-f", id]));
      quiet(() => ctr(this.socket, ["containers", "rm", id]));
    }
    for (const id of this.sandboxes) {
      // Containers first, killed at once: a stopped pod otherwise waits out each container's grace
      // period (sleep as pid 1 ignores SIGTERM; CRI-O waits 30 s per container).
      quiet(() => {
        const ids = crictl(this.socket, ["ps", "-aq", "--pod", id]).split("\n").filter(Boolean);
        if (ids.length > 0) crictl(this.socket, ["stop", "--timeout", "0", ...ids]);
      });
      quiet(() => crictl(this.socket, ["stopp", id]));
      quiet(() => crictl(this.socket, ["rmp", "-f", id]));
    }
    const present = new Set(this.store.refs());
    const mine = [...this.refs].filter((r) => present.has(r));
    if (mine.length > 0)
      quiet(() => {
        this.store.remove(mine);
      });
    rmSync(this.dir, { recursive: true, force: true });
  }
}

function quiet(fn: () => unknown): void {
  try {
    fn();
  } catch {
    // Cleanup of something already gone (or never made because the test failed earlier).
  }
}

export function waitFor(check: () => boolean, timeoutMs = 30_000): void {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error("timed out waiting for a condition");
    execFileSync("sleep", ["0.2"]);
  }
}
