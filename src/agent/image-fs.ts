// What the image filesystem really got back. "Reclaimed" sums image sizes: a layer two images share
// counts twice, unpacked snapshots not at all. The runtime's own accounting, read before and after
// the removals, says what the disk got back. Neither reading waits: the figure is for the report,
// and a node's time is the agent's time.
//   ctr:    `ctr snapshots usage -b` (unpacked layers and container layers) plus the content store
//           from `ctr content ls` (compressed blobs; sizes printed to 4 significant digits),
//           computed on request: exact as soon as containerd has collected the removed content. The
//           crictl client reads it too where ctr is there (containerd).
//   crictl: `crictl imagefsinfo` (CRI ImageFsInfo: the snapshotter's used bytes, refreshed by
//           containerd every 10 s): where ctr is not (CRI-O), and only as the runtime's last figure.
// A figure that is not final yet is labelled `pending` and never added to exact ones.
import type { ImageFsFigure } from "../run-model/agent-result.js";

export interface ImageFsReading {
  usedBytes: number;
  /** What took the reading, e.g. `crictl imagefsinfo`. */
  source: string;
  /** When the runtime took the reading (ms since epoch), where it says; absent: taken on request. */
  takenAtMs?: number;
  /** The content digests the store held at the reading, where the source lists them (ctr). */
  contentDigests?: ReadonlySet<string>;
}

export type { ImageFsFigure };

/**
 * The figure from a reading before and one after the removals (`removedAtMs`: when the last removal
 * call returned; `deletedIds`: the content ids, config digests, of the images verifiably gone).
 * Undefined when the two readings cannot be compared.
 */
export function imageFsFigure(
  before: ImageFsReading,
  after: ImageFsReading,
  removal: { removedAtMs: number; deletedIds: readonly string[] },
): ImageFsFigure | undefined {
  if (before.source !== after.source) return undefined;
  const figure = {
    source: after.source,
    usedBytesBefore: before.usedBytes,
    usedBytesAfter: after.usedBytes,
    freedBytes: before.usedBytes - after.usedBytes,
  };
  const pending = (pendingReason: string): ImageFsFigure => ({
    ...figure,
    state: "pending",
    pendingReason,
  });
  // containerd stamps an empty stats store "now": 0 bytes is no reading on a node, where at least
  // the pause image is unpacked (also right after containerd started, before its first stats pass).
  if (before.usedBytes === 0 || after.usedBytes === 0)
    return pending(`${after.source} had no figure yet (0 bytes)`);
  if (after.takenAtMs !== undefined && after.takenAtMs <= removal.removedAtMs)
    return pending(
      `${after.source} was last refreshed before the removals ended (the runtime refreshes it periodically, containerd every 10 s)`,
    );
  const held = removal.deletedIds.filter((id) => after.contentDigests?.has(id) === true);
  if (held.length > 0)
    return pending(
      `the runtime had not yet collected the content of ${String(held.length)} removed image${held.length === 1 ? "" : "s"} (garbage collection after the removal)`,
    );
  return { ...figure, state: "exact" };
}

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

/** `crictl imagefsinfo -o json`: the sum over the image filesystems, and the oldest timestamp. */
export function parseCrictlImageFsInfo(json: string): Omit<ImageFsReading, "source"> {
  const parsed: unknown = JSON.parse(json);
  const status = isRecord(parsed) && isRecord(parsed.status) ? parsed.status : {};
  const list = Array.isArray(status.imageFilesystems) ? status.imageFilesystems : [];
  let used = 0;
  let taken: number | undefined;
  for (const fs of list) {
    if (!isRecord(fs)) continue;
    const bytes = isRecord(fs.usedBytes) ? Number(fs.usedBytes.value) : Number.NaN;
    if (!Number.isFinite(bytes))
      throw new Error(`imagefsinfo without usedBytes: ${json.slice(0, 200)}`);
    used += bytes;
    // Nanoseconds since epoch, as text.
    const ns =
      typeof fs.timestamp === "string" || typeof fs.timestamp === "number"
        ? Number(fs.timestamp)
        : Number.NaN;
    if (Number.isFinite(ns)) taken = Math.min(taken ?? Infinity, Math.floor(ns / 1e6));
  }
  if (list.length === 0) throw new Error("crictl imagefsinfo lists no image filesystem");
  return taken === undefined ? { usedBytes: used } : { usedBytes: used, takenAtMs: taken };
}

/** `ctr snapshots usage -b`: KEY SIZE INODES, SIZE in bytes. */
export function parseCtrSnapshotUsage(text: string): number {
  let sum = 0;
  for (const line of text.split("\n").slice(1)) {
    const size = line.trim().split(/\s+/)[1];
    if (size !== undefined && /^\d+$/.test(size)) sum += Number(size);
  }
  return sum;
}

/** go-units' decimal sizes: each unit 1000 times the one before. */
const DECIMAL_UNITS: Record<string, number> = Object.fromEntries(
  ["B", "kB", "MB", "GB", "TB", "PB"].map((unit, i) => [unit, 1000 ** i]),
);

/** `ctr content ls`: DIGEST SIZE AGE LABELS, SIZE like `2.13MB` (go-units, decimal, 4 digits). */
export function parseCtrContent(text: string): { bytes: number; digests: Set<string> } {
  let bytes = 0;
  const digests = new Set<string>();
  for (const line of text.split("\n").slice(1)) {
    const m = /^(sha256:[0-9a-f]{64})\s+([\d.]+)\s?(B|kB|MB|GB|TB|PB)\s/.exec(line);
    if (m?.[1] === undefined || m[2] === undefined || m[3] === undefined) continue;
    digests.add(m[1]);
    bytes += Math.round(Number(m[2]) * (DECIMAL_UNITS[m[3]] ?? 1));
  }
  return { bytes, digests };
}

export const parseCtrContentBytes = (text: string): number => parseCtrContent(text).bytes;
