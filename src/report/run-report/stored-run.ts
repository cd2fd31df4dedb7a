// What the run-report ConfigMap keeps of one run: the summary's numbers and one row per node
// (result, deleted, bytes, failures), as plain JSON. Node names and reasons are stored as they
// came; whoever prints them escapes them (src/report/run-report/format.ts).
import type { NodeStatus } from "../../run-model/node-result.js";
import type { RunSummary } from "../../run-model/run-summary.js";

/** A node's row; `not-reached` and `not-found` are selected nodes the run never cleaned. */
export interface StoredNode {
  node: string;
  status: NodeStatus | "not-reached" | "not-found";
  deleted?: number;
  /** Sum of the deleted images' sizes. */
  bytes?: number;
  kept?: number;
  /** Images whose deletion failed. */
  failed?: number;
  ms?: number;
  reason?: string;
}

export interface StoredTotals {
  nodes: number;
  ok: number;
  failed: number;
  interrupted: number;
  notReached: number;
  notFound: number;
  deleted: number;
  bytes: number;
  failedImages: number;
}

export interface StoredRun {
  runId: string;
  startedAt: string;
  finishedAt: string;
  durationMs: number;
  dryRun: boolean;
  /** The command's exit code: 0 every node ok, 1 some node not, 2 stopped by a fatal error. */
  exitCode: number;
  totals: StoredTotals;
  interruptedBy?: string;
  fatal?: string;
  /** Not-ok rows first, then ok rows, each by name. */
  nodes: StoredNode[];
  /** Rows left out to keep the report within its size (their numbers are in `totals`). */
  omittedNodes?: number;
}

export const REPORT_FORMAT_VERSION = 1;

/** The JSON document under the ConfigMap's data key. */
export interface StoredReport {
  version: typeof REPORT_FORMAT_VERSION;
  /** Newest first. */
  runs: StoredRun[];
}

/** Longest reason kept per node: the full text is in the Job log while it lasts. */
export const REASON_MAX = 300;

const clip = (text: string) =>
  text.length <= REASON_MAX ? text : `${text.slice(0, REASON_MAX - 1)}…`;

const RANK: Record<StoredNode["status"], number> = {
  failed: 0,
  interrupted: 1,
  "not-found": 2,
  "not-reached": 3,
  ok: 4,
};

export function storedRun(
  s: RunSummary,
  at: { startedAt: number; finishedAt: number; exitCode: number },
): StoredRun {
  const nodes: StoredNode[] = s.nodes.map((n) => {
    const row: StoredNode = { node: n.node, status: n.status, ms: n.durationMs };
    if (n.totals !== undefined) {
      row.deleted = n.totals.deleted;
      row.bytes = n.totals.bytesReclaimed;
      row.kept = n.totals.kept;
      row.failed = n.totals.failed;
    }
    if (n.status !== "ok" && n.reason !== undefined) row.reason = clip(n.reason);
    return row;
  });
  for (const node of s.notStarted) nodes.push({ node, status: "not-reached" });
  for (const node of s.missing) nodes.push({ node, status: "not-found" });
  nodes.sort((a, b) => RANK[a.status] - RANK[b.status] || a.node.localeCompare(b.node));
  const count = (status: StoredNode["status"]) => nodes.filter((n) => n.status === status).length;
  const run: StoredRun = {
    runId: s.runId,
    startedAt: new Date(at.startedAt).toISOString(),
    finishedAt: new Date(at.finishedAt).toISOString(),
    durationMs: s.durationMs,
    dryRun: s.dryRun,
    exitCode: at.exitCode,
    totals: {
      nodes: nodes.length,
      ok: count("ok"),
      failed: count("failed"),
      interrupted: count("interrupted"),
      notReached: count("not-reached"),
      notFound: count("not-found"),
      deleted: nodes.reduce((sum, n) => sum + (n.deleted ?? 0), 0),
      bytes: nodes.reduce((sum, n) => sum + (n.bytes ?? 0), 0),
      failedImages: nodes.reduce((sum, n) => sum + (n.failed ?? 0), 0),
    },
    nodes,
  };
  if (s.interruptedBy !== undefined) run.interruptedBy = s.interruptedBy;
  if (s.fatal !== undefined) run.fatal = clip(s.fatal);
  return run;
}
