// What a run tells as it goes: the header, each node as it finishes, notes, the summary. The
// controller calls this interface; src/report/run-reporter.ts (pull-reporter.ts for `pull`) writes
// it as readable lines or JSON records, and the command picks which.
import type { NodeResult } from "./node-result.js";
import type { RunHeader } from "./run-header.js";
import type { RunSummary } from "./run-summary.js";

/** A sweep's reporter: header `H`, a node's result `N`, summary `S`. */
export interface SweepReporter<H, N, S> {
  header(header: H): void;
  /** A node finished (`done` of `total`, in finishing order). */
  node(result: N, done: number, total: number): void;
  /** Something the operator should read that is not a node's result (a permission fell back). */
  note(message: string): void;
  summary(summary: S): void;
}

export type RunReporter = SweepReporter<RunHeader, NodeResult, RunSummary>;
