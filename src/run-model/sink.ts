// A report sink consumes a run's outcome and never changes it (DESIGN.md "Where a run's outcome
// goes"): Events on Nodes, the run-report ConfigMap, the Pushgateway (src/report/sinks/). The
// controller calls them through src/controller/sink-runner.ts; the command picks which.
import type { NodeResult } from "./node-result.js";
import type { RunSummary } from "./run-summary.js";

/** What every sink may need to know about the run besides its results. */
export interface SinkContext {
  runId: string;
  /** The helper pods' namespace (the release namespace in the chart). */
  namespace: string;
  /** The release (`--instance`). */
  instance: string;
  dryRun: boolean;
  /** Epoch milliseconds. */
  startedAt: number;
}

export interface RunSink {
  /** Named in the note when the sink fails: `events`, `run report`, `metrics`. */
  readonly name: string;
  /** A node is done (called as each finishes; the runner does not wait for it before the next). */
  node?: (result: NodeResult, ctx: SinkContext) => Promise<void>;
  /** The run is over; `exitCode` is what the command exits with (0 or 1; 2 when stopped by `fatal`). */
  summary?: (
    summary: RunSummary,
    ctx: SinkContext & { finishedAt: number; exitCode: number },
  ) => Promise<void>;
}
