// What a run produces for each node: its status, the agent's result or what its log left, and the
// totals the summary keeps. A failure on one node is data here, never an exception that stops the
// others.
import type {
  AgentResult,
  DeletedImage,
  FailedImage,
  GoneImage,
  ImageIdentity,
} from "./agent-result.js";

export type NodeStatus = "ok" | "failed" | "interrupted";

export interface NodeResult {
  node: string;
  status: NodeStatus;
  /** Why the node failed or was interrupted; for `ok`, undefined. */
  reason?: string;
  /** The agent's result, when its log held one (also for nodes failed by image deletions). */
  result?: AgentResult;
  /**
   * Without a result: what the agent's batch records say it removed before it was stopped (node
   * timeout, OOM, SIGTERM, a result that could not be parsed), read from its log before the pod
   * was deleted.
   */
  partial?: PartialRecord;
  /** The helper pod's name, once it was created. */
  pod?: string;
  /**
   * What the node's section must say besides the result, one line each: e.g. a deleted image that
   * a pod bound to the node after its protect list was read needs (controller/known-pods.ts).
   */
  notes?: string[];
  /** How many images pods on the node reference (passed to the agent as --protect). */
  protectedImages: number;
  durationMs: number;
  /**
   * From the helper pod's create to its result read (the log parsed): the node's own time, without
   * the work before the create and the delete after. Absent when no helper pod was created.
   */
  helperMs?: number;
}

/**
 * What an agent that did not finish recorded of its removals: the images its `removed images`
 * records list as verifiably gone, those they list as failed, and those a `removing images` record
 * announced without an outcome (the agent died during that call: they may or may not be gone).
 */
export interface PartialRecord {
  deleted: DeletedImage[];
  failed: FailedImage[];
  unknown: ImageIdentity[];
  /** Gone before the agent's remove call reached them (not counted as deleted). */
  alreadyGone?: GoneImage[];
}

/** The numbers the summary needs from a node's agent result. */
export interface NodeTotals {
  deleted: number;
  bytesReclaimed: number;
  /**
   * What the image filesystem got back, as the runtime reports it, where that figure is exact; a
   * pending one (the runtime had not caught up) is never a total: `imageFsPending` says it was one.
   */
  imageFsFreedBytes?: number;
  imageFsPending?: true;
  /** Images kept for a reason other than `no-match`. */
  kept: number;
  failed: number;
  /** Images a per-node limit left for a later run (kept with reason `limit`), when one did. */
  cutByLimit?: number;
}

/**
 * What the summary keeps of a node once its section is printed: totals, not the agent's full result
 * (a node with 1,000 images has a result of ~250 KiB; 1,000 of them would dominate the memory).
 */
export type NodeRow = Omit<NodeResult, "result"> & { totals?: NodeTotals };

export function nodeRow(r: NodeResult): NodeRow {
  const { result, partial, ...rest } = r;
  if (result === undefined) {
    if (partial === undefined) return rest;
    return {
      ...rest,
      totals: {
        deleted: partial.deleted.length,
        bytesReclaimed: partial.deleted.reduce((sum, d) => sum + d.bytes, 0),
        kept: 0,
        failed: partial.failed.length,
      },
    };
  }
  return {
    ...rest,
    totals: {
      deleted: result.deleted.length,
      bytesReclaimed: result.bytesReclaimed,
      kept: result.kept.reduce((n, k) => n + (k.reason === "no-match" ? 0 : 1), 0),
      failed: result.failed.length,
      ...(result.imageFs === undefined
        ? {}
        : result.imageFs.state === "exact"
          ? { imageFsFreedBytes: result.imageFs.freedBytes }
          : { imageFsPending: true as const }),
      ...(result.limit === undefined ? {} : { cutByLimit: result.limit.cut }),
    },
  };
}
