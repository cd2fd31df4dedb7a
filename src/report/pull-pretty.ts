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
import { padColumns as pad } from "./table.js";

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
    `  nodes:       ${String(h.selected.length)} selected of ${String(h.nodesListed)} matching ${h.nodeSelector === "" ? "(every node)" : h.nodeSelector}` +
      `, ${h.concurrency === 1 ? "one at a time" : `${String(h.concurrency)} at a time`}`,
    `  helper pods: namespace ${h.namespace}`,
  );
  for (const s of h.skipped) lines.push(`  skipped:     ${s.node}: ${s.reason}`);
  for (const m of h.missing)
    lines.push(`  not found:   ${m} (given with --nodes; not listed with --node-selector)`);
  if (h.sweep.deleted > 0)
    lines.push(
      `  swept:       ${plural(h.sweep.deleted, "helper pod")} left by earlier runs deleted`,
    );
  return lines.map(escapeControl);
}

export function formatPullNode(r: PullNodeResult, done: number, total: number): string[] {
  const prefix = `[${String(done)}/${String(total)}] ${r.node}:`;
  const took = formatMs(r.durationMs);
  const a = r.result;
  if (a === undefined) {
    return [
      r.status === "interrupted"
        ? `${prefix} interrupted after ${took}${r.reason ? `: ${r.reason}` : ""}`
        : `${prefix} FAILED after ${took}: ${r.reason ?? "no result"}`,
    ].map(escapeControl);
  }
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
  const ok = s.nodes.filter((n) => n.status === "ok").length;
  const failed = s.nodes.filter((n) => n.status === "failed").length;
  const interrupted = s.nodes.filter((n) => n.status === "interrupted").length;
  const sum = (k: "pulled" | "present" | "failed" | "not-attempted") =>
    s.nodes.reduce((total, n) => total + (n.counts?.[k] ?? 0), 0);
  // What a node's deadline or a SIGTERM left out is not on the node either: the table's FAILED
  // column counts it, so the line does too.
  const notAttempted = sum("not-attempted");
  const counts = [`${String(ok)} ok`, `${String(failed)} failed`];
  if (interrupted > 0) counts.push(`${String(interrupted)} interrupted`);
  if (s.notStarted.length > 0) counts.push(`${String(s.notStarted.length)} not reached`);
  if (s.missing.length > 0) counts.push(`${String(s.missing.length)} not found`);
  const nodeCount = s.nodes.length + s.notStarted.length + s.missing.length;
  const lines = [
    "",
    `summary of pull ${s.runId}: ${plural(nodeCount, "node")}: ${counts.join(", ")}; ` +
      `${plural(s.images.length, "image")}: ${String(sum("pulled"))} pulled, ${String(sum("present"))} already present, ${String(sum("failed"))} failed${notAttempted > 0 ? `, ${String(notAttempted)} not attempted` : ""} (node x image); ${formatMs(s.durationMs)}`,
  ];
  if (s.nodes.length > 0) {
    const rows = [["NODE", "RESULT", "PULLED", "PRESENT", "FAILED", "TIME"]];
    for (const n of [...s.nodes].sort((a, b) => a.node.localeCompare(b.node))) {
      const c = n.counts;
      rows.push([
        escapeControl(n.node),
        n.status === "ok" ? "ok" : n.status.toUpperCase(),
        c ? String(c.pulled) : "-",
        c ? String(c.present) : "-",
        c ? String(c.failed + c["not-attempted"]) : "-",
        formatMs(n.durationMs),
      ]);
    }
    lines.push(...pad(rows, new Set([2, 3, 4, 5])).map((l) => `  ${l}`));
  }
  const problems = [
    ...s.nodes
      .filter((n) => n.status !== "ok")
      .map((n) => `  ${n.node}: ${n.status}: ${n.reason ?? "no reason recorded"}`),
    ...s.missing.map((m) => `  ${m}: not found: no node of that name matches the node selector`),
  ];
  if (problems.length > 0) lines.push("nodes that need attention:", ...problems);
  if (s.notStarted.length > 0)
    lines.push(
      `${plural(s.notStarted.length, "node")} not reached by this run:`,
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
  return lines.map(escapeControl);
}
