// Waiting for a runtime daemon started in temp dirs (containerd, CRI-O, a Docker Engine) to answer
// on its socket: one loop for all three, so each fails the same way, with the daemon's own log.
import type { ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";

/**
 * Calls `ask` (a cheap call through the socket, such as `version`) until it answers, every
 * `everyMs`, for 60 s at most; returns its answer. When the daemon exits first or time runs out:
 * `stop()`s it and throws, naming `what` and quoting the last `tail` characters of its `log`.
 */
export async function whenAnswering<T>(
  what: string,
  daemon: { proc: ChildProcess; log: string; stop: () => void },
  ask: () => T,
  opts: { everyMs?: number; tail?: number } = {},
): Promise<T> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      return ask();
    } catch {
      // Not listening yet (or died: checked next).
      if (daemon.proc.exitCode !== null || Date.now() > deadline) {
        daemon.stop();
        throw new Error(
          `${what} did not start; its log:\n${readFileSync(daemon.log, "utf8").slice(-(opts.tail ?? 3000))}`,
        );
      }
      await new Promise((r) => setTimeout(r, opts.everyMs ?? 200));
    }
  }
}
