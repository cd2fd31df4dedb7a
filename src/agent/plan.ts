// Which images to delete, as a pure function of the inventory. Every image that is not deleted
// gets exactly one reason; the first that applies wins, in this order:
//   no-match, excluded             (what the operator asked for)
//   sandbox, in-use, pinned, protected   (safety; never overridden by patterns)
//   too-new, not-pullable, newest, limit   (the operator's retention rules: --min-age,
//                                   --only-if-pullable, --keep-newest N per repository, then
//                                   per-node limits, oldest deleted first)
import {
  canonicalId,
  digestUnknownMatch,
  firstMatch,
  isImageId,
  normaliseReference,
  repositoryOf,
  unresolvedDigestExcludes,
  type ImagePattern,
} from "../config/patterns.js";
import type {
  ContainerRecord,
  ImageRecord,
  ImageVolumeRecord,
  Inventory,
  SandboxRecord,
} from "./inventory.js";
import type { KeptImage } from "../run-model/agent-result.js";
import type { KeepReason } from "../run-model/keep-reason.js";
import { describeNeededBy, type ProtectedRef } from "../config/protect-entries.js";

export interface PlanOptions {
  include: readonly ImagePattern[];
  exclude: readonly ImagePattern[];
  /** References of images to keep whatever the patterns say, with the pod that needs each if known. */
  protect: readonly (string | ProtectedRef)[];
  minAgeSeconds?: number;
  /**
   * --only-if-pullable: image id -> why its registry would not serve it again. Asked by the agent
   * about `pullabilityCandidates` only; an image absent here can be pulled again.
   */
  unpullable?: ReadonlyMap<string, string>;
  /** Per repository, keep this many of the newest matched images (by creation time). */
  keepNewest?: number;
  /** At most this much is deleted; the rest is kept with reason `limit`, oldest deleted first. */
  limits?: { maxImages?: number; maxBytes?: number };
  nowMs: number;
}

export interface Plan {
  /** Images whose names match an include and no exclude. */
  matched: number;
  delete: ImageRecord[];
  kept: KeptImage[];
  /** How many images a per-node limit left for a later run (reason `limit`). */
  cutByLimit: number;
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
  for (const entry of options.protect) {
    const p = typeof entry === "string" ? { ref: entry } : entry;
    const image = index.find(p.ref);
    if (image && !protectedBy.has(image.id)) {
      protectedBy.set(
        image.id,
        p.neededBy === undefined ? `--protect ${p.ref}` : describeNeededBy(p.neededBy),
      );
    }
  }

  const plan: Plan = { matched: 0, delete: [], kept: [], cutByLimit: 0 };
  // Decided per image, reported in inventory order.
  const decided = new Map<ImageRecord, Reason | "delete">();
  const matched: ImageRecord[] = [];
  // Digest excludes no image answers to here: they may name a manifest digest the client hides.
  const unresolved = unresolvedDigestExcludes(options.exclude, inventory.images);
  for (const image of inventory.images) {
    const included = firstMatch(options.include, image.names, image.id);
    if (!included) {
      decided.set(image, { reason: "no-match" });
      continue;
    }
    const excluded =
      firstMatch(options.exclude, image.names, image.id, image.digests) ??
      digestUnknownMatch(unresolved, image);
    if (excluded) {
      decided.set(image, {
        reason: "excluded",
        detail: `${excluded.name} matches --exclude ${excluded.pattern.source}`,
      });
      continue;
    }
    plan.matched++;
    matched.push(image);
    const why =
      reasonFrom("sandbox", sandbox.get(image.id)) ??
      reasonFrom("in-use", inUse.get(image.id)) ??
      (image.pinned ? { reason: "pinned" as const, detail: "pinned by the runtime" } : undefined) ??
      reasonFrom("protected", protectedBy.get(image.id)) ??
      tooNew(image, options, inventory.imageTimesKnown) ??
      reasonFrom("not-pullable", options.unpullable?.get(image.id));
    decided.set(image, why ?? "delete");
  }

  if (options.keepNewest !== undefined) {
    // Every matched image counts toward N, those kept for another reason too: an image in use is a
    // release that runs, so N=2 keeps it and the one before it.
    const newest = newestPerRepository(matched, options.keepNewest);
    for (const [image, why] of newest) if (decided.get(image) === "delete") decided.set(image, why);
  }

  const candidates = inventory.images.filter((i) => decided.get(i) === "delete");
  const allowed = withinLimits(candidates, options.limits);
  for (const image of candidates) {
    if (allowed.has(image)) continue;
    decided.set(image, { reason: "limit", detail: limitDetail(options.limits) });
    plan.cutByLimit++;
  }

