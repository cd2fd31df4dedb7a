// --only-if-pullable: an image is deleted only if its registry would serve it again, asked for every
// name the node knows it by (each tag and each repo digest) with a manifest HEAD. The first name
// the registry does not serve, refuses, or does not answer for keeps the image, and that answer is
// the reason. An image known by no name a registry serves (imported by id, a dangling pull) is kept:
// nothing could bring it back.
//
// Only the images that every other rule would delete are asked about (the caller passes those), so
// the registries contacted are the ones the node's own candidates name, and the number of requests
// is bounded by the candidates, not by the inventory.
import { isImageId } from "../config/patterns.js";
import type { ManifestChecker } from "../registry/manifest-check.js";

export interface PullableImage {
  id: string;
  names: readonly string[];
}

/** Why an image cannot be pulled again, by image id; images that can be are absent. */
export type UnpullableImages = ReadonlyMap<string, string>;

/** How many images are asked about at once. */
const CONCURRENCY = 4;

export async function findUnpullable(
  images: readonly PullableImage[],
  checker: ManifestChecker,
  options: { deadlineMs?: number; now?: () => number } = {},
): Promise<UnpullableImages> {
  const now = options.now ?? Date.now;
  const out = new Map<string, string>();
  let next = 0;
  const worker = async () => {
    while (next < images.length) {
      const image = images[next++];
      if (image === undefined) break;
      // Past the deadline an image is not asked about, and not asked is not pullable.
      if (now() >= (options.deadlineMs ?? Infinity)) {
        out.set(image.id, "not asked: the node's deadline came first");
        continue;
      }
      const reason = await unpullableReason(image, checker);
      if (reason !== undefined) out.set(image.id, reason);
    }
  };
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, images.length) }, worker));
  return out;
}

async function unpullableReason(
  image: PullableImage,
  checker: ManifestChecker,
): Promise<string | undefined> {
  const names = image.names.filter((n) => !isImageId(n));
  if (names.length === 0) return "known by no tag or repo digest a registry could serve it under";
  for (const name of names) {
    const verdict = await checker.check(name);
    switch (verdict.kind) {
      case "served":
        continue;
      case "not-served":
        return verdict.detail;
      case "denied":
        return `${verdict.detail}: not known to be pullable`;
      case "unreachable":
        return `${verdict.detail}: not known to be pullable`;
      case "no-registry":
        return `${name}: ${verdict.detail}`;
    }
  }
  return undefined;
}
