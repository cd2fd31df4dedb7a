// Holding an agent inside one removal call, deterministically: the test finds the runtime client's
// removal process (crictl rmi, ctr images rm) for its images in /proc as soon as it runs, stops it
// (SIGSTOP), does what it needs while the agent waits on that call, and lets it go (SIGCONT). The
// node's processes are this machine's, for a standalone runtime and for the local cluster alike.
import { readdirSync, readFileSync } from "node:fs";

/** What a removal call may name an image by. */
export interface NamedImage {
  id: string;
  name: string;
}

/** A process's argv ([] once it has exited). */
export function argvOf(pid: number | string): string[] {
  try {
    return readFileSync(`/proc/${String(pid)}/cmdline`, "utf8").split("\0");
  } catch {
    return []; // exited meanwhile
  }
}

/** Whether a process's argv is a removal call naming one of `images` (crictl rmi, ctr images rm). */
function removes(argv: string[], images: readonly NamedImage[]): boolean {
  const removal = argv.includes("rmi") || (argv.includes("images") && argv.includes("rm"));
  return removal && images.some((i) => argv.includes(i.id) || argv.includes(i.name));
}

/**
 * Stops the first removal call naming one of `images` as soon as it runs, with the processes
 * around it that match too (nsenter); their pids. Gives up after 2 minutes.
 */
export async function holdRemoval(images: readonly NamedImage[]): Promise<number[]> {
  const until = Date.now() + 120_000;
  while (Date.now() < until) {
    const stopped = readdirSync("/proc")
      .filter((d) => /^\d+$/.test(d))
      .filter((d) => removes(argvOf(d), images))
      .map(Number)
      .filter((pid) => {
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
  throw new Error("no removal call naming the images was seen within 2 minutes");
}

/** A process's state letter and parent pid from /proc/PID/stat (undefined once it has exited). */
function statOf(pid: number): { state: string; ppid: number } | undefined {
  try {
    // "pid (comm) state ppid ...": comm may hold spaces, so read after its ")".
    const stat = readFileSync(`/proc/${String(pid)}/stat`, "utf8");
    const [state = "", ppid = ""] = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return { state, ppid: Number(ppid) };
  } catch {
    return undefined;
  }
}

function cont(pid: number): void {
  try {
    process.kill(pid, "SIGCONT");
  } catch {
    // Ended (killed with its container): nothing to resume.
  }
}

/** How long a released nsenter is watched for stopping itself again. */
const RELEASE_WATCH_MS = 5000;

/**
 * Lets the held processes go on, children before their parents. nsenter (util-linux) waits for its
 * child with WUNTRACED, and when that wait reports the child stopped it stops itself, resuming the
 * child only once it is continued in turn. When the hold's SIGSTOP reached nsenter just after its
 * wait had taken in the child's stop, nsenter, continued, stops itself again for good, and the
 * agent waits forever on a call whose client has already exited (late-pod.test.ts hung so: nsenter
 * stopped, its ctr a zombie). So the held processes are watched for a few seconds and continued
 * again whenever one is found stopped.
 */
export function releaseHeld(pids: readonly number[]): void {
  const held = new Set(pids);
  const children = pids.filter((pid) => held.has(statOf(pid)?.ppid ?? -1));
  const parents = pids.filter((pid) => !children.includes(pid));
  for (const pid of [...children, ...parents]) cont(pid);
  const until = Date.now() + RELEASE_WATCH_MS;
  const watch = setInterval(() => {
    for (const pid of pids) if (statOf(pid)?.state === "T") cont(pid);
    if (Date.now() > until) clearInterval(watch);
  }, 20);
  watch.unref();
}
