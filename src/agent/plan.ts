// Which images to delete, as a pure function of the inventory. Every image that is not deleted
// gets exactly one reason; the first that applies wins, in this order:
//   no-match, excluded             (what the operator asked for)
//   sandbox, in-use, pinned, protected, too-new   (safety; never overridden by patterns)
import {
  canonicalId,
  firstMatch,
  isImageId,
  normaliseReference,
  repositoryOf,
  type ImagePattern,
} from "../config/patterns.js";
import type {
  ContainerRecord,
  ImageRecord,
  ImageVolumeRecord,
  Inventory,
  SandboxRecord,
} from "./inventory.js";
import type { KeptImage, KeepReason } from "./result.js";

export interface PlanOptions {
  include: readonly ImagePattern[];
  exclude: readonly ImagePattern[];
  /** References of images to keep whatever the patterns say. */
  protect: readonly string[];
  minAgeSeconds?: number;
  nowMs: number;
}

export interface Plan {
  /** Images whose names match an include and no exclude. */
  matched: number;
  delete: ImageRecord[];
  kept: KeptImage[];
}

/** Finds images by any of the forms a runtime or the API server uses to name them. */
export class ImageIndex {
  private readonly byKey = new Map<string, ImageRecord>();

  constructor(images: readonly ImageRecord[]) {
    for (const image of images) {
      // CRI-O reports ids as bare hex, containerd as sha256:<hex>; both forms find the image.
      this.add(canonicalId(image.id), image);
      for (const digest of image.digests) this.add(digest, image);
      for (const name of image.names) {
        this.add(normaliseReference(name), image);
        const at = name.indexOf("@");
        if (at !== -1) this.add(name.slice(at + 1), image);
      }
    }
  }

  private add(key: string, image: ImageRecord): void {
    if (!this.byKey.has(key)) this.byKey.set(key, image);
  }

