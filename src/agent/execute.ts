// Deletes the planned images: re-checks container and sandbox usage right before each removal
// batch (the race window is one listing plus one client call), removes every reference, then
// lists again, because a runtime can answer success without removing anything. Each batch is
// recorded before and after its call, so an agent killed half-way leaves a record of what went;
// none is started that could not finish before the agent's deadline. A pod bound to the node after the
// controller read the protect list (its sandbox runs, the controller did not know it) stops the
// removals: which images it will pull is not known here (arrived-pods.ts).
import type { Logger } from "../log.js";
import type { KnownPods } from "../config/protect-entries.js";
import { arrivedDetail, arrivedPods } from "./arrived-pods.js";
import type { ImageRecord, Inventory } from "./inventory.js";
import { containerUsage, ImageIndex, sandboxUsage } from "./plan.js";
import type {
  BatchDone,
  BatchStart,
  DeletedImage,
  FailedImage,
  GoneImage,
  KeptImage,
} from "../run-model/agent-result.js";
import type { Removal, RuntimeAdapter } from "./runtime.js";

/** Images per removal call; each batch gets its own usage re-check just before. */
export const REMOVE_BATCH = 25;

/** Time kept free before the deadline: at least this, or twice the longest batch so far. */
export const DEADLINE_RESERVE_MS = 2000;

export interface Execution {
  deleted: DeletedImage[];
  /** Planned, but a container or sandbox started using them before the delete; or not attempted. */
  keptLate: KeptImage[];
  failed: FailedImage[];
  /** Gone before this agent's remove call reached them: no bytes of theirs are counted. */
  alreadyGone: GoneImage[];
  /**
   * Set when batches were left out: the deadline was near, the agent was told to stop, or a pod
   * was bound to the node after the protect list was read.
   */
  stopped?: "deadline" | "signal" | "pod-arrived";
  /** With `pod-arrived`: those pods, `namespace/name`. */
  arrivedPods?: string[];
}

export interface ExecuteOptions {
  dryRun: boolean;
  log: Logger;
  /** Epoch ms by which the agent must have printed its result (--deadline). */
  deadlineMs?: number;
  /** Aborted on SIGTERM: no further batch starts. */
  signal?: AbortSignal;
  now?: () => number;
  /**
   * The pods the controller knew bound to the node (from the protect file): a running sandbox of
   * any other pod stops the removals. Absent: no such check (a bare protect list).
   */
  knownPods?: KnownPods;
  /** Called before each removal call, and after it with what is verifiably gone. */
  onBatch?: (record: { start: BatchStart } | { done: BatchDone }) => void;
  /**
   * Settles before the first removal call is sent (the image filesystem's reading before the
   * removals runs beside the first usage re-check, not before it). Must not reject.
   */
  beforeFirstRemoval?: Promise<unknown>;
  /**
   * Called when the last planned batch's removal call has returned, before its verify listing: the
   * reading after the removals runs beside that listing. Not called when batches were left out.
   */
  afterLastRemoval?: () => void;
}

export async function executePlan(
  candidates: readonly ImageRecord[],
  inventory: Inventory,
  adapter: RuntimeAdapter,
  options: ExecuteOptions,
): Promise<Execution> {
  const out: Execution = { deleted: [], keptLate: [], failed: [], alreadyGone: [] };
  if (candidates.length === 0) return out;
  await adapter.measure(candidates);
  const identity = (i: ImageRecord) => ({ id: i.id, names: i.names });
  if (options.dryRun) {
    out.deleted = candidates.map((i) => ({ ...identity(i), bytes: i.sizeBytes }));
    return out;
  }

  const now = options.now ?? Date.now;
  const index = new ImageIndex(inventory.images);
  let longestBatchMs = 0;
  let batchNo = 0;
  for (let start = 0; start < candidates.length; start += REMOVE_BATCH) {
    const batch = candidates.slice(start, start + REMOVE_BATCH);
    const stop = options.signal?.aborted
      ? "signal"
      : options.deadlineMs !== undefined &&
          now() + Math.max(DEADLINE_RESERVE_MS, 2 * longestBatchMs) > options.deadlineMs
        ? "deadline"
        : undefined;
    if (stop !== undefined) {
      out.stopped = stop;
      const detail =
        stop === "signal"
          ? "the agent was told to stop (SIGTERM) before its removal batch"
          : "the agent's --deadline came before its removal batch";
      for (const i of candidates.slice(start))
        out.keptLate.push({ ...identity(i), reason: "not-attempted", detail });
      break;
    }
    const began = now();
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
    const arrived =
      options.knownPods === undefined ? [] : arrivedPods(usage.sandboxes, options.knownPods);
    if (arrived.length > 0) {
      // Nothing of this batch or the next is deleted: the new pod may need any of them.
      out.stopped = "pod-arrived";
      out.arrivedPods = arrived.map((s) => s.pod);
      const detail = arrivedDetail(arrived);
      for (const i of candidates.slice(start))
        out.keptLate.push({ ...identity(i), reason: "not-attempted", detail });
      break;
    }
    const inUse = containerUsage(index, usage.containers, usage.imageVolumes);
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
    batchNo += 1;
    await options.beforeFirstRemoval;
    options.onBatch?.({ start: { batch: batchNo, images: go.map(identity) } });
    const removal = await adapter.remove(go);
    if (start + REMOVE_BATCH >= candidates.length) options.afterLastRemoval?.();
    const done = await verify(go, removal, adapter);
    options.onBatch?.({
      done: {
        batch: batchNo,
        deleted: done.deleted,
        failed: done.failed,
        ...(done.alreadyGone.length > 0 ? { alreadyGone: done.alreadyGone } : {}),
      },
    });
    out.deleted.push(...done.deleted);
    out.failed.push(...done.failed);
    out.alreadyGone.push(...done.alreadyGone);
    out.keptLate.push(...done.keptLate);
    longestBatchMs = Math.max(longestBatchMs, now() - began);
  }
  return out;
}

