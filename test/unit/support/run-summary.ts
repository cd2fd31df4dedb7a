// A run's summary for the report tests: one run that reached every node it selected, was neither
// interrupted nor stopped and left no helper pods; each test says what differs.
import type { RunSummary } from "../../../src/run-model/run-summary.js";

export const runSummary = (over: Partial<RunSummary> = {}): RunSummary => ({
  runId: "r1",
  dryRun: false,
  nodes: [],
  notStarted: [],
  missing: [],
  durationMs: 5,
  interruptedBy: undefined,
  fatal: undefined,
  leftPods: undefined,
  requests: { total: 1, perNode: 1, byCall: {} },
  ...over,
});
