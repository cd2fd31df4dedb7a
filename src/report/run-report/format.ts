// `kube-image-cleanup report`: the stored runs as the run log's tables. One line per run (newest
// first), then the nodes of one run. Everything stored came from nodes and the API server: every
// line is escaped.
import { escapeControl } from "../../text/escape.js";
import { formatTable } from "../table.js";
import { formatBytes, formatMs, plural } from "../../text/units.js";
import type { StoredNode, StoredReport, StoredRun } from "./stored-run.js";

const when = (iso: string) => iso.replace("T", " ").replace(/\.\d+Z$/, "Z");

export function runResult(run: StoredRun): string {
  if (run.fatal !== undefined) return "STOPPED";
  if (run.interruptedBy !== undefined) return "INTERRUPTED";
  return run.exitCode === 0 ? "ok" : "FAILED";
}

export function formatRunList(report: StoredReport, where: string): string[] {
  if (report.runs.length === 0)
    return [escapeControl(`run report ${where}: no runs yet (each run adds itself when it ends)`)];
  const lines = [`run report ${where}: ${plural(report.runs.length, "run")}, newest first`];
  const rows = report.runs.map((r) => [
    r.runId,
    when(r.startedAt),
    `${runResult(r)}${r.dryRun ? " (dry run)" : ""}`,
    String(r.totals.nodes),
    String(r.totals.ok),
    String(r.totals.nodes - r.totals.ok),
    String(r.totals.deleted),
    formatBytes(r.totals.bytes),
    formatMs(r.durationMs),
  ]);
  if (rows.length > 0)
    lines.push(
      ...formatTable(
        ["RUN", "STARTED", "RESULT", "NODES", "OK", "NOT OK", "DELETED", "RECLAIMED", "TIME"],
        rows,
        new Set([3, 4, 5, 6, 7, 8]),
      ).map((l) => `  ${l}`),
    );
  return lines.map(escapeControl);
}

const STATUS: Record<StoredNode["status"], string> = {
  ok: "ok",
  failed: "FAILED",
  interrupted: "INTERRUPTED",
  "not-reached": "NOT REACHED",
  "not-found": "NOT FOUND",
};

/** One run as its summary in the Job log: the count line, the node table, the nodes to look at. */
export function formatStoredRun(run: StoredRun): string[] {
  const t = run.totals;
  const counts = [`${t.ok} ok`, `${t.failed} failed`];
  if (t.interrupted > 0) counts.push(`${t.interrupted} interrupted`);
  if (t.notReached > 0) counts.push(`${t.notReached} not reached`);
  if (t.notFound > 0) counts.push(`${t.notFound} not found`);
  const lines = [
    `run ${run.runId}${run.dryRun ? " (dry run)" : ""}, started ${when(run.startedAt)}: ` +
      `${plural(t.nodes, "node")}: ${counts.join(", ")}; ` +
      `${run.dryRun ? "would delete" : "deleted"} ${plural(t.deleted, "image")}, ${formatBytes(t.bytes)} ${run.dryRun ? "to reclaim" : "reclaimed"}; ` +
      `${formatMs(run.durationMs)}; exit code ${run.exitCode}`,
  ];
  if (run.nodes.length > 0) {
    const rows = [...run.nodes]
      .sort((a, b) => a.node.localeCompare(b.node))
      .map((n) => [
        n.node,
        STATUS[n.status],
        n.deleted === undefined ? "-" : String(n.deleted),
        n.bytes === undefined ? "-" : formatBytes(n.bytes),
        n.kept === undefined ? "-" : String(n.kept),
        n.failed === undefined ? "-" : String(n.failed),
        n.ms === undefined ? "-" : formatMs(n.ms),
      ]);
    lines.push(
      ...formatTable(
        [
          "NODE",
          "RESULT",
          run.dryRun ? "WOULD DELETE" : "DELETED",
          "RECLAIMED",
          "KEPT",
          "FAILED",
          "TIME",
        ],
        rows,
        new Set([2, 3, 4, 5, 6]),
      ).map((l) => `  ${l}`),
    );
  }
  if ((run.omittedNodes ?? 0) > 0)
    lines.push(
      `  (${plural(run.omittedNodes ?? 0, "more node")} not kept in the report to keep it small; the totals above count them)`,
    );
  const problems = run.nodes
    .filter((n) => n.status !== "ok" && n.status !== "not-reached")
    .map(
      (n) => `  ${n.node}: ${STATUS[n.status].toLowerCase()}: ${n.reason ?? "no reason recorded"}`,
    );
  if (problems.length > 0) lines.push("nodes that need attention:", ...problems);
  if (run.interruptedBy !== undefined) lines.push(`run interrupted by ${run.interruptedBy}`);
  if (run.fatal !== undefined) lines.push(`run stopped: ${run.fatal}`);
  return lines.map(escapeControl);
}
