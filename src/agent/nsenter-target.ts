// Which process's namespaces `--host-exec nsenter` enters. On a real node that is pid 1 (the node's
// init, visible through hostPID). Where pid 1 is not the host's init or may not be opened (a
// sandboxed VM, some dev clusters), the operator names the runtime daemon instead, e.g.
// `--nsenter-target containerd`.
//
// A name is not proof: with hostPID the agent sees every tenant's processes, and any pod can run a
// process called `containerd` (and bind a socket at the usual path in its own mount namespace).
// Entering it would run the tenant's `crictl` as host root. So a target other than pid 1 is taken
// only when it is provably the node's runtime: in the host pid namespace, in the host's cgroup and
// mount namespaces (the same namespaces as pid 1, the host's init under hostPID), not in a pod's
// cgroup, uid 0, and holding the LISTENING runtime socket among its open files. The socket decides:
// of the processes with that name, the one that owns the socket is chosen, whatever its pid.
//
// Namespaces, not paths: /proc/PID/cgroup shows paths relative to the READER's cgroup namespace, so
// from an agent in a private cgroup namespace (cgroup v2, containerd's default) a pod's process
// reads `0::/../../pod<uid>/<id>`, which no pattern of pod cgroups recognises. Namespace identity
// (`readlink /proc/PID/ns/cgroup`) does not depend on the reader. And a pid is re-verified before
// every nsenter (`guardTarget`): after the runtime restarts, its old pid may be another process's.
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
  /** `cgroup:[4026531835]` (`readlink /proc/PID/ns/cgroup`). */
  cgroupNs: string | undefined;
  /** `mnt:[4026531840]` (`readlink /proc/PID/ns/mnt`). */
  mntNs: string | undefined;
  /** Start time in clock ticks since boot (`/proc/PID/stat` field 22): a pid reused has another. */
  startTime: string | undefined;
  /** Paths of the listening unix sockets the process has open (its net namespace's view). */
  listening: readonly string[];
}

/** The agent's view of the host, to judge targets against. */
export interface HostView {
  /** Pid namespaces a host process may be in: the agent's own (hostPID) and pid 1's where readable. */
  pidNs: readonly string[];
  /** The host's cgroup and mount namespaces: pid 1's, or the agent's own where pid 1's cannot be read. */
  cgroupNs: HostNamespace;
  mntNs: HostNamespace;
  /** The runtime sockets a target may own: --socket, or the usual paths. */
  sockets: readonly string[];
}

/** One of the host's namespaces and whose it is. */
export interface HostNamespace {
  link: string | undefined;
  /** `pid 1`, or `the agent` where pid 1's could not be read (a sandboxed init; fails closed in a pod). */
  from: "pid 1" | "pid 2" | "the agent";
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
  for (const [kind, theirs, host_] of [
    ["cgroup", facts.cgroupNs, host.cgroupNs],
    ["mount", facts.mntNs, host.mntNs],
  ] as const) {
    if (host_.link === undefined)
      reasons.push(`the host's ${kind} namespace cannot be read (neither pid 1's nor the agent's)`);
    else if (theirs === undefined) reasons.push(`its ${kind} namespace cannot be read`);
    else if (theirs !== host_.link)
      reasons.push(
        `not in the host ${kind} namespace (${theirs}; ${HOST_NS_FROM[host_.from]} is ${host_.link})`,
      );
  }
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
  const link = (ns: string) => readlink(`${dir}/ns/${ns}`).catch(() => undefined);
  const [comm, status, cgroup, pidNs, cgroupNs, mntNs, stat, unix] = await Promise.all([
    readText(`${dir}/comm`),
    readText(`${dir}/status`),
    readText(`${dir}/cgroup`),
    link("pid"),
    link("cgroup"),
    link("mnt"),
    readText(`${dir}/stat`),
    readText(`${dir}/net/unix`),
  ]);
  const uidLine = /^Uid:\s+(\d+)\s+(\d+)/m.exec(status ?? "");
  return {
    pid,
    comm: comm?.trim(),
    uids: uidLine ? [Number(uidLine[1]), Number(uidLine[2])] : undefined,
    pidNs,
    cgroup,
    cgroupNs,
    mntNs,
    startTime: startTimeOf(stat),
    listening: await listeningSockets(dir, unix ?? "", sockets),
  };
}

/** Field 22 of /proc/PID/stat; the command (field 2) may hold spaces and parentheses, so after the last ")". */
function startTimeOf(stat: string | undefined): string | undefined {
  if (stat === undefined) return undefined;
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  // Fields from 3 on: field 22 is index 19.
  return fields[19];
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
  // All at once: a runtime holds hundreds of descriptors, and this runs before every nsenter.
  const links = await Promise.all(fds.map((fd) => readlink(`${dir}/fd/${fd}`).catch(() => "")));
  const owned = new Set<string>();
  for (const link of links) {
    const inode = /^socket:\[(\d+)\]$/.exec(link)?.[1];
    const path = inode === undefined ? undefined : byInode.get(inode);
    if (path !== undefined) owned.add(path);
  }
  return [...owned];
}

