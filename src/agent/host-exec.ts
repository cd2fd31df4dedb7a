// Runs runtime clients as argv arrays, never through a shell, either directly or in the host's
// namespaces through nsenter (node-shell style, from a privileged hostPID helper pod).
import { spawn } from "node:child_process";
import { lstat, readlink, stat } from "node:fs/promises";
import { RuntimeUnavailableError } from "../errors.js";
import type { ChosenTarget } from "./nsenter-target.js";
import type { HostExecMode } from "../run-model/agent-result.js";

/** nsenter into the namespaces of `target` (pid 1: the node's init, seen through hostPID). */
export function nsenterPrefix(target = 1): string[] {
  return [
    "nsenter",
    "--target",
    String(target),
    "--mount",
    "--uts",
    "--ipc",
    "--net",
    "--pid",
    "--",
  ];
}
const NSENTER_ARGS = nsenterPrefix().length;

export interface ExecResult {
  code: number;
  stdout: string;
  stderr: string;
  /** Killed because it outlived its timeout (the deadline's share, or the call's own limit). */
  timedOut?: true;
}

export interface HostExec {
  readonly mode: HostExecMode;
  /** The process whose namespaces nsenter enters (nsenter mode only). */
  readonly target?: ChosenTarget;
  /** Where the node's filesystem is visible to the agent: `/proc/1/root` (nsenter) or "" (direct, socket). */
  readonly hostRoot: string;
  /**
   * Runs `argv` (the program is argv[0]); resolves with its exit code, rejects only if it cannot
   * start. A call that outlives its timeout is killed with everything it started and exits 137.
   * `env` is added to the agent's own environment: how a secret reaches a client (a process's
   * environment is readable by its owner and root only; its argv by every user of the node).
   */
  run(argv: readonly string[], options?: RunOptions): Promise<ExecResult>;
  /** How long a client call may take now (the Engine API client's calls too): shortened by the deadline. */
  callTimeoutMs(): number;
  /** Whether a unix socket exists at `path` as the runtime clients will see it. */
  socketExists(path: string): Promise<boolean>;
  /**
   * Where the agent itself opens a node path (the Docker Engine's socket, its image store): through
   * `hostRoot`, with the node's symlinks resolved within the node's root.
   */
  hostPath(path: string): Promise<string>;
  /**
   * Whether a file or symlink exists at `path` as the clients will see it. Not followed: through
   * /proc/1/root an absolute symlink (RKE2's bin/crictl) would resolve in the agent's own root.
   */
  fileExists(path: string): Promise<boolean>;
}

export interface RunOptions {
  env?: Readonly<Record<string, string>>;
  /**
   * This call's own limit instead of CLIENT_TIMEOUT_MS, still cut short by the deadline: a pull of
   * a large image may rightly take longer than any other client call.
   */
  timeoutMs?: number;
}

/** Exit code nsenter (util-linux) uses when the program to run is not found. */
const NOT_FOUND = 127;
/** @default 5 minutes: the longest one client call may take. */
export const CLIENT_TIMEOUT_MS = 5 * 60_000;
const MAX_OUTPUT = 256 * 1024 * 1024;

export interface HostExecOptions {
  /** Upper bound of one client call. @default CLIENT_TIMEOUT_MS */
  timeoutMs?: number;
  /** Epoch ms after which no call may run on (the agent's --deadline): calls get what is left. */
  deadlineMs?: number;
  now?: () => number;
  /**
   * Run before every nsenter: re-verifies that the target is still the process chosen at start and
   * still the node's runtime (`resolveGuardedTarget`); rejects, and nothing is run, when it is not.
   */
  verifyTarget?: () => Promise<void>;
}

export function createHostExec(
  mode: HostExecMode,
  target: ChosenTarget = { pid: 1 },
  options: HostExecOptions = {},
): HostExec {
  const prefix = mode === "nsenter" ? nsenterPrefix(target.pid) : [];
  // In nsenter mode the clients see the target's mount namespace; its /proc root shows it to us too.
  const hostRoot = mode === "nsenter" ? `/proc/${String(target.pid)}/root` : "";
  const now = options.now ?? Date.now;
  const timeout = (own?: number) => {
    const limit = own ?? options.timeoutMs ?? CLIENT_TIMEOUT_MS;
    // Past the deadline a call still gets a second: enough for a quick answer, never a long wait.
    return options.deadlineMs === undefined
      ? limit
      : Math.max(1000, Math.min(limit, options.deadlineMs - now()));
  };
  return {
    mode,
    ...(mode === "nsenter" ? { target } : {}),
    hostRoot,
    run: async (argv, runOptions) => {
      // A pid can be reused after the runtime restarts: check it again right before entering it.
      if (mode === "nsenter") await options.verifyTarget?.();
      return spawnCollect([...prefix, ...argv], timeout(runOptions?.timeoutMs), runOptions?.env);
    },
    callTimeoutMs: () => timeout(),
    socketExists: async (path) => {
      try {
        return (await stat(await resolveInRoot(hostRoot, path))).isSocket();
      } catch {
        // ENOENT, or EACCES on /proc/1/root without privilege: either way not usable from here.
        return false;
      }
    },
    hostPath: (path) => resolveInRoot(hostRoot, path),
    fileExists: async (path) => {
      try {
        const s = await lstat(await resolveInRoot(hostRoot, path, { followLast: false }));
        return s.isFile() || s.isSymbolicLink();
      } catch {
        // As above: absent, or not visible from here.
        return false;
      }
    },
  };
}

