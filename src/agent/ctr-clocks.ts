// The --unused-for clocks in containerd: image labels, read from `ctr images ls` and written with
// `ctr images label`. Both containerd clients use it: ctr itself, and crictl on containerd through
// the ctr beside it (CRI has no label API). containerd keeps labels per image record (per name), and
// its CRI plugin updates only its own label fields when it pulls an image again, so the clock stays.
import { parseCtrImageList } from "./ctr-parse.js";
import { inParallel } from "./in-parallel.js";
import { CommandNotFoundError, lastLines, type HostExec } from "./host-exec.js";
import type { ImageRecord } from "./inventory.js";
import { parseClockValue, UNUSED_SINCE_LABEL, type ClockReading } from "./unused-clock.js";

/** Reads and writes the clocks; `read` is undefined when this runtime keeps no labels. */
export interface ImageClocks {
  /**
   * The clock labels found, by image id; undefined when the store cannot be reached (no ctr, or
   * the socket is not containerd's): the caller must then refuse --unused-for.
   */
  read(images: readonly ImageRecord[]): Promise<Map<string, ClockReading> | undefined>;
  /** Sets the clock on the image's own record; returns the client's error text, if any. */
  start(image: ImageRecord, value: string): Promise<string | undefined>;
  /** Removes the label from these references; returns the client's error text, if any. */
  stop(refs: readonly string[]): Promise<string | undefined>;
  /** What the clocks are kept in, for messages. */
  readonly where: string;
}

export function createCtrClocks(
  exec: HostExec,
  socket: string,
  namespace: string,
  program: string,
): ImageClocks {
  const argv = (...args: string[]) => [
    program,
    "--address",
    socket,
    "--namespace",
    namespace,
    ...args,
  ];
  // Which record of an image carries the clock: the one read last, per image id.
  const ownRef = new Map<string, string>();
  const label = async (ref: string, value: string) => {
    // `key=` with no value removes the label (ctr images label sets only the fields it is given).
    // `--`: a reference is never read as a flag.
    const r = await exec.run(argv("images", "label", "--", ref, `${UNUSED_SINCE_LABEL}=${value}`));
    return r.code === 0 ? undefined : lastLines(r.stderr);
  };
  return {
    where: `containerd image labels (${UNUSED_SINCE_LABEL}, namespace ${namespace})`,
    read: async (images) => {
      let text: string;
      try {
        const r = await exec.run(argv("images", "ls"));
        if (r.code !== 0) return undefined;
        text = r.stdout;
      } catch (err) {
        // ctr is not there: no label store to keep clocks in.
        if (err instanceof CommandNotFoundError) return undefined;
        throw err;
      }
      const lines = parseCtrImageList(text);
      const byRef = new Map(lines.map((l) => [l.ref, l]));
      const out = new Map<string, ClockReading>();
      for (const image of images) {
        // crictl names an image by tags, repo digests and id; ctr's records are those same names.
        const refs = [...new Set([image.id, ...image.refs, ...image.names])].filter((r) =>
          byRef.has(r),
        );
        const own = refs.includes(image.id) ? image.id : refs[0];
        if (own !== undefined) ownRef.set(image.id, own);
        const carrying = refs.filter(
          (ref) => labelValue(byRef.get(ref)?.labels ?? []) !== undefined,
        );
        // The clock is read from the record it is written to: a tag the CRI plugin moves to another
        // image keeps its labels, and must not hand an old clock to the new image. Labels on other
        // records are only removed (when the image is seen in use).
        const value = own === undefined ? undefined : labelValue(byRef.get(own)?.labels ?? []);
        const sinceMs = value === undefined ? undefined : parseClockValue(value);
        const found = value !== undefined || carrying.length > 0;
        if (found) out.set(image.id, { sinceMs, refs: carrying });
      }
      return out;
    },
    start: async (image, value) => {
      // The CRI plugin's `sha256:<id>` record lives as long as the image does; tags may move.
      const ref = ownRef.get(image.id) ?? image.refs[0] ?? image.id;
      return label(ref, value);
    },
    stop: async (refs) => {
      const errors: string[] = [];
      await inParallel(refs, async (ref) => {
        const e = await label(ref, "");
        if (e !== undefined) errors.push(`${ref}: ${e}`);
      });
      return errors.length === 0 ? undefined : errors.join("; ");
    },
  };
}

function labelValue(labels: readonly string[]): string | undefined {
  const prefix = `${UNUSED_SINCE_LABEL}=`;
  return labels.find((l) => l.startsWith(prefix))?.slice(prefix.length);
}