  /** The image a reference (name, repo digest, id, `docker-pullable://...`) points to. */
  find(ref: string): ImageRecord | undefined {
    const bare = ref.replace(/^[a-z-]+:\/\//, "");
    if (bare === "") return undefined;
    if (isImageId(bare)) return this.byKey.get(canonicalId(bare));
    const direct = this.byKey.get(normaliseReference(bare));
    if (direct) return direct;
    const at = bare.indexOf("@");
    return at === -1 ? undefined : this.byKey.get(bare.slice(at + 1));
  }
}

/**
 * Image id -> why a container uses it (first container wins): as its image, or mounted as an image
 * volume (the kubelet's own image GC counts both as in use).
 */
export function containerUsage(
  index: ImageIndex,
  containers: readonly ContainerRecord[],
  imageVolumes: readonly ImageVolumeRecord[] = [],
): Map<string, string> {
  const used = new Map<string, string>();
  for (const c of containers) {
    for (const ref of c.images) {
      const image = index.find(ref);
      if (image && !used.has(image.id)) {
        used.set(
          image.id,
          `container ${c.name || c.id.slice(0, 12)} (${c.state})${c.pod ? ` of pod ${c.pod}` : ""}`,
        );
      }
    }
  }
  for (const v of imageVolumes) {
    for (const ref of v.images) {
      const image = index.find(ref);
      if (image && !used.has(image.id)) {
        const c = v.container;
        const by = c ? `container ${c.name || c.id.slice(0, 12)} (${c.state})` : undefined;
        const of = v.pod ? `pod ${v.pod}` : undefined;
        used.set(
          image.id,
          `mounted as an image volume${by ? ` by ${by}` : ""}${of ? `${by ? " of" : " by"} ${of}` : ""}`,
        );
      }
    }
  }
  return used;
}

/** Looks like a pause image; only consulted when the runtime does not say which one it uses. */
const PAUSE_REPOSITORY = /(^|[/-])pause$/;

/** Image id -> why it is a sandbox image. */
export function sandboxUsage(
  index: ImageIndex,
  images: readonly ImageRecord[],
  sandboxes: readonly SandboxRecord[],
  configured: string | undefined,
): Map<string, string> {
  const out = new Map<string, string>();
  if (configured !== undefined) {
    const image = index.find(configured);
    if (image) out.set(image.id, `the runtime's configured sandbox image ${configured}`);
  } else {
    for (const image of images) {
      if (image.names.some((n) => PAUSE_REPOSITORY.test(repositoryOf(normaliseReference(n))))) {
        out.set(
          image.id,
          "looks like a pause image and the runtime does not say which one it uses",
        );
      }
    }
  }
  for (const s of sandboxes) {
    const image = s.image === undefined ? undefined : index.find(s.image);
    if (image && !out.has(image.id)) out.set(image.id, `image of the sandbox of pod ${s.pod}`);
  }
  return out;
}

export function planDeletions(inventory: Inventory, options: PlanOptions): Plan {
  const index = new ImageIndex(inventory.images);
  const inUse = containerUsage(index, inventory.containers, inventory.imageVolumes);
  const sandbox = sandboxUsage(
    index,
    inventory.images,
    inventory.sandboxes,
    inventory.configuredSandboxImage,
  );
  const protectedBy = new Map<string, string>();
  for (const ref of options.protect) {
    const image = index.find(ref);
    if (image && !protectedBy.has(image.id)) protectedBy.set(image.id, ref);
  }

  const plan: Plan = { matched: 0, delete: [], kept: [] };
  for (const image of inventory.images) {
    const keep = (reason: KeepReason, detail?: string): void => {
      const kept: KeptImage = { id: image.id, names: image.names, reason };
      if (detail !== undefined) kept.detail = detail;
      plan.kept.push(kept);
    };
    const included = firstMatch(options.include, image.names, image.id);
    if (!included) {
      keep("no-match");
      continue;
    }
    const excluded = firstMatch(options.exclude, image.names, image.id);
    if (excluded) {
      keep("excluded", `${excluded.name} matches --exclude ${excluded.pattern.source}`);
      continue;
    }
    plan.matched++;
    const why =
      reasonFrom("sandbox", sandbox.get(image.id)) ??
      reasonFrom("in-use", inUse.get(image.id)) ??
      (image.pinned ? { reason: "pinned" as const, detail: "pinned by the runtime" } : undefined) ??
      reasonFrom("protected", protectedBy.get(image.id), (ref) => `--protect ${ref}`) ??
      tooNew(image, options, inventory.imageTimesKnown);
    if (why) keep(why.reason, why.detail);
    else plan.delete.push(image);
  }
  return plan;
}

function reasonFrom(
  reason: KeepReason,
  detail: string | undefined,
  describe: (d: string) => string = (d) => d,
): { reason: KeepReason; detail: string } | undefined {
  return detail === undefined ? undefined : { reason, detail: describe(detail) };
}

function tooNew(
  image: ImageRecord,
  options: PlanOptions,
  timesKnown: boolean,
): { reason: KeepReason; detail: string } | undefined {
  if (options.minAgeSeconds === undefined) return undefined;
  if (!timesKnown) {
    // Not knowing an image's age is not "old enough": the agent refuses this case before planning,
    // and the plan keeps everything should it ever be asked anyway.
    return {
      reason: "too-new",
      detail: `--min-age is ${options.minAgeSeconds}s and the runtime does not tell when images were pulled`,
    };
  }
  if (image.recordedAtMs === undefined) {
    // The runtime gives times for images but not this one: not knowing its age is not "old enough".
    return { reason: "too-new", detail: "the runtime records no time for it" };
  }
  const ageSeconds = Math.floor((options.nowMs - image.recordedAtMs) / 1000);
  if (ageSeconds >= options.minAgeSeconds) return undefined;
  return {
    reason: "too-new",
    detail: `recorded ${ageSeconds}s ago, --min-age is ${options.minAgeSeconds}s`,
  };
}
