// When an image was built: `created` in its OCI/Docker config. --keep-newest ranks a repository's
// images by it and per-node limits delete the oldest first. crictl shows the config in
// `inspecti`'s verbose info (containerd: `info.imageSpec`); with ctr it is the config blob itself.
import { inspectedObjects, isRecord } from "./crictl-parse.js";

/**
 * Builders that make reproducible images (ko, Bazel, Nix, Jib, this project's test images) write
 * the epoch or a time near it, and a config without `created` reads as Go's zero time: neither says
 * when the image was built.
 */
const EARLIEST_MEANINGFUL_MS = Date.UTC(2000, 0, 1);

/** Epoch ms from a config's `created`, or undefined when it is absent, unreadable or a placeholder. */
export function createdFrom(value: unknown): number | undefined {
  if (typeof value !== "string") return undefined;
  const ms = Date.parse(value);
  return Number.isFinite(ms) && ms >= EARLIEST_MEANINGFUL_MS ? ms : undefined;
}

/** `created` of the first `imageSpec` found in crictl's verbose info (its place differs by runtime). */
function imageSpecCreated(info: unknown, depth = 0): number | undefined {
  if (!isRecord(info) || depth > 4) return undefined;
  if (isRecord(info.imageSpec)) return createdFrom(info.imageSpec.created);
  for (const value of Object.values(info)) {
    // CRI-O nests its info as a JSON string under `info`.
    const inner = typeof value === "string" && value.startsWith("{") ? safeParse(value) : value;
    const found = imageSpecCreated(inner, depth + 1);
    if (found !== undefined) return found;
  }
  return undefined;
}

function safeParse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    // Not JSON after all: it holds no image config.
    return undefined;
  }
}

/** `crictl inspecti -o json ID...` (one object for one id, an array for several): id -> created. */
export function parseCrictlInspectiCreated(json: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const image of inspectedObjects(json)) {
    const status = isRecord(image.status) ? image.status : {};
    const id = typeof status.id === "string" ? status.id : "";
    const created = imageSpecCreated(image.info);
    if (id !== "" && created !== undefined) out.set(id, created);
  }
  return out;
}

/** `ctr content get <config digest>`: the config's `created`. */
export function parseConfigCreated(json: string): number | undefined {
  const parsed = safeParse(json);
  return isRecord(parsed) ? createdFrom(parsed.created) : undefined;
}