const HOST_NS_FROM: Record<HostNamespace["from"], string> = {
  "pid 1": "pid 1's",
  "pid 2": "the kernel threads' (pid 2), as pid 1's cannot be read,",
  "the agent": "the agent's own, as pid 1's cannot be read,",
};

/** Whether pid 2 is the kernel's kthreadd (that name, parent 0): true in the host's pid namespace. */
async function isKthreadd(proc: string): Promise<boolean> {
  const status = await readFile(`${proc}/2/status`, "utf8").catch(() => "");
  return /^Name:\s*kthreadd$/m.test(status) && /^PPid:\s*0$/m.test(status);
}

/**
 * What "host" means here: pid namespaces, the agent's own (hostPID) and pid 1's; cgroup and mount
 * namespaces, pid 1's; where pid 1's may not be read (an init that hides its namespaces, as a
 * sandboxed VM's does), the kernel threads' (pid 2, kthreadd); failing both, the agent's own (then
 * only an agent that itself runs in the host's namespaces can accept a target).
 */
export async function readHostView(sockets: readonly string[], proc = "/proc"): Promise<HostView> {
  const link = (pid: string, ns: string) =>
    readlink(`${proc}/${pid}/ns/${ns}`).catch(() => undefined);
  const own = await link("self", "pid");
  const init = await link("1", "pid");
  // Pid 2 is kthreadd in the host's pid namespace (hostPID): a kernel thread, which always runs in
  // the initial namespaces and which no pod can be. Where an init hides its namespaces (a sandboxed
  // VM's does) its links still name the host's.
  const kernel = await isKthreadd(proc);
  const hostNs = async (ns: string): Promise<HostNamespace> => {
    const ofInit = await link("1", ns);
    if (ofInit !== undefined) return { link: ofInit, from: "pid 1" };
    const ofKernel = kernel ? await link("2", ns) : undefined;
    if (ofKernel !== undefined) return { link: ofKernel, from: "pid 2" };
    return { link: await link("self", ns), from: "the agent" };
  };
  return {
    pidNs: [...new Set([own, init].filter((n): n is string => n !== undefined))],
    cgroupNs: await hostNs("cgroup"),
    mntNs: await hostNs("mnt"),
    sockets,
  };
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
  return (await resolveGuardedTarget(target, sockets, proc)).target;
}

export interface GuardedTarget {
  target: ChosenTarget;
  /**
   * Re-verifies the target right before an nsenter: the same process (pid and start time) and
   * still provably the node's runtime. Throws RuntimeUnavailableError, naming what changed.
   */
  verify: () => Promise<void>;
}

/** `resolveNsenterTarget` with the check `HostExec` runs before every nsenter into the target. */
export async function resolveGuardedTarget(
  target: NsenterTarget,
  sockets: readonly string[],
  proc = "/proc",
): Promise<GuardedTarget> {
  // Pid 1 is never reused while the node runs.
  if (target === 1) return { target: { pid: 1 }, verify: () => Promise.resolve() };
  const { facts, socket, host } = await chooseTarget(target, sockets, proc);
  return {
    target: chosen(facts, socket),
    verify: async () => {
      const now = await readProcessFacts(facts.pid, sockets, proc);
      const reasons =
        now.startTime === undefined || now.startTime !== facts.startTime
          ? [
              `pid ${String(facts.pid)} is no longer the process chosen at start (it ended${now.startTime === undefined ? "" : ", and the pid now belongs to another process"})`,
            ]
          : (() => {
              const verdict = judgeTarget(now, host);
              return verdict.ok ? [] : verdict.reasons;
            })();
      if (reasons.length > 0)
        throw new RuntimeUnavailableError(
          `--nsenter-target ${String(target)}: refused before nsenter: ${reasons.join("; ")}. ` +
            `The runtime may have restarted; nothing more is run on this node in this run, start ` +
            `the next run once the runtime is up`,
        );
    },
  };
}

async function chooseTarget(
  target: NsenterTarget,
  sockets: readonly string[],
  proc: string,
): Promise<{ facts: ProcessFacts; socket: string; host: HostView }> {
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
    if (verdict.ok) return { facts, socket: verdict.socket, host };
    throw refuse("not provably the node's runtime", [{ pid: target, reasons: verdict.reasons }]);
  }

  const pids = (await readdir(proc))
    .filter((entry) => /^\d+$/.test(entry))
    .map(Number)
    .sort((a, b) => a - b);
  // Every process's name at once (a node runs hundreds); then the named ones judged in pid order.
  const comms = await Promise.all(pids.map((pid) => readText(`${proc}/${String(pid)}/comm`)));
  const refused: { pid: number; reasons: string[] }[] = [];
  for (const [i, pid] of pids.entries()) {
    // Undefined: the process ended between readdir and readFile; not the one we look for.
    if (comms[i]?.trim() !== target) continue;
    const { facts, verdict } = await judge(pid);
    if (verdict.ok) return { facts, socket: verdict.socket, host };
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
