// Which process's namespaces `--host-exec nsenter` enters. On a real node that is pid 1 (the node's
// init, visible through hostPID). Where pid 1 is not the host's init or may not be opened (a
// sandboxed VM, some dev clusters), the operator names the runtime daemon instead, e.g.
// `--nsenter-target containerd`.
//
// A name is not proof: with hostPID the agent sees every tenant's processes, and any pod can run a
// process called `containerd` (and bind a socket at the usual path in its own mount namespace).
// Entering it would run the tenant's `crictl` as host root. So a target other than pid 1 is taken
// only when it is provably the node's runtime: in the host pid namespace, not in a pod's cgroup,
// uid 0, and holding the LISTENING runtime socket among its open files. The socket decides: of the
// processes with that name, the one that owns the socket is chosen, whatever its pid.
import { readdir, readFile, readlink } from "node:fs/promises";
import type { NsenterTarget } from "../config/nsenter-target.js";
import { RuntimeUnavailableError } from "../errors.js";

/** What /proc tells about one process; `undefined` where it could not be read. */
export interface ProcessFacts {
  pid: number;
  comm: string | undefined;
  /** Real and effective uid (`/proc/PID/status`). */
  uids: readonly number[] | undefined;
  /** `pid:[4026531836]` (`readlink /proc/PID/ns/pid`). */
  pidNs: string | undefined;
  /** `/proc/PID/cgroup` as text. */
  cgroup: string | undefined;
  /** Paths of the listening unix sockets the process has open (its net namespace's view). */
  listening: readonly string[];
}

/** The agent's view of the host, to judge targets against. */
export interface HostView {
  /** Pid namespaces a host process may be in: the agent's own (hostPID) and pid 1's where readable. */
  pidNs: readonly string[];
  /** The runtime sockets a target may own: --socket, or the usual paths. */
  sockets: readonly string[];
}

export type Verdict = { ok: true; socket: string } | { ok: false; reasons: string[] };

/** Cgroup path segments kubelet and the CRI runtimes give to pods and their containers. */
const POD_CGROUP =
  /(^|\/)(kubepods\b[^/]*|(cri-containerd|crio|docker|libpod)-[0-9a-f]{12,}\.scope)(\/|$)/;

