// Runs runtime clients as argv arrays, never through a shell, either directly or in the host's
// namespaces through nsenter (node-shell style, from a privileged hostPID helper pod).
import { spawn } from "node:child_process";
import { stat } from "node:fs/promises";
import { RuntimeUnavailableError } from "../errors.js";
import type { HostExecMode } from "./result.js";

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
}

export interface HostExec {
  readonly mode: HostExecMode;
  /** Where the node's filesystem is visible to the agent: `/proc/1/root` (nsenter) or "" (direct). */
  readonly hostRoot: string;
  /** Runs `argv` (the program is argv[0]); resolves with its exit code, rejects only if it cannot start. */
  run(argv: readonly string[]): Promise<ExecResult>;
  /** Whether a unix socket exists at `path` as the runtime clients will see it. */
  socketExists(path: string): Promise<boolean>;
}

/** Exit code nsenter (util-linux) uses when the program to run is not found. */
const NOT_FOUND = 127;
const TIMEOUT_MS = 5 * 60_000;
const MAX_OUTPUT = 256 * 1024 * 1024;

export function createHostExec(mode: HostExecMode, nsenterTarget = 1): HostExec {
  const prefix = mode === "nsenter" ? nsenterPrefix(nsenterTarget) : [];
  // In nsenter mode the clients see the target's mount namespace; its /proc root shows it to us too.
  const hostRoot = mode === "nsenter" ? `/proc/${nsenterTarget}/root` : "";
  return {
    mode,
    hostRoot,
    run: (argv) => spawnCollect([...prefix, ...argv]),
    socketExists: async (path) => {
      try {
        return (await stat(`${hostRoot}${path}`)).isSocket();
      } catch {
        // ENOENT, or EACCES on /proc/1/root without privilege: either way not usable from here.
        return false;
      }
    },
  };
}

function spawnCollect(argv: readonly string[]): Promise<ExecResult> {
  const [program, ...args] = argv;
  if (program === undefined) return Promise.reject(new Error("empty command"));
  return new Promise((resolve, reject) => {
    const child = spawn(program, args, { stdio: ["ignore", "pipe", "pipe"] });
    // Own timer rather than spawn's `timeout`: that one is never cleared when the spawn itself
    // fails (ENOENT), and would keep the process alive for the full timeout.
    const timer = setTimeout(() => child.kill("SIGKILL"), TIMEOUT_MS);
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
        code: code ?? (signal ? 128 : 1),
        stdout: Buffer.concat(out).toString("utf8"),
        stderr: signal ? `${stderr}\nkilled by ${signal}` : stderr,
      });
    });
  });
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