/**
 * How a runtime refuses to remove an image a container uses: CRI-O (containers/storage) says "image is
 * in use by a container", or "the image is in use by <container>" for an image volume; the Docker Engine
 * (also through cri-dockerd) "image is being used by running|stopped container <id>", or "container
 * <id> is using its referenced image <id>" for a name. containerd removes the reference and lets the
 * container run on.
 */
const IN_USE_REFUSAL =
  /image is (?:in use|being used) by [^;:\n]*|container [0-9a-f]+ is using its referenced image [0-9a-f]+/;
/** The docker client's note of the names it removed before the Engine refused the last one. */
const NAMES_REMOVED = /names removed before that: [^\n]*/;

/** Lists what is left after a removal call: deleted means nothing holds the content any more. */
async function verify(
  attempted: readonly ImageRecord[],
  removal: Removal,
  adapter: RuntimeAdapter,
): Promise<{
  deleted: DeletedImage[];
  failed: FailedImage[];
  keptLate: KeptImage[];
  alreadyGone: GoneImage[];
}> {
  const identity = (i: ImageRecord) => ({ id: i.id, names: i.names });
  const errors = removal.errors;
  const out = {
    deleted: [] as DeletedImage[],
    failed: [] as FailedImage[],
    keptLate: [] as KeptImage[],
    alreadyGone: [] as GoneImage[],
  };
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
    const error = errors.get(image.id);
    if (keys.some((k) => present.has(k)) && error !== undefined && IN_USE_REFUSAL.test(error)) {
      // A container started using it after the re-check, and the runtime said so: what the agent
      // would have kept had it seen that container, not a failure.
      out.keptLate.push({
        ...identity(image),
        reason: "in-use",
        detail:
          `the runtime refused to remove it: ${IN_USE_REFUSAL.exec(error)?.[0] ?? error} (appeared during the run)` +
          (NAMES_REMOVED.test(error) ? `; ${NAMES_REMOVED.exec(error)?.[0] ?? ""}` : ""),
      });
    } else if (keys.some((k) => present.has(k))) {
      // A call cut short (its time limit, the node's deadline) may have removed some references
      // and not the rest: ctr removes them in order, the CRI plugin's `sha256:<id>` one last. The
      // names it did remove are gone from the node, and the run log must say so.
      const removed = image.names.filter((n) => !present.has(n));
      const namesGone = removed.length > 0 ? `; names removed: ${removed.join(", ")}, but ` : "; ";
      out.failed.push({
        ...identity(image),
        error: `${errors.get(image.id) ?? "still present after the runtime reported it removed"}${namesGone}references left, so its content is not freed: ${holders.join(", ") || image.id}`,
      });
    } else if (removal.alreadyGone.has(image.id)) {
      // Gone, but not by this call: counting it (and its bytes) would claim another's deletion.
      out.alreadyGone.push({ ...identity(image), detail: removal.alreadyGone.get(image.id) ?? "" });
    } else {
      out.deleted.push({ ...identity(image), bytes: image.sizeBytes });
    }
  }
  return out;
}
