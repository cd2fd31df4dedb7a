// The readable pre-pull log (`kubectl logs job/...-pre-pull-...`): a header, one section per node as
// it finishes (per image: pulled / already present / failed: reason), and a summary. Pure
// functions from results to lines; every line is escaped (image names and registry messages).
import {
  outcomeText,
  type PullHeader,
  type PullNodeResult,
  type PullSummary,
} from "../run-model/pull-result.js";
import { escapeControl } from "../text/escape.js";
import { formatMs, plural } from "../text/units.js";
import * as sweep from "./sweep-lines.js";

export function formatPullHeader(h: PullHeader): string[] {
  const lines = [
    `kube-image-cleanup pull ${h.runId}`,
    `  api server:  ${h.server} (${h.credentials})`,
    `  images:      ${h.images.join("  ")}`,
  ];
  if (h.imagesOf !== undefined)
    lines.push(
      `  images of:   ${h.imagesOf}: its images, on the nodes it could run on (nodeSelector, required node affinity, taints; not evaluated: ${h.notEvaluated ?? "-"})`,
    );
  if (h.pullSecrets.length > 0) lines.push(`  pull secrets: ${h.pullSecrets.join(", ")}`);
  lines.push(
    sweep.nodesLine(h),
    `  helper pods: namespace ${h.namespace}`,
    ...sweep.selectionLines(h),
  );
  return lines.map(escapeControl);
}

export function formatPullNode(r: PullNodeResult, done: number, total: number): string[] {
  const prefix = sweep.nodePrefix(r.node, done, total);
  const took = formatMs(r.durationMs);
  const a = r.result;
  if (a === undefined) return [sweep.unfinishedLine(r, prefix, r.durationMs)].map(escapeControl);
  const c = a.counts;
  const parts = [`${String(c.pulled)} pulled`, `${String(c.present)} already present`];
  if (c.failed > 0) parts.push(`${String(c.failed)} FAILED`);
  if (c["not-attempted"] > 0) parts.push(`${String(c["not-attempted"])} not attempted`);
  const lines = [`${prefix} ${r.status === "ok" ? "" : "FAILED: "}${parts.join(", ")}, ${took}`];
  for (const o of a.images) {
    const tries = o.attempts > 1 ? ` (after ${String(o.attempts)} attempts)` : "";
    lines.push(`    ${o.image}  ${outcomeText(o)}${tries}`);
  }
  return lines.map(escapeControl);
}

export function formatPullSummary(s: PullSummary): string[] {
  const sum = (k: "pulled" | "present" | "failed" | "not-attempted") =>
    s.nodes.reduce((total, n) => total + (n.counts?.[k] ?? 0), 0);
  // What a node's deadline or a SIGTERM left out is not on the node either: the table's FAILED
  // column counts it, so the line does too.
  const notAttempted = sum("not-attempted");
  const { counts, nodeCount } = sweep.nodeCounts(s);
  const lines = [
    "",
    `summary of pull ${s.runId}: ${plural(nodeCount, "node")}: ${counts.join(", ")}; ` +
      `${plural(s.images.length, "image")}: ${String(sum("pulled"))} pulled, ${String(sum("present"))} already present, ${String(sum("failed"))} failed${notAttempted > 0 ? `, ${String(notAttempted)} not attempted` : ""} (node x image); ${formatMs(s.durationMs)}`,
  ];
  if (s.nodes.length > 0)
    lines.push(
      ...sweep.nodeTable(s.nodes, ["PULLED", "PRESENT", "FAILED"], ({ counts: c }) => [
        c ? String(c.pulled) : "-",
        c ? String(c.present) : "-",
        c ? String(c.failed + c["not-attempted"]) : "-",
      ]),
    );
  lines.push(...sweep.closingLines(s, ""));
  return lines.map(escapeControl);
}
