// What a run produces: one result per node and a summary. A failure on one node is data here, never
// an exception that stops the others.
import type { AgentResult } from "../agent/result.js";
import type { PartialRecord } from "./agent-log.js";
import type { SkippedNode } from "./node-selection.js";

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
  /** How many images pods on the node reference (passed to the agent as --protect). */
  protectedImages: number;
  durationMs: number;
}

/** The numbers the summary needs from a node's agent result. */
export interface NodeTotals {
  deleted: number;
  bytesReclaimed: number;
  /** What the image filesystem got back, as the runtime reports it, where it was measured. */
  imageFsFreedBytes?: number;
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
      ...(result.imageFs === undefined ? {} : { imageFsFreedBytes: result.imageFs.freedBytes }),
      ...(result.limit === undefined ? {} : { cutByLimit: result.limit.cut }),
    },
  };
}

/** What the run header shows, before any node starts. */
export interface RunHeader {
  runId: string;
  server: string;
  credentials: string;
  namespace: string;
  include: readonly string[];
  exclude: readonly string[];
  minAge: string | undefined;
  dryRun: boolean;
  concurrency: number;
  nodeSelector: string;
  /** Nodes the selector returned. */
  nodesListed: number;
  selected: readonly string[];
  /** The node the run starts with (the name order rotated by the run's start time, node-order.ts). */
  startsAt?: string | undefined;
  skipped: readonly SkippedNode[];
  missing: readonly string[];
  /**
   * Helper pods of earlier runs that are over: deleted now, or left (when deletion is not allowed);
   * `running`: pods of other runs still in progress, left alone.
   */
  sweep: { deleted: number; left: number; running?: number };
}

/** Helper pods the run could not or was told not to delete, and the command that does. */
export interface LeftPods {
  why: string;
  count: number;
  command: string;
}

export interface RunSummary {
  runId: string;
  dryRun: boolean;
  /** In the order they finished. */
  nodes: readonly NodeRow[];
  /**
   * Selected nodes the run never reached (it was interrupted, e.g. by the Job's deadline, or stopped
   * by a fatal error), in the order it would have visited them.
   */
  notStarted: readonly string[];
  /** Names given with --nodes that no listed node had. */
  missing: readonly string[];
  durationMs: number;
  /** The signal that interrupted the run, e.g. `SIGTERM`. */
  interruptedBy: string | undefined;
  /** The error that stopped the run (forbidden, credentials refused). */
  fatal: string | undefined;
  leftPods: LeftPods | undefined;
  /** API requests the run made, and per selected node (the benchmark budget is 6). */
  requests: { total: number; perNode: number | undefined; byCall: Record<string, number> };
}

/** 0 every selected node ok; 1 some node failed, was interrupted or not found. (2 is thrown.) */
export function summaryExitCode(summary: RunSummary): 0 | 1 {
  const bad =
    summary.nodes.some((n) => n.status !== "ok") ||
    summary.notStarted.length > 0 ||
    summary.missing.length > 0 ||
    summary.interruptedBy !== undefined;
  return bad ? 1 : 0;
}
