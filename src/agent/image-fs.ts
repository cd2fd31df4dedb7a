// What the image filesystem really got back. "Reclaimed" sums image sizes: a layer two images share
// counts twice, unpacked snapshots not at all. The runtime's own accounting, read before and after
// the removals, says what the disk got back:
//   crictl: `crictl imagefsinfo` (CRI ImageFsInfo: the snapshotter's used bytes, refreshed by
//           containerd every 10 s, so the reading after removal waits for a newer timestamp);
//   ctr:    `ctr snapshots usage -b` (unpacked layers and container layers, exact) plus the content
//           store from `ctr content ls` (compressed blobs; sizes printed to 4 significant digits).

export interface ImageFsReading {
  usedBytes: number;
  /** When the runtime took the reading (ms since epoch), where it says. */
  takenAtMs?: number;
}

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

/** `crictl imagefsinfo -o json`: the sum over the image filesystems, and the oldest timestamp. */
export function parseCrictlImageFsInfo(json: string): ImageFsReading {
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

const DECIMAL_UNITS: Record<string, number> = {
  B: 1,
  kB: 1e3,
  MB: 1e6,
  GB: 1e9,
  TB: 1e12,
  PB: 1e15,
};

/** `ctr content ls`: DIGEST SIZE AGE LABELS, SIZE like `2.13MB` (go-units, decimal, 4 digits). */
export function parseCtrContentBytes(text: string): number {
  let sum = 0;
  for (const line of text.split("\n").slice(1)) {
    const m = /^sha256:[0-9a-f]{64}\s+([\d.]+)\s?(B|kB|MB|GB|TB|PB)\s/.exec(line);
    if (m?.[1] !== undefined && m[2] !== undefined)
      sum += Math.round(Number(m[1]) * (DECIMAL_UNITS[m[2]] ?? 1));
  }
  return sum;
}
