// Deletes the planned images: re-checks container and sandbox usage right before each removal
// batch (the race window is one listing plus one client call), removes every reference, then
// lists again, because a runtime can answer success without removing anything.
import type { Logger } from "../log.js";
import type { ImageRecord, Inventory } from "./inventory.js";
import { containerUsage, ImageIndex, sandboxUsage } from "./plan.js";
import type { DeletedImage, FailedImage, KeptImage } from "./result.js";
import type { RuntimeAdapter } from "./runtime.js";

/** Images per removal call; each batch gets its own usage re-check just before. */
export const REMOVE_BATCH = 25;

export interface Execution {
  deleted: DeletedImage[];
  /** Planned, but a container or sandbox started using them before the delete. */
  keptLate: KeptImage[];
  failed: FailedImage[];
}

export async function executePlan(
  candidates: readonly ImageRecord[],
  inventory: Inventory,
  adapter: RuntimeAdapter,
  options: { dryRun: boolean; log: Logger },
): Promise<Execution> {
  const out: Execution = { deleted: [], keptLate: [], failed: [] };
  if (candidates.length === 0) return out;
  await adapter.measure(candidates);
  const identity = (i: ImageRecord) => ({ id: i.id, names: i.names });
  if (options.dryRun) {
    out.deleted = candidates.map((i) => ({ ...identity(i), bytes: i.sizeBytes }));
    return out;
  }

  const index = new ImageIndex(inventory.images);
  const attempted: ImageRecord[] = [];
  const errors = new Map<string, string>();
  for (let start = 0; start < candidates.length; start += REMOVE_BATCH) {
    const batch = candidates.slice(start, start + REMOVE_BATCH);
    let usage;
    try {
      usage = await adapter.usage();
    } catch (err) {
      // Not knowing whether a container uses an image means not deleting it.
      for (const i of batch)
        out.failed.push({
          ...identity(i),
          error: `usage re-check failed, not deleted: ${String(err)}`,
        });
      continue;
    }
    const inUse = containerUsage(index, usage.containers);
    const sandbox = sandboxUsage(index, [], usage.sandboxes, inventory.configuredSandboxImage);
    const go: ImageRecord[] = [];
    for (const image of batch) {
      const sandboxDetail = sandbox.get(image.id);
      const useDetail = inUse.get(image.id);
      if (sandboxDetail !== undefined) {
        out.keptLate.push({
          ...identity(image),
          reason: "sandbox",
          detail: `${sandboxDetail} (appeared during the run)`,
        });
      } else if (useDetail !== undefined) {
        out.keptLate.push({
          ...identity(image),
          reason: "in-use",
          detail: `${useDetail} (appeared during the run)`,
        });
      } else {
        go.push(image);
      }
    }
    if (go.length === 0) continue;
    options.log.debug({ ids: go.map((i) => i.id) }, "removing images");
    for (const [id, message] of await adapter.remove(go)) errors.set(id, message);
    attempted.push(...go);
  }

  if (attempted.length === 0) return out;
  let present: Map<string, string[]>;
  try {
    present = await adapter.present();
  } catch (err) {
    for (const image of attempted)
      out.failed.push({ ...identity(image), error: `removal not verified: ${String(err)}` });
    return out;
  }
  for (const image of attempted) {
    // By content, not by name: the id and every manifest digest. A reference the inventory could not
    // read still holds the content, and the image is not deleted while it does; a tag that moved
    // to another image meanwhile does not hold this one.
    const keys = [image.id, ...image.digests];
    const holders = [...new Set(keys.flatMap((k) => present.get(k) ?? []))];
    if (keys.some((k) => present.has(k))) {
      out.failed.push({
        ...identity(image),
        error: `${errors.get(image.id) ?? "still present after the runtime reported it removed"}; references left, so its content is not freed: ${holders.join(", ") || image.id}`,
      });
    } else {
      out.deleted.push({ ...identity(image), bytes: image.sizeBytes });
    }
  }
  return out;
}
