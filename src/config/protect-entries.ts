// What the controller tells the agent to keep: image references pods bound to the node need, each
// with the pod that needs it, so a kept image says "needed by pod demo-shop/backend (Pending)"
// rather than only the reference, and images workload templates name ("needed by cronjob
// ops/backup"). The list travels as JSON in the helper pod's protect file; an entry is a plain
// reference (--protect, older controllers) or an object with the pod or the workload.

/** One protected reference and, when the controller knows it, who needs it. */
export interface ProtectedRef {
  ref: string;
  neededBy?: NeededBy | NeededByWorkload;
}

/** A workload template (Deployment, CronJob, ...) names the image, whether or not a pod runs it. */
export interface NeededByWorkload {
  /** The first workload naming it (sorted), `<kind> <namespace>/<name>`, kind in lower case. */
  workload: string;
  /** How many workloads name it, that one included. */
  workloads: number;
}

export interface NeededBy {
  /** The first pod that needs the image (sorted by namespace/name), `namespace/name`. */
  pod: string;
  /** Its phase as the API server reports it (`Pending`, `Running`, ...), when set. */
  phase?: string;
  /** How many pods on the node need it, that one included. */
  pods: number;
}

/** The protect file's entry for a reference: the object form when a pod or workload is known. */
export type ProtectEntry =
  | string
  | { ref: string; pod: string; phase?: string; pods: number }
  | { ref: string; workload: string; workloads: number };

export function toProtectEntry(p: ProtectedRef): ProtectEntry {
  if (p.neededBy === undefined) return p.ref;
  if ("workload" in p.neededBy) {
    return { ref: p.ref, workload: p.neededBy.workload, workloads: p.neededBy.workloads };
  }
  const { pod, phase, pods } = p.neededBy;
  return phase === undefined ? { ref: p.ref, pod, pods } : { ref: p.ref, pod, phase, pods };
}

/** An entry read from the file, or undefined when it has neither form. */
export function fromProtectEntry(entry: unknown): ProtectedRef | undefined {
  if (typeof entry === "string") return { ref: entry };
  if (typeof entry !== "object" || entry === null || Array.isArray(entry)) return undefined;
  const e = entry as Record<string, unknown>;
  if (typeof e.ref !== "string") return undefined;
  if (typeof e.workload === "string") {
    const workloads =
      typeof e.workloads === "number" && Number.isInteger(e.workloads) && e.workloads >= 1
        ? e.workloads
        : 1;
    return { ref: e.ref, neededBy: { workload: e.workload, workloads } };
  }
  if (typeof e.pod !== "string") return { ref: e.ref };
  const pods = typeof e.pods === "number" && Number.isInteger(e.pods) && e.pods >= 1 ? e.pods : 1;
  const neededBy: NeededBy = { pod: e.pod, pods };
  if (typeof e.phase === "string") neededBy.phase = e.phase;
  return { ref: e.ref, neededBy };
}

/**
 * "needed by pod demo-shop/backend (Pending)", "... and 2 other pods", "needed by cronjob
 * ops/backup and 1 other workload"; the caller escapes it.
 */
export function describeNeededBy(n: NeededBy | NeededByWorkload): string {
  if ("workload" in n) {
    const others = n.workloads - 1;
    return (
      `needed by ${n.workload}` +
      (others > 0 ? ` and ${others} other workload${others === 1 ? "" : "s"}` : "")
    );
  }
  const others = n.pods - 1;
  return (
    `needed by pod ${n.pod}${n.phase === undefined ? "" : ` (${n.phase})`}` +
    (others > 0 ? ` and ${others} other pod${others === 1 ? "" : "s"}` : "")
  );
}

/**
 * The pods the controller knew bound to the node when it read the protect list. A pod sandbox on the
 * node whose pod is none of these was bound after the list was read: the agent cannot know which
 * images it will pull (they are in the API server, not yet in the runtime), so it deletes nothing
 * more (agent/arrived-pods.ts).
 */
export interface KnownPods {
  /**
   * Their UIDs as the kubelet labels their sandboxes (`io.kubernetes.pod.uid`): a pod's
   * `metadata.uid`, and for a static pod's mirror its `kubernetes.io/config.mirror` annotation (the
   * kubelet's own UID of a static pod is that hash, not the mirror's UID).
   */
  uids: string[];
  /** The helper pod itself, `namespace/name`: created after the list was read, and no threat. */
  helper: string;
}

/**
 * The protect file's content as the controller writes it: `{"images": [...], "pods": {...}}`. A bare
 * JSON list (images only, no pods: older controllers, hand-written files) is read too; the agent
 * then has no pods to compare the node's sandboxes with.
 */
export interface ProtectFileContent {
  images: ProtectEntry[];
  pods?: KnownPods;
}

/** A `pods` object read from the file, or undefined when it is not one. */
export function fromKnownPods(value: unknown): KnownPods | undefined {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return undefined;
  const v = value as Record<string, unknown>;
  if (!Array.isArray(v.uids) || !v.uids.every((u) => typeof u === "string")) return undefined;
  if (typeof v.helper !== "string" || v.helper === "") return undefined;
  return { uids: v.uids, helper: v.helper };
}
