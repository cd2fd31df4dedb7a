// What the run header shows, before any node starts: where the run goes, what it looks for, which
// nodes it visits and which it leaves out (with the reason).

/** A node the selection left out, and why (src/controller/node-selection.ts). */
export interface SkippedNode {
  node: string;
  reason: string;
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
  /**
   * The node the run starts with (the name order rotated by the run's start time,
   * src/controller/node-order.ts).
   */
  startsAt?: string | undefined;
  skipped: readonly SkippedNode[];
  missing: readonly string[];
  /**
   * Helper pods of earlier runs that are over: deleted now, or left (when deletion is not allowed);
   * `running`: pods of other runs still in progress, left alone.
   */
  sweep: { deleted: number; left: number; running?: number };
}