  for (const image of inventory.images) {
    const why = decided.get(image);
    if (why === "delete") {
      plan.delete.push(image);
    } else if (why !== undefined) {
      const kept: KeptImage = { id: image.id, names: image.names, reason: why.reason };
      if (why.detail !== undefined) kept.detail = why.detail;
      plan.kept.push(kept);
    }
  }
  return plan;
}

/**
 * The images --only-if-pullable asks registries about: those every other rule but the per-node
 * limits would delete. --keep-newest counts every matched image whatever its other reasons, so the
 * newest are the same with or without the answers, and need no question; the limits pick among
 * the images left after the answers, so they come after.
 */
export function pullabilityCandidates(inventory: Inventory, options: PlanOptions): ImageRecord[] {
  return planDeletions(inventory, { ...options, limits: {}, unpullable: new Map() }).delete;
}

interface Reason {
  reason: KeepReason;
  detail?: string;
}

/** Oldest first; images without a creation time last (they may be the newest), then by id. */
function byAge(a: ImageRecord, b: ImageRecord): number {
  const ta = a.createdAtMs ?? Infinity;
  const tb = b.createdAtMs ?? Infinity;
  if (ta !== tb) return ta < tb ? -1 : 1;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

/**
 * The images among the `n` newest of any of their repositories (an image with names in two
 * repositories ranks in each), by creation time; equal times are ranked by image id, so the same
 * inventory always keeps the same images. An image whose config records no creation time cannot be
 * ranked: it is kept (it may be the newest) and takes no place among the N.
 */
function newestPerRepository(images: readonly ImageRecord[], n: number): Map<ImageRecord, Reason> {
  const byRepository = new Map<string, ImageRecord[]>();
  const out = new Map<ImageRecord, Reason>();
  for (const image of images) {
    if (image.createdAtMs === undefined) {
      out.set(image, {
        reason: "newest",
        detail: `its config records no creation time, so it may be among the --keep-newest ${n}`,
      });
      continue;
    }
    const repositories = new Set(image.names.map((name) => repositoryOf(normaliseReference(name))));
    for (const repository of repositories) {
      byRepository.set(repository, [...(byRepository.get(repository) ?? []), image]);
    }
  }
  for (const [repository, group] of [...byRepository].sort(([a], [b]) => (a < b ? -1 : 1))) {
    // Newest first; equal times by id, ascending (as in byAge), so the order is one total order.
    const newestFirst = [...group].sort(
      (a, b) => (b.createdAtMs ?? 0) - (a.createdAtMs ?? 0) || byAge(a, b),
    );
    newestFirst.slice(0, n).forEach((image, i) => {
      if (out.has(image)) return;
      out.set(image, {
        reason: "newest",
        detail: `newest ${i + 1} of ${group.length} in ${repository} (created ${new Date(image.createdAtMs ?? 0).toISOString()}), --keep-newest ${n}`,
      });
    });
  }
  return out;
}

/** The candidates that fit the limits, oldest first; without limits, all of them. */
function withinLimits(
  candidates: readonly ImageRecord[],
  limits: PlanOptions["limits"],
): Set<ImageRecord> {
  if (limits?.maxImages === undefined && limits?.maxBytes === undefined) return new Set(candidates);
  const out = new Set<ImageRecord>();
  let bytes = 0;
  for (const image of [...candidates].sort(byAge)) {
    if (limits.maxImages !== undefined && out.size >= limits.maxImages) break;
    // Strictly oldest first: an image that does not fit ends the run's share, rather than letting
    // younger, smaller images go ahead of it.
    if (limits.maxBytes !== undefined && bytes + image.sizeBytes > limits.maxBytes) break;
    out.add(image);
    bytes += image.sizeBytes;
  }
  return out;
}

function limitDetail(limits: PlanOptions["limits"]): string {
  const given = [
    limits?.maxImages === undefined ? undefined : `--max-images-per-node ${limits.maxImages}`,
    limits?.maxBytes === undefined ? undefined : `--max-bytes-per-node ${limits.maxBytes}`,
  ].filter((x) => x !== undefined);
  return `${given.join(" and ")} reached on this node (oldest deleted first): left for a later run`;
}

function reasonFrom(
  reason: KeepReason,
  detail: string | undefined,
): { reason: KeepReason; detail: string } | undefined {
  return detail === undefined ? undefined : { reason, detail };
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