/** Symbolic links followed on one path before it counts as a loop (as Linux's MAXSYMLINKS). */
const MAX_LINKS = 40;

/**
 * `path` of the filesystem seen at `root` ("" or `/proc/<pid>/root`), as this process can open it.
 * Through `/proc/<pid>/root` the kernel resolves an absolute symbolic link in this process's own root,
 * not the node's: `/var/run` (a link to `/run` on most distributions) would lead into the agent's
 * container. So each link is read and followed here, within `root`. `followLast: false` leaves the
 * last component as it is (to see a link itself). A component that is not there ends the walk: the
 * rest is returned as given, for the caller's own ENOENT.
 */
export async function resolveInRoot(
  root: string,
  path: string,
  options: { followLast?: boolean } = {},
): Promise<string> {
  if (root === "") return path;
  const followLast = options.followLast ?? true;
  let done: string[] = [];
  let todo = path.split("/").filter((p) => p !== "" && p !== ".");
  for (let links = 0; todo.length > 0;) {
    const [head = "", ...rest] = todo;
    todo = rest;
    if (head === "..") {
      done.pop();
      continue;
    }
    const full = `${root}/${[...done, head].join("/")}`;
    let target: string | undefined;
    try {
      const info = await lstat(full);
      if (info.isSymbolicLink() && (followLast || todo.length > 0)) target = await readlink(full);
    } catch {
      // Not there (or not visible): nothing further to resolve.
      return `${root}/${[...done, head, ...todo].join("/")}`;
    }
    if (target === undefined) {
      done.push(head);
      continue;
    }
    if (++links > MAX_LINKS) return `${root}/${[...done, head, ...todo].join("/")}`;
    if (target.startsWith("/")) done = [];
    todo = [...target.split("/").filter((p) => p !== "" && p !== "."), ...todo];
  }
  return `${root}/${done.join("/")}`;
}

function spawnCollect(
  argv: readonly string[],
  timeoutMs: number,
  env?: Readonly<Record<string, string>>,
): Promise<ExecResult> {
  const [program, ...args] = argv;
  if (program === undefined) return Promise.reject(new Error("empty command"));
  return new Promise((resolve, reject) => {
    // Detached: the child leads a process group of its own. `nsenter --pid` forks the client; killing
    // only nsenter would leave that client running on the node, deleting on after its timeout.
    const child = spawn(program, args, {
      stdio: ["ignore", "pipe", "pipe"],
      detached: true,
      ...(env === undefined ? {} : { env: { ...process.env, ...env } }),
    });
    let timedOut = false;
    // Own timer rather than spawn's `timeout`: that one is never cleared when the spawn itself
    // fails (ENOENT), and would keep the process alive for the full timeout; it also kills only
    // the child, not its group.
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup(child.pid);
    }, timeoutMs);
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let size = 0;
    const collect = (into: Buffer[]) => (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_OUTPUT) into.push(chunk);
    };
    child.stdout.on("data", collect(out));
    child.stderr.on("data", collect(err));
    child.on("error", (e: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      if (e.code === "ENOENT") reject(new CommandNotFoundError(program));
      else reject(e);
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      const stderr = Buffer.concat(err).toString("utf8");
      if (code === NOT_FOUND && program === "nsenter" && /failed to execute/.test(stderr)) {
        reject(
          new CommandNotFoundError(args[NSENTER_ARGS - 1] ?? "?", "the node (through nsenter)"),
        );
        return;
      }
      resolve({
        code: code ?? (signal ? 128 + (signal === "SIGKILL" ? 9 : 15) : 1),
        stdout: Buffer.concat(out).toString("utf8"),
        stderr: timedOut
          ? `${stderr}\ntimed out after ${String(Math.round(timeoutMs / 1000))} s: killed`
          : signal
            ? `${stderr}\nkilled by ${signal}`
            : stderr,
        ...(timedOut ? { timedOut: true as const } : {}),
      });
    });
  });
}

function killGroup(pid: number | undefined): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, "SIGKILL");
  } catch {
    // The group is gone already (the call ended as the timer fired).
  }
}

/** The client binary (or nsenter itself) is not installed where it is looked for. */
export class CommandNotFoundError extends RuntimeUnavailableError {
  constructor(
    readonly program: string,
    where = "this container's PATH",
  ) {
    super(`${program} not found on ${where}`);
    this.name = "CommandNotFoundError";
  }
}

/** Runs argv and returns stdout; a non-zero exit becomes an error carrying stderr. */
export async function runChecked(exec: HostExec, argv: readonly string[]): Promise<string> {
  const r = await exec.run(argv);
  if (r.code !== 0) throw new CommandFailedError(argv, r);
  return r.stdout;
}

export class CommandFailedError extends Error {
  constructor(
    readonly argv: readonly string[],
    readonly result: ExecResult,
  ) {
    super(`${argv.slice(0, 2).join(" ")} ... exited ${result.code}: ${lastLines(result.stderr)}`);
    this.name = "CommandFailedError";
  }
}

/** The meaningful end of a client's stderr, one line (crictl prefixes config warnings). */
export function lastLines(stderr: string): string {
  const lines = stderr
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l !== "" && !/Config ".*" does not exist/.test(l));
  return lines.slice(-2).join(" | ") || "(no output)";
}
