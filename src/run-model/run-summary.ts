// What a run produces at its end: one row per node and what the run as a whole met (nodes not
// reached, interruption, a fatal error, helper pods left), and the exit code it means.
import type { NodeRow, NodeStatus } from "./node-result.js";

/** Helper pods the run could not or was told not to delete, and the command that does. */
export interface LeftPods {
  why: string;
  count: number;
  command: string;
}

/** What the summary of every sweep over nodes says (`run`, `list`, `pull`); `Row`: one node's. */
export interface SweepSummary<Row extends { status: NodeStatus }> {
  runId: string;
  /** In the order they finished. */
  nodes: readonly Row[];
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
}

export interface RunSummary extends SweepSummary<NodeRow> {
  dryRun: boolean;
  /**
   * API requests the run made, and per selected node (the benchmark budget is 6); `podView`: what
   * the shared pod view asked for the whole run, and how each node's pods were read.
   */
  requests: {
    total: number;
    perNode: number | undefined;
    byCall: Record<string, number>;
    podView?: PodViewStats;
  };
}

/** What the run's shared pod view did (src/controller/pod-view.ts). */
export interface PodViewStats {
  /** List pages, the first listing and every re-list. */
  listPages: number;
  /** Full re-lists after the watch's resourceVersion expired (410 Gone). */
  relists: number;
  /** Watches re-opened from the last resourceVersion (server timeout or broken connection). */
  rewatches: number;
  /** resourceVersion reads (`list pods?limit=1`), each shared by the nodes that waited for it. */
  fenceReads: number;
  /** Nodes whose pods came from the view. */
  fromView: number;
  /** Nodes whose pods were read by the per-node list (the view was not fresh in time). */
  nodeLists: number;
}

/** 0 every selected node ok; 1 some node failed, was interrupted or not found. (2 is thrown.) */
export function summaryExitCode(summary: SweepSummary<{ status: NodeStatus }>): 0 | 1 {
  const bad =
    summary.nodes.some((n) => n.status !== "ok") ||
    summary.notStarted.length > 0 ||
    summary.missing.length > 0 ||
    summary.interruptedBy !== undefined;
  return bad ? 1 : 0;
}
