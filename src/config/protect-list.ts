// The agent's protect list as it is given: --protect references, and the --protect-file the
// controller writes into each helper pod (protect-entries.ts is its entry format). Every reference
// is checked: an agent that cannot read what it must keep does not start.
import { ConfigError } from "../errors.js";
import { readFlagFile } from "./flag-file.js";
import { checkImageReference } from "./image-reference.js";
import {
  fromKnownPods,
  fromProtectEntry,
  type KnownPods,
  type ProtectedRef,
} from "./protect-entries.js";

/**
 * The references, deduplicated; throws ConfigError at the first that is not an image reference.
 * Refusing is the safe side: the agent must not start believing it knows what to keep.
 */
export function checkProtectList(key: string, refs: readonly string[]): string[] {
  refs.forEach((ref, i) => {
    const why = checkImageReference(ref);
    if (why !== undefined) {
      throw new ConfigError(
        key,
        // The bad entry may be huge or hold control characters: its place and length, not its text.
        `entry ${i + 1} (${ref.length} characters)`,
        `give image references such as nginx:1.25 or registry.example/app@sha256:...; ${why}`,
      );
    }
  });
  return [...new Set(refs)];
}

/** What `--protect-file` holds: the references, and the pods the controller knew on the node. */
export interface ProtectFile {
  refs: ProtectedRef[];
  /** Absent in a bare list (no pods known: the agent does not look for pods bound since). */
  pods?: KnownPods;
}

/**
 * Reads `--protect-file`: the controller's `{"images": [...], "pods": {"uids": [...], "helper":
 * "namespace/name"}}`, or a bare JSON list of image references. Each entry is a string or, from the
 * controller, `{"ref": ..., "pod": "namespace/name", "phase": ..., "pods": n}` naming the pod that
 * needs it. Checked and deduplicated (the first entry for a reference wins).
 */
export async function readProtectFile(path: string): Promise<ProtectFile> {
  const text = await readFlagFile(
    "--protect-file",
    path,
    (err) => `give a readable file (${err.message})`,
  );
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    // The parser's own message points into the file; what the operator needs is the expected shape.
    parsed = undefined;
  }
  let list: unknown = parsed;
  let pods: KnownPods | undefined;
  if (typeof parsed === "object" && parsed !== null && !Array.isArray(parsed)) {
    const o = parsed as Record<string, unknown>;
    list = o.images;
    pods = fromKnownPods(o.pods);
    // A pods field that cannot be read would silently turn the check off: refuse instead.
    if (pods === undefined) list = undefined;
  }
  const entries = Array.isArray(list) ? list.map(fromProtectEntry) : [undefined];
  if (!entries.every((e): e is ProtectedRef => e !== undefined)) {
    throw new ConfigError(
      "--protect-file",
      path,
      'the file must hold a JSON list of image references, e.g. ["nginx:1.25"], or the controller\'s ' +
        '{"images": [...], "pods": {"uids": [...], "helper": "namespace/name"}}',
    );
  }
  const refs = new Set(
    checkProtectList(
      `--protect-file ${path}`,
      entries.map((e) => e.ref),
    ),
  );
  const out: ProtectFile = { refs: entries.filter((e) => refs.delete(e.ref)) };
  if (pods !== undefined) out.pods = pods;
  return out;
}
