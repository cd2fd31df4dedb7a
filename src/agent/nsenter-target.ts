// Which process's namespaces `--host-exec nsenter` enters. On a real node that is pid 1 (the node's
// init, visible through hostPID). Where pid 1 is not the host's init or may not be opened (a
// sandboxed VM, some dev clusters), the operator names the runtime daemon instead, e.g.
// `--nsenter-target containerd`: it lives in the node's namespaces too, by definition of being the
// runtime the kubelet talks to.
import { readdir, readFile } from "node:fs/promises";
import { RuntimeUnavailableError } from "../errors.js";

/** A pid, or the name of a process as `/proc/PID/comm` shows it. */
export type NsenterTarget = number | string;

/** Parses `--nsenter-target`: digits are a pid, anything else a process name. */
export function parseNsenterTarget(value: string): NsenterTarget {
  return /^\d+$/.test(value) ? Number(value) : value;
}

/**
 * Resolves a process name to the oldest (lowest pid) process of that name. With hostPID the helper
 * pod sees every process of the node; without it, only its own, and the error says so.
 */
export async function resolveNsenterTarget(target: NsenterTarget, proc = "/proc"): Promise<number> {
  if (typeof target === "number") return target;
  const pids = (await readdir(proc))
    .filter((entry) => /^\d+$/.test(entry))
    .map(Number)
    .sort((a, b) => a - b);
  for (const pid of pids) {
    let comm: string;
    try {
      comm = (await readFile(`${proc}/${String(pid)}/comm`, "utf8")).trim();
    } catch {
      // The process ended between readdir and readFile: not the one we look for.
      continue;
    }
    if (comm === target) return pid;
  }
  throw new RuntimeUnavailableError(
    `--nsenter-target ${target}: no process named "${target}" is visible from the agent ` +
      `(the helper pod needs hostPID: true; or give a pid, e.g. --nsenter-target 1)`,
  );
}
