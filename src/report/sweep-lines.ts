// The lines every readable sweep log has, `run`'s (pretty.ts) and `pull`'s (pull-pretty.ts) alike:
// the header's nodes and what the selection left out, a node that did not finish, and the summary's
// node counts and closing lines. Not escaped here: each formatter escapes its lines as a whole.
import type { NodeStatus } from "../run-model/node-result.js";
import type { RunHeader } from "../run-model/run-header.js";
import type { SweepSummary } from "../run-model/run-summary.js";
import { escapeControl } from "../text/escape.js";
import { formatMs, plural } from "../text/units.js";
import { padColumns } from "./table.js";

type Row = { node: string; status: NodeStatus; reason?: string };

/** `  nodes:       3 selected of 5 matching ..., 2 at a time`. */
export function nodesLine(
  h: Pick<RunHeader, "selected" | "nodesListed" | "nodeSelector" | "concurrency">,
): string {
  return (
    `  nodes:       ${String(h.selected.length)} selected of ${String(h.nodesListed)} matching ${h.nodeSelector === "" ? "(every node)" : h.nodeSelector}` +
    `, ${h.concurrency === 1 ? "one at a time" : `${String(h.concurrency)} at a time`}`
  );
}

/** Nodes skipped or not found, and the helper pods of earlier runs deleted. */
export function selectionLines(h: Pick<RunHeader, "skipped" | "missing" | "sweep">): string[] {
  const lines = h.skipped.map((s) => `  skipped:     ${s.node}: ${s.reason}`);
  for (const m of h.missing)
    lines.push(`  not found:   ${m} (given with --nodes; not listed with --node-selector)`);
  if (h.sweep.deleted > 0)
    lines.push(
      `  swept:       ${plural(h.sweep.deleted, "helper pod")} left by earlier runs deleted`,
    );
  return lines;
}

/** `[2/5] node-a:`, the start of a node's section. */
export function nodePrefix(node: string, done: number, total: number): string {
  return `[${String(done)}/${String(total)}] ${node}:`;
}

/** A node without a result: interrupted, or failed with the reason. */
export function unfinishedLine(r: Omit<Row, "node">, prefix: string, durationMs: number): string {
  const took = formatMs(durationMs);
  return r.status === "interrupted"
    ? `${prefix} interrupted after ${took}${r.reason ? `: ${r.reason}` : ""}`
    : `${prefix} FAILED after ${took}: ${r.reason ?? "no result"}`;
}

/** `3 ok, 1 failed, 1 not reached` and how many nodes that is. */
export function nodeCounts(s: SweepSummary<Row>): { counts: string[]; nodeCount: number } {
  const count = (status: NodeStatus) => s.nodes.filter((n) => n.status === status).length;
  const counts = [`${String(count("ok"))} ok`, `${String(count("failed"))} failed`];
  const interrupted = count("interrupted");
  if (interrupted > 0) counts.push(`${String(interrupted)} interrupted`);
  if (s.notStarted.length > 0) counts.push(`${String(s.notStarted.length)} not reached`);
  if (s.missing.length > 0) counts.push(`${String(s.missing.length)} not found`);
  return { counts, nodeCount: s.nodes.length + s.notStarted.length + s.missing.length };
}

/**
 * The summary's table, a row per node by name: NODE, RESULT, the command's own `columns` (`cells`
 * of a node), TIME; every column after RESULT right-aligned.
 */
export function nodeTable<N extends Row & { durationMs: number }>(
  nodes: readonly N[],
  columns: readonly string[],
  cells: (node: N) => string[],
): string[] {
  const rows = [["NODE", "RESULT", ...columns, "TIME"]];
  for (const n of [...nodes].sort((a, b) => a.node.localeCompare(b.node)))
    rows.push([
      escapeControl(n.node),
      n.status === "ok" ? "ok" : n.status.toUpperCase(),
      ...cells(n),
      formatMs(n.durationMs),
    ]);
  const right = new Set(Array.from({ length: columns.length + 1 }, (_, i) => i + 2));
  return padColumns(rows, right).map((l) => `  ${l}`);
}

/**
 * The nodes that need attention, those not reached (`notReached`: what the heading adds), and how
 * the run ended: interrupted, stopped, helper pods left.
 */
export function closingLines(s: SweepSummary<Row>, notReached: string): string[] {
  const lines: string[] = [];
  const problems = [
    ...s.nodes
      .filter((n) => n.status !== "ok")
      .map((n) => `  ${n.node}: ${n.status}: ${n.reason ?? "no reason recorded"}`),
    ...s.missing.map((m) => `  ${m}: not found: no node of that name matches the node selector`),
  ];
  if (problems.length > 0) lines.push("nodes that need attention:", ...problems);
  if (s.notStarted.length > 0)
    lines.push(
      `${plural(s.notStarted.length, "node")} not reached by this run${notReached}:`,
      ...s.notStarted.map((m) => `  ${m}`),
    );
  if (s.interruptedBy !== undefined)
    lines.push(
      `run interrupted by ${s.interruptedBy}: no new nodes were started and the helper pods in flight were deleted`,
    );
  if (s.fatal !== undefined) lines.push(`run stopped: ${s.fatal}`);
  if (s.leftPods !== undefined)
    lines.push(
      `${plural(s.leftPods.count, "helper pod")} left (${s.leftPods.why}); delete ${s.leftPods.count === 1 ? "it" : "them"} with:`,
      `  ${s.leftPods.command}`,
    );
  return lines;
}
