// A hand-written inventory for the plan's tests (plan.test.ts, plan-retention.test.ts): images with
// ids made of one repeated hex digit, and the safety half of the "one outcome per image" cases: one
// image per reason that no rule can override, and the reason each is kept for.
import type { ImageRecord, Inventory } from "../../../src/agent/inventory.js";
import type { KeepReason } from "../../../src/run-model/keep-reason.js";

export const hex = (c: string) => c.repeat(64).slice(0, 64);
export const id = (c: string) => `sha256:${hex(c)}`;

/** An unused, unpinned image of 1000 bytes with id `id(c)`, known by `names`. */
export function image(c: string, names: string[], extra: Partial<ImageRecord> = {}): ImageRecord {
  return {
    id: id(c),
    names,
    digests: [],
    sizeBytes: 1000,
    pinned: false,
    refs: [...names, id(c)],
    ...extra,
  };
}

export function inventory(images: ImageRecord[], more: Partial<Inventory> = {}): Inventory {
  return { images, containers: [], sandboxes: [], imageTimesKnown: false, ...more };
}

/** Each image's first name and the reason it is kept, whatever the retention rules say. */
export const SAFETY_KEPT: Readonly<Record<string, KeepReason>> = {
  "docker.io/other/x:1": "no-match",
  "docker.io/acme/base:1": "excluded",
  "registry.k8s.io/pause:kic": "sandbox",
  "docker.io/acme/used:1": "in-use",
  "docker.io/acme/pin:1": "pinned",
  "docker.io/acme/prot:1": "protected",
};

/** first name -> keep reason, of the images a plan keeps. */
export const keptReasons = (plan: {
  kept: readonly { names: readonly string[]; reason: KeepReason }[];
}): Record<string, KeepReason> =>
  Object.fromEntries(plan.kept.map((k) => [k.names[0] ?? "", k.reason]));
