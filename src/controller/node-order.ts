// The order a run visits its nodes in. In plain name order a run cut short (the Job's
// timeouts.runSeconds, a SIGTERM) always stops on the same prefix, and the nodes at the end of a big
// cluster are never cleaned. So the name-sorted list is rotated: the run starts at a position taken
// from the minute it started, and wraps around.
//
// Why the start time and not "where the last run stopped": remembering that needs state outside the
// run (a ConfigMap or a Node annotation, i.e. new RBAC: update configmaps or patch nodes), and a
// killed run cannot be trusted to write it. A position derived from the start time needs nothing;
// hashing it (not, say, minutes modulo N) keeps runs on any schedule (hourly, daily, weekly: always
// the same minute of the hour) from starting at the same place, so every node has the same chance to
// be early in a run. Deterministic: the same start minute and node list give the same order, which
// the run header states ("starting at <node>") so an operator can follow it.
import { createHash } from "node:crypto";

/** Index of the first node of a run of `count` nodes that started at `startedMs` (ms since epoch). */
export function rotationStart(count: number, startedMs: number): number {
  if (count <= 1) return 0;
  const minute = new Date(Math.floor(startedMs / 60_000) * 60_000).toISOString();
  const digest = createHash("sha256").update(`kube-image-cleanup rotation ${minute}`).digest();
  // 48 bits of the hash: uniform enough over any realistic node count.
  return digest.readUIntBE(0, 6) % count;
}

/** `sorted` (by name) rotated to begin at the run's start position. */
export function rotateNodes(sorted: readonly string[], startedMs: number): string[] {
  const start = rotationStart(sorted.length, startedMs);
  return [...sorted.slice(start), ...sorted.slice(0, start)];
}