/** `/var/run` is `/run` on every current distribution; a socket bound at either is the same. */
function sameSocket(a: string, b: string): boolean {
  const norm = (p: string) => p.replace(/^\/var\/run\//, "/run/");
  return norm(a) === norm(b);
}

/** Pure: whether `facts` are those of the node's runtime, and if not, every reason why not. */
export function judgeTarget(facts: ProcessFacts, host: HostView): Verdict {
  const reasons: string[] = [];
  if (facts.pidNs === undefined) reasons.push("its pid namespace cannot be read");
  else if (!host.pidNs.includes(facts.pidNs))
    reasons.push(
      `not in the host pid namespace (${facts.pidNs}; the host's is ${host.pidNs.join(" / ")})`,
    );
  if (facts.cgroup === undefined) reasons.push("its cgroup cannot be read");
  else {
    const pod = facts.cgroup
      .split("\n")
      .map((l) => l.slice(l.indexOf(":", l.indexOf(":") + 1) + 1))
      .find((path) => POD_CGROUP.test(path));
    if (pod !== undefined) reasons.push(`in a pod's cgroup (${pod})`);
  }
  if (facts.uids === undefined) reasons.push("its uid cannot be read");
  else if (facts.uids.some((u) => u !== 0)) reasons.push(`not uid 0 (uid ${facts.uids.join("/")})`);
  const socket = host.sockets.find((s) => facts.listening.some((l) => sameSocket(l, s)));
  if (socket === undefined)
    reasons.push(`does not own a listening socket at ${host.sockets.join(" or ")}`);
  return reasons.length === 0 && socket !== undefined
    ? { ok: true, socket }
    : { ok: false, reasons };
}

const readText = (path: string) => readFile(path, "utf8").catch(() => undefined);

/** Reads the facts of one process; fields it may not read stay undefined (and fail the judgement). */
export async function readProcessFacts(
  pid: number,
  sockets: readonly string[],
  proc = "/proc",
): Promise<ProcessFacts> {
  const dir = `${proc}/${String(pid)}`;
  const [comm, status, cgroup, pidNs, unix] = await Promise.all([
    readText(`${dir}/comm`),
    readText(`${dir}/status`),
    readText(`${dir}/cgroup`),
    readlink(`${dir}/ns/pid`).catch(() => undefined),
    readText(`${dir}/net/unix`),
  ]);
  const uidLine = /^Uid:\s+(\d+)\s+(\d+)/m.exec(status ?? "");
  return {
    pid,
    comm: comm?.trim(),
    uids: uidLine ? [Number(uidLine[1]), Number(uidLine[2])] : undefined,
    pidNs,
    cgroup,
    listening: await listeningSockets(dir, unix ?? "", sockets),
  };
}

/** `__SO_ACCEPTCON`: the socket listens. */
const ACCEPTCON = 0x10000;

/** The wanted socket paths that `dir`'s process listens on: inode in net/unix, and open in fd/. */
async function listeningSockets(
  dir: string,
  netUnix: string,
  sockets: readonly string[],
): Promise<string[]> {
  // Num RefCount Protocol Flags Type St Inode Path
  const byInode = new Map<string, string>();
  for (const line of netUnix.split("\n").slice(1)) {
    const f = line.trim().split(/\s+/);
    const [flags, inode, path] = [f[3], f[6], f.slice(7).join(" ")];
    if (flags === undefined || inode === undefined || path === "") continue;
    if ((parseInt(flags, 16) & ACCEPTCON) === 0) continue;
    if (sockets.some((s) => sameSocket(s, path))) byInode.set(inode, path);
  }
  if (byInode.size === 0) return [];
  const fds = await readdir(`${dir}/fd`).catch(() => [] as string[]);
  const owned = new Set<string>();
  for (const fd of fds) {
    const link = await readlink(`${dir}/fd/${fd}`).catch(() => "");
    const inode = /^socket:\[(\d+)\]$/.exec(link)?.[1];
    const path = inode === undefined ? undefined : byInode.get(inode);
    if (path !== undefined) owned.add(path);
  }
  return [...owned];
}

/** The agent's own pid namespace and pid 1's (where it may be read): what "host" means here. */
export async function readHostView(sockets: readonly string[], proc = "/proc"): Promise<HostView> {
  const own = await readlink(`${proc}/self/ns/pid`).catch(() => undefined);
  const init = await readlink(`${proc}/1/ns/pid`).catch(() => undefined);
  return { pidNs: [...new Set([own, init].filter((n): n is string => n !== undefined))], sockets };
}

export interface ChosenTarget {
  pid: number;
  comm?: string;
  /** The runtime socket the target was proven to own (not for pid 1, the node's init). */
  socket?: string;
}

/**
 * Resolves `--nsenter-target` to a process that is provably the node's runtime (see the top of this
 * file). Pid 1 is the node's init by definition of hostPID and is taken as it is. Throws, naming
 * each candidate and why it was refused, when no process qualifies.
 */
export async function resolveNsenterTarget(
  target: NsenterTarget,
  sockets: readonly string[],
  proc = "/proc",
): Promise<ChosenTarget> {
  if (target === 1) return { pid: 1 };
  const host = await readHostView(sockets, proc);
  const judge = async (pid: number) => {
    const facts = await readProcessFacts(pid, sockets, proc);
    return { facts, verdict: judgeTarget(facts, host) };
  };
  const refuse = (what: string, refused: { pid: number; reasons: string[] }[]) =>
    new RuntimeUnavailableError(
      `--nsenter-target ${String(target)}: ${what}, refused: ${refused
        .slice(0, 5)
        .map((r) => `pid ${String(r.pid)} (${r.reasons.join("; ")})`)
        .join(", ")}${refused.length > 5 ? `, and ${String(refused.length - 5)} more` : ""}. ` +
        `Entering it would run that process's clients as root on the node. Give the pid of the ` +
        `runtime daemon that listens on the runtime socket (check --socket), or --nsenter-target 1`,
    );

  if (typeof target === "number") {
    const { facts, verdict } = await judge(target);
    if (verdict.ok) return chosen(facts, verdict.socket);
    throw refuse("not provably the node's runtime", [{ pid: target, reasons: verdict.reasons }]);
  }

  const pids = (await readdir(proc))
    .filter((entry) => /^\d+$/.test(entry))
    .map(Number)
    .sort((a, b) => a - b);
  const refused: { pid: number; reasons: string[] }[] = [];
  for (const pid of pids) {
    const comm = await readText(`${proc}/${String(pid)}/comm`);
    // Undefined: the process ended between readdir and readFile; not the one we look for.
    if (comm?.trim() !== target) continue;
    const { facts, verdict } = await judge(pid);
    if (verdict.ok) return chosen(facts, verdict.socket);
    refused.push({ pid, reasons: verdict.reasons });
  }
  if (refused.length > 0)
    throw refuse(`no process named "${target}" is provably the node's runtime`, refused);
  throw new RuntimeUnavailableError(
    `--nsenter-target ${target}: no process named "${target}" is visible from the agent ` +
      `(the helper pod needs hostPID: true; or give a pid, e.g. --nsenter-target 1)`,
  );
}

function chosen(facts: ProcessFacts, socket: string): ChosenTarget {
  return { pid: facts.pid, ...(facts.comm === undefined ? {} : { comm: facts.comm }), socket };
}
