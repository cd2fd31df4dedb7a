// A real Docker Engine (Debian's docker.io, dockerd 20.10) that the agent's docker tests start and
// stop themselves, like test/support/containerd.ts does containerd: its own data root, exec root,
// pid file, config file and socket under a temp dir, and its own containerd (the one dockerd starts
// and stops itself, state under the exec root). It leaves this machine's network alone: no bridge,
// no iptables or ip6tables rules, no masquerading; test containers run with `--network none`.
// Its cgroups live under a parent of their own, removed on stop. Images go in through the Engine
// API's image load (`POST /images/load`) from the archives test/cluster/oci-image.mjs makes (which
// carry Docker's manifest.json beside the OCI layout); the tests set things up with the docker CLI
// of the same package (/usr/bin/docker, pointed at this socket). The agent itself uses no CLI.
import { execFile, execFileSync, spawn, type ChildProcess } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  rmdirSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { type ImageStore, uniqueToken, waitFor } from "./containerd.js";
import { whenAnswering } from "./daemon-ready.js";
import { killPids, removeMountedDir } from "./leftovers.js";

const run = promisify(execFile);

/** Debian's docker.io (test/cluster/install-deps.sh). */
const DOCKERD = "/usr/sbin/dockerd";
/** The CLI of the same package, for setting tests up; a newer one on PATH would do as well. */
const DOCKER_CLI = "/usr/bin/docker";

/**
 * docs/docker-host.md's command on a Docker host, `schedule ... -- agent --client docker`, on a
 * cron that fires once a year: within a test only `--run-now` runs the agent. Its flags follow.
 */
export const scheduleDockerAgentNow = [
  "schedule",
  "--cron",
  "0 3 1 1 *",
  "--run-now",
  "--",
  "agent",
  "--client",
  "docker",
];

export interface StandaloneDockerd {
  socket: string;
  pid: number;
  /** dockerd's own log, for failures. */
  log: string;
  /** The data root (`--data-root`): the image store is under it. */
  dataRoot: string;
  /** As `GET /version` reports it, e.g. "20.10.24+dfsg1". */
  version: string;
  /** The PATH the agent gets in direct mode: this process's own (the docker client runs no program). */
  path: string;
  /** Images in and out of the Engine (load, tag, list, remove). */
  store: ImageStore;
  /** Runs the docker CLI against this Engine; returns its stdout. */
  docker(args: string[]): string;
  /**
   * `docker load` of a large archive (the project's image), without blocking the test worker while
   * the Engine unpacks it.
   */
  load(archive: string): Promise<void>;
  /**
   * A container made from `image` (no network): created, running (sleep), or exited (ran `sleep 1`
   * to its end). Returns its id; `removeContainers()` removes every one made here.
   */
  container(image: string, state: "created" | "running" | "exited"): string;
  removeContainers(): void;
  stop(): void;
}

export async function startDockerd(): Promise<StandaloneDockerd> {
  if (!existsSync(DOCKERD))
    throw new Error(
      `${DOCKERD} is missing: run test/cluster/install-deps.sh (Debian package docker.io)`,
    );
  // Short: containerd's shim sockets live under the exec root (unix socket paths hold 108 bytes).
  const dir = mkdtempSync(join(tmpdir(), "kic-dk-"));
  const socket = join(dir, "docker.sock");
  const dataRoot = join(dir, "data");
  const log = join(dir, "dockerd.log");
  const cgroupParent = `kic-dockerd-${uniqueToken()}`;
  const madeRunDocker = !existsSync("/run/docker");
  // Its own config file, so /etc/docker/daemon.json is not read; and its identity key in the temp
  // dir (dockerd 20.10 writes /etc/docker/key.json otherwise).
  writeFileSync(
    join(dir, "daemon.json"),
    JSON.stringify({ "deprecated-key-path": join(dir, "key.json") }),
  );
  mkdirSync(join(dir, "cli"));
  const out = openSync(log, "a");
  const proc: ChildProcess = spawn(
    DOCKERD,
    [
      "--config-file",
      join(dir, "daemon.json"),
      "--data-root",
      dataRoot,
      "--exec-root",
      join(dir, "exec"),
      "--pidfile",
      join(dir, "dockerd.pid"),
      "--host",
      `unix://${socket}`,
      "--bridge=none",
      "--iptables=false",
      "--ip6tables=false",
      "--ip-masq=false",
      "--cgroup-parent",
      `/${cgroupParent}`,
      "--shutdown-timeout",
      "2",
    ],
    { stdio: ["ignore", out, out] },
  );
  // The CLI's own config dir (no ~/.docker), and this Engine.
  const cliEnv = {
    ...process.env,
    DOCKER_HOST: `unix://${socket}`,
    DOCKER_CONFIG: join(dir, "cli"),
  };
  const docker = (args: string[]) =>
    execFileSync(DOCKER_CLI, args, {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "pipe"],
      env: cliEnv,
    });
  const containers: string[] = [];
  const removeContainers = () => {
    const ids = containers.splice(0);
    if (ids.length > 0) quiet(() => docker(["rm", "--force", "--volumes", ...ids]));
  };
  const instance: StandaloneDockerd = {
    socket,
    pid: proc.pid ?? 0,
    log,
    dataRoot,
    version: "",
    path: process.env.PATH ?? "/usr/bin:/bin",
    docker,
    load: async (archive) => {
      await run(DOCKER_CLI, ["load", "--quiet", "--input", archive], { env: cliEnv });
    },
    store: {
      import: (archive) => {
        // `docker load` is POST /images/load; the archive's manifest.json names the images.
        docker(["load", "--quiet", "--input", archive]);
      },
      tag: (source, target) => {
        docker(["tag", source, target]);
      },
      refs: () =>
        docker([
          "image",
          "ls",
          "--all",
          "--no-trunc",
          "--format",
          "{{.ID}} {{.Repository}}:{{.Tag}}",
        ])
          .split("\n")
          .flatMap((line) => line.split(" "))
          .filter((r) => r !== "" && !r.includes("<none>")),
      remove: (refs) => {
        // Test cleanup only (the agent never forces): tags and ids of images the tests made.
        docker(["rmi", "--force", ...refs]);
      },
    },
    container: (image, state) => {
      const name = `kic-${uniqueToken()}`;
      const base = ["--name", name, "--network", "none", "--stop-timeout", "1", image];
      let id: string;
      if (state === "created") id = docker(["create", ...base, "sleep", "3600"]).trim();
      else if (state === "running")
        id = docker(["run", "--detach", ...base, "sleep", "3600"]).trim();
      else {
        id = docker(["create", ...base, "sleep", "1"]).trim();
        docker(["start", "--attach", id]);
      }
      containers.push(id);
      if (state === "exited")
        waitFor(() => docker(["inspect", "--format", "{{.State.Status}}", id]).trim() === "exited");
      return id;
    },
    removeContainers,
    stop: () => {
      stopDockerd(proc, dir, cgroupParent, removeContainers, madeRunDocker);
    },
  };
  instance.version = await whenAnswering(
    "dockerd",
    {
      proc,
      log,
      stop: () => {
        instance.stop();
      },
    },
    () => docker(["version", "--format", "{{.Server.Version}}"]).trim(),
  );
  return instance;
}

