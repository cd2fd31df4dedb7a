// --unused-for: how long this tool has seen an image unused on this node. The kubelet keeps its
// "last used" times in memory, so a kubelet restart starts every clock again; this clock is kept
// with the image itself, as a containerd image label, so it survives kubelet, runtime and node
// restarts and goes when the image goes. A run that sees an image unused and without a clock starts
// one (now); a run that sees it in use removes it. Pure: the label store is in ctr-clocks.ts.
import type { ImageRecord } from "./inventory.js";

/** The image label that holds the clock: when this tool first saw the image unused (RFC 3339). */
export const UNUSED_SINCE_LABEL = "kube-image-cleanup.io/unused-since";

/**
 * Label writes one run makes at most. A write is one client call (~20-50 ms through nsenter), so a
 * node where thousands of images change state at once (the first run with --unused-for) spreads
 * them over several runs instead of running into the agent's deadline. Removals go first: beyond
 * the cap an image without a clock is kept (its clock starts on a later run, which only delays a
 * deletion), and an image in use whose old clock is left is in use, so kept anyway.
 */
export const MAX_CLOCK_WRITES = 200;

/** What the store holds for one image: the clock's value (undefined: unreadable) and where. */
export interface ClockReading {
  /** The label's value as epoch ms; undefined when the text is no RFC 3339 time. */
  sinceMs: number | undefined;
  /** The references (containerd image records) that carry the label. */
  refs: string[];
}

export interface ClockChanges {
  /** Images to give a clock, started at `sinceMs`. */
  start: { image: ImageRecord; sinceMs: number }[];
  /** Images in use: remove the label from these references. */
  stop: { image: ImageRecord; refs: string[] }[];
  /** Writes beyond MAX_CLOCK_WRITES, left for a later run. */
  deferred: number;
  /** Per image id: since when it is unused (after the writes), or "in-use". Absent: no clock. */
  state: Map<string, number | "in-use">;
}

/**
 * The label writes this run makes, and each image's clock after them. `subjects`: the images the
 * patterns match (only those can ever be deleted, so only they carry clocks); `inUse`: image ids a
 * container, sandbox or pod bound to the node uses; `readings`: the labels found, by image id.
 */
export function planClockChanges(
  subjects: readonly ImageRecord[],
  inUse: ReadonlySet<string>,
  readings: ReadonlyMap<string, ClockReading>,
  nowMs: number,
  maxWrites = MAX_CLOCK_WRITES,
): ClockChanges {
  const out: ClockChanges = { start: [], stop: [], deferred: 0, state: new Map() };
  const starts: ImageRecord[] = [];
  for (const image of subjects) {
    const reading = readings.get(image.id);
    if (inUse.has(image.id)) {
      out.state.set(image.id, "in-use");
      if (reading !== undefined && reading.refs.length > 0) {
        out.stop.push({ image, refs: reading.refs });
      }
      continue;
    }
    // A value that is no time (edited by hand, cut) is started again: not knowing is not "long ago".
    if (reading?.sinceMs !== undefined) out.state.set(image.id, reading.sinceMs);
    else starts.push(image);
  }
  let budget = maxWrites;
  if (out.stop.length > budget) {
    out.deferred += out.stop.length - budget;
    out.stop = out.stop.slice(0, budget);
  }
  budget -= out.stop.length;
  for (const image of starts) {
    if (budget <= 0) {
      out.deferred++;
      continue;
    }
    budget--;
    out.start.push({ image, sinceMs: nowMs });
    out.state.set(image.id, nowMs);
  }
  return out;
}

/** A label value as epoch ms, or undefined when it is no RFC 3339 time. */
export function parseClockValue(value: string): number | undefined {
  if (!/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/.test(value)) return undefined;
  const ms = Date.parse(value);
  return Number.isFinite(ms) ? ms : undefined;
}

/** The label value for a time: RFC 3339 in UTC, whole seconds. */
export function formatClockValue(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace(".000Z", "Z");
}

/**
 * Why an image is kept by --unused-for, or undefined when its clock has passed. `state`: its entry
 * in ClockChanges.state (undefined: no clock, the write was deferred).
 */
export function unusedForDetail(
  state: number | "in-use" | undefined,
  seconds: number,
  nowMs: number,
  format: (seconds: number) => string,
): string | undefined {
  // Kept as in-use, sandbox or protected before this rule is asked; should it be asked, in use is
  // not unused.
  if (state === "in-use") return "seen in use on this node by this run";
  if (state === undefined) {
    return `no clock yet (more than ${MAX_CLOCK_WRITES} clock labels to write on this node in one run): a later run starts it`;
  }
  const age = Math.max(0, Math.floor((nowMs - state) / 1000));
  if (age >= seconds) return undefined;
  return `unused since ${formatClockValue(state)} (${format(age)} < ${format(seconds)})`;
}
