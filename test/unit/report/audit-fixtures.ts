// Synthesized run summaries for the audit sinks' tests: many nodes, the longest names Kubernetes
// allows, failures with long reasons, as a 5,000-node cluster would produce.
import type { NodeRow } from "../../../src/run-model/node-result.js";
import type { RunSummary } from "../../../src/run-model/run-summary.js";

/** A node name of `length` characters (Kubernetes allows 253), unique by `i`. */
export function nodeName(i: number, length = 253): string {
  const tail = `-${String(i).padStart(5, "0")}`;
  return `${"n".repeat(Math.max(1, length - tail.length))}${tail}`;
}

export function bigSummary(opts: {
  nodes: number;
  failed?: number;
  nameLength?: number;
  runId?: string;
}): RunSummary {
  const failed = opts.failed ?? 0;
  const rows: NodeRow[] = Array.from({ length: opts.nodes }, (_, i) => {
    const bad = i < failed;
    return {
      node: nodeName(i, opts.nameLength),
      status: bad ? "failed" : "ok",
      ...(bad
        ? { reason: `helper pod stayed Pending: ${"0/5000 nodes are available; ".repeat(40)}` }
        : {}),
      protectedImages: 3,
      durationMs: 4000 + i,
      totals: { deleted: 2, bytesReclaimed: 2 * 1024 ** 3, kept: 5, failed: bad ? 1 : 0 },
    };
  });
  return {
    runId: opts.runId ?? "20261201t030000-1a2b",
    dryRun: false,
    nodes: rows,
    notStarted: [],
    missing: [],
    durationMs: 3_600_000,
    interruptedBy: undefined,
    fatal: undefined,
    leftPods: undefined,
    requests: { total: opts.nodes * 5, perNode: 5, byCall: {} },
  };
}
