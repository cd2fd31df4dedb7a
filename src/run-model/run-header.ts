// What the run header shows, before any node starts: where the run goes, what it looks for, which
// nodes it visits and which it leaves out (with the reason).

/** A node the selection left out, and why (src/controller/node-selection.ts). */
export interface SkippedNode {
  node: string;
  reason: string;
}

/** The retention rules and the helper's access, as given (undefined: not set). */
export interface RunRules {
  keepNewest: string | undefined;
  maxImagesPerNode: string | undefined;
  maxBytesPerNode: string | undefined;
  /** --only-if-pullable: the registry timeout and the pull Secrets read for credentials. */
  onlyIfPullable: { registryTimeout: string; pullSecrets: readonly string[] } | undefined;
  helperMode: "privileged" | "socket";
  /** --node-timeout as text, e.g. `10m`. */
  nodeTimeout: string;
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
  /** Every other rule the agents decide by, so the log alone says under which rules a run deleted. */
  rules: RunRules;
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