/**
 * Containers first (killed at once: a test's `sleep` ignores SIGTERM, and dockerd would wait out
 * each one's stop timeout), then dockerd with SIGTERM, which stops its containerd; whatever of this
 * instance still runs (named by the temp dir on its command line) is killed, mounts under the dir
 * are undone deepest first, the cgroups it made removed, the dir deleted.
 */
function stopDockerd(
  proc: ChildProcess,
  dir: string,
  cgroupParent: string,
  removeContainers: () => void,
  madeRunDocker: boolean,
): void {
  removeContainers();
  if (proc.exitCode === null) {
    proc.kill("SIGTERM");
    try {
      waitFor(() => !existsSync(`/proc/${String(proc.pid)}`) || isZombie(proc.pid), 30_000);
    } catch {
      proc.kill("SIGKILL");
    }
  }
  killPids(processesMentioning(dir));
  removeMountedDir(dir);
  removeCgroups(cgroupParent);
  // dockerd makes its plugin socket directory there whatever its exec root; made by this instance,
  // it goes again while empty (rmdir refuses otherwise: another Engine's plugins keep it).
  if (madeRunDocker)
    for (const d of ["/run/docker/plugins", "/run/docker"])
      quiet(() => {
        rmdirSync(d);
      });
}

/** dockerd's child exits, but stays a zombie until Node reaps it. */
function isZombie(pid: number | undefined): boolean {
  try {
    return /^\d+ \(.*\) Z/.test(readFileSync(`/proc/${String(pid)}/stat`, "utf8"));
  } catch {
    // Gone while we looked.
    return true;
  }
}

/** Pids whose command line names `dir`: this instance's containerd and shims. */
function processesMentioning(dir: string): number[] {
  return readdirSync("/proc")
    .filter((p) => /^\d+$/.test(p))
    .filter((pid) => {
      try {
        return readFileSync(`/proc/${pid}/cmdline`, "utf8").includes(dir);
      } catch {
        // The process ended while we looked.
        return false;
      }
    })
    .map(Number);
}

/** The parent cgroup in every v1 hierarchy (and v2), children first; containers removed theirs. */
function removeCgroups(parent: string): void {
  const roots = existsSync("/sys/fs/cgroup/cgroup.controllers")
    ? ["/sys/fs/cgroup"]
    : readdirSync("/sys/fs/cgroup").map((h) => join("/sys/fs/cgroup", h));
  for (const root of roots) {
    const top = join(root, parent);
    if (!existsSync(top)) continue;
    for (const child of readdirSync(top, { withFileTypes: true }))
      if (child.isDirectory())
        quiet(() => {
          rmdirSync(join(top, child.name));
        });
    quiet(() => {
      rmdirSync(top);
    });
  }
}

function quiet(fn: () => unknown): void {
  try {
    fn();
  } catch {
    // Cleanup of something already gone (or never made because a test failed earlier).
  }
}
