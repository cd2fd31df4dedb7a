// Holds an agent inside one removal call, at a known point whatever this machine's speed: the
// cluster's node is this machine, so the agent's `ctr images rm` (and the nsenter around it) are
// processes here that a test can stop (SIGSTOP) and let go (SIGCONT). Used by the cluster tests
// that need something to happen while an agent is between two batches.
import { readdirSync, readFileSync } from "node:fs";

/** Whether a process's argv is a removal call naming one of `names` (crictl rmi, ctr images rm). */
function removes(argv: string[], names: readonly string[]): boolean {
  const removal = argv.includes("rmi") || (argv.includes("images") && argv.includes("rm"));
  return removal && names.some((n) => argv.includes(n));
}

export function argvOf(pid: number | string): string[] {
  try {
    return readFileSync(`/proc/${String(pid)}/cmdline`, "utf8").split("\0");
  } catch {
    return []; // exited meanwhile
  }
}

/**
 * Stops (SIGSTOP) the agent's removal call, and the nsenter around it, as soon as one naming any
 * of `names` (image names or ids) runs on this machine; its pids. The agent then waits on it, one
 * batch logged as started, until `release`.
 */
export async function holdRemoval(names: readonly string[]): Promise<number[]> {
  const until = Date.now() + 120_000;
  while (Date.now() < until) {
    const pids = readdirSync("/proc")
      .filter((d) => /^\d+$/.test(d))
      .filter((d) => removes(argvOf(d), names))
      .map(Number);
    const stopped = pids.filter((pid) => {
      try {
        process.kill(pid, "SIGSTOP");
        return true;
      } catch {
        return false; // it ended before the signal: wait for the next batch's call
      }
    });
    if (stopped.length > 0) return stopped;
    await new Promise((r) => setTimeout(r, 5));
  }
  throw new Error("no removal call of the agent was seen within 2 minutes");
}

export function release(pids: readonly number[]): void {
  for (const pid of pids) {
    try {
      process.kill(pid, "SIGCONT");
    } catch {
      // Ended (killed with its container): nothing to resume.
    }
  }
}
