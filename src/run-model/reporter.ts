// What a run tells as it goes: the header, each node as it finishes, notes, the summary. The
// controller calls this interface; src/report/run-reporter.ts writes it as readable lines or JSON
// records, and the command picks which.
import type { NodeResult } from "./node-result.js";
import type { RunHeader } from "./run-header.js";
import type { RunSummary } from "./run-summary.js";

export interface RunReporter {
  header(header: RunHeader): void;
  /** A node finished (`done` of `total`, in finishing order). */
  node(result: NodeResult, done: number, total: number): void;
  /** Something the operator should read that is not a node's result (a permission fell back). */
  note(message: string): void;
  summary(summary: RunSummary): void;
}
