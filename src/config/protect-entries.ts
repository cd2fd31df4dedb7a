// What the controller tells the agent to keep: image references pods bound to the node need, each
// with the pod that needs it, so a kept image says "needed by pod demo-shop/backend (Pending)"
// rather than only the reference. The list travels as JSON in the helper pod's protect file; an entry
// is a plain reference (--protect, older controllers) or an object with the pod.

/** One protected reference and, when the controller knows it, who needs it. */
export interface ProtectedRef {
  ref: string;
  neededBy?: NeededBy;
}

export interface NeededBy {
  /** The first pod that needs the image (sorted by namespace/name), `namespace/name`. */
  pod: string;
  /** Its phase as the API server reports it (`Pending`, `Running`, ...), when set. */
  phase?: string;
  /** How many pods on the node need it, that one included. */
  pods: number;
}

/** The protect file's entry for a reference: the object form when a pod is known. */
export type ProtectEntry = string | { ref: string; pod: string; phase?: string; pods: number };

export function toProtectEntry(p: ProtectedRef): ProtectEntry {
  if (p.neededBy === undefined) return p.ref;
  const { pod, phase, pods } = p.neededBy;
  return phase === undefined ? { ref: p.ref, pod, pods } : { ref: p.ref, pod, phase, pods };
}

/** An entry read from the file, or undefined when it has neither form. */
export function fromProtectEntry(entry: unknown): ProtectedRef | undefined {
  if (typeof entry === "string") return { ref: entry };
  if (typeof entry !== "object" || entry === null || Array.isArray(entry)) return undefined;
  const e = entry as Record<string, unknown>;
  if (typeof e.ref !== "string") return undefined;
  if (typeof e.pod !== "string") return { ref: e.ref };
  const pods = typeof e.pods === "number" && Number.isInteger(e.pods) && e.pods >= 1 ? e.pods : 1;
  const neededBy: NeededBy = { pod: e.pod, pods };
  if (typeof e.phase === "string") neededBy.phase = e.phase;
  return { ref: e.ref, neededBy };
}

/** "needed by pod demo-shop/backend (Pending)", "... and 2 other pods"; the caller escapes it. */
export function describeNeededBy(n: NeededBy): string {
  const others = n.pods - 1;
  return (
    `needed by pod ${n.pod}${n.phase === undefined ? "" : ` (${n.phase})`}` +
    (others > 0 ? ` and ${others} other pod${others === 1 ? "" : "s"}` : "")
  );
}
