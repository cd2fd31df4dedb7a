// The readable run log (`kubectl logs job/...`): a header, one section per node as it finishes, and
// a summary table. Pure functions from results to lines, so the format is tested as text.
import type { AgentResult } from "../run-model/agent-result.js";
import type { KeepReason } from "../run-model/keep-reason.js";
import type { NodeResult } from "../run-model/node-result.js";
import type { RunSummary } from "../run-model/run-summary.js";
import type { RunHeader } from "../run-model/run-header.js";
import { bytesLine } from "../run-model/bytes-line.js";
import { escapeControl } from "../text/escape.js";
import { formatBytes, formatMs, plural } from "../text/units.js";
import * as sweep from "./sweep-lines.js";

const shortId = (id: string) => id.replace(/^sha256:/, "").slice(0, 12);
const imageLabel = (i: { id: string; names: readonly string[] }) =>
  i.names[0] ?? `<untagged ${shortId(i.id)}>`;

export function formatHeader(h: RunHeader): string[] {
  const lines = [
    `kube-image-cleanup run ${h.runId}${h.dryRun ? " (DRY RUN: nothing is deleted)" : ""}`,
    `  api server:  ${h.server} (${h.credentials})`,
    `  include:     ${h.include.join("  ")}`,
  ];
  // Every rule is printed, "none" too: the Job log alone says what was decided under which rules.
  const r = h.rules;
  const limits = [
    r.maxImagesPerNode === undefined ? undefined : `at most ${r.maxImagesPerNode} images`,
    r.maxBytesPerNode === undefined ? undefined : `at most ${r.maxBytesPerNode}`,
  ].filter((x) => x !== undefined);
  const pullable = r.onlyIfPullable;
  lines.push(
    `  exclude:     ${h.exclude.length > 0 ? h.exclude.join("  ") : "none"}`,
    `  min age:     ${h.minAge ?? "none (any age)"}`,
    `  keep newest: ${r.keepNewest === undefined ? "none" : `${r.keepNewest} per repository`}`,
    `  limits:      ${limits.length > 0 ? `${limits.join(" and ")} per node (oldest first)` : "none"}`,
    `  registry:    ${
      pullable === undefined
        ? "not asked (--only-if-pullable off)"
        : `only images the registry still serves (--only-if-pullable, timeout ${pullable.registryTimeout}` +
          `${pullable.pullSecrets.length > 0 ? `, credentials from ${pullable.pullSecrets.join(", ")}` : ""})`
    }`,
    `  helper:      ${
      r.helperMode === "privileged"
        ? "privileged (nsenter into the node's runtime client)"
        : "socket (unprivileged, the runtime socket only)"
    }, node timeout ${r.nodeTimeout}`,
    "  always kept: images a container or sandbox uses, pinned images, images of pods bound to the node",
  );
  lines.push(
    sweep.nodesLine(h),
    ...(h.startsAt !== undefined && h.selected.length > 1
      ? [`  order:       by name from ${h.startsAt}, then around (rotated by the run's start time)`]
      : []),
    `  dry run:     ${h.dryRun ? "yes" : "no"}`,
    `  helper pods: namespace ${h.namespace}`,
    ...sweep.selectionLines(h),
  );
  if ((h.sweep.running ?? 0) > 0)
    lines.push(
      `  in progress: ${plural(h.sweep.running ?? 0, "helper pod")} of other runs of this release still running (left alone)`,
    );
  if (h.sweep.left > 0)
    lines.push(
      `  left over:   ${plural(h.sweep.left, "helper pod")} from earlier runs (not deleted: see the end of the log)`,
    );
  return lines.map(escapeControl);
}

/** `kept 17 (in-use 12, protected 3, excluded 2)`: images not deleted, except those no --include matched. */
export function keptText(result: AgentResult): string {
  const counts = new Map<KeepReason, number>();
  for (const k of result.kept)
    if (k.reason !== "no-match") counts.set(k.reason, (counts.get(k.reason) ?? 0) + 1);
  const total = [...counts.values()].reduce((a, b) => a + b, 0);
  if (total === 0) return "kept 0";
  const parts = [...counts.entries()]
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
    .map(([reason, n]) => `${reason} ${n}`);
  return `kept ${total} (${parts.join(", ")})`;
}

/** `per-node limit reached (--max-images-per-node 2): 3 images left for the next run`. */
export function limitText(limit: NonNullable<AgentResult["limit"]>): string {
  const given = [
    limit.maxImages === undefined ? undefined : `--max-images-per-node ${limit.maxImages}`,
    limit.maxBytes === undefined
      ? undefined
      : `--max-bytes-per-node ${formatBytes(limit.maxBytes)}`,
  ].filter((x) => x !== undefined);
  return `per-node limit reached (${given.join(", ")}): ${plural(limit.cut, "image")} left for the next run`;
}

export function formatNodeSection(r: NodeResult, done: number, total: number): string[] {
  const prefix = sweep.nodePrefix(r.node, done, total);
  const took = formatMs(r.durationMs);
  if (r.result === undefined) {
    const lines = [sweep.unfinishedLine(r, prefix, r.durationMs)];
    // What the agent's log recorded before it was stopped: the audit trail of a node that did not finish.
    const p = r.partial;
    if (p !== undefined) {
      for (const d of p.deleted)
        lines.push(
          `    deleted (partial record)  ${imageLabel(d)}  ${shortId(d.id)}  ${formatBytes(d.bytes)}`,
        );
      for (const f of p.failed)
        lines.push(`    FAILED (partial record)  ${imageLabel(f)}  ${shortId(f.id)}: ${f.error}`);
      for (const g of p.alreadyGone ?? [])
        lines.push(
          `    already gone (partial record)  ${imageLabel(g)}  ${shortId(g.id)}: ${g.detail}`,
        );
      for (const u of p.unknown)
        lines.push(
          `    removal under way, outcome unknown (partial record)  ${imageLabel(u)}  ${shortId(u.id)}`,
        );
    }
    // Image names, reasons and errors come from the runtime and from pod authors: one line each.
    return lines.map(escapeControl);
  }
  const a = r.result;
  const verb = a.dryRun ? "would delete" : "deleted";
  const bytes = `${formatBytes(a.bytesReclaimed)} ${a.dryRun ? "to reclaim" : "reclaimed"}`;
  const failed = a.failed.length > 0 ? `, ${a.failed.length} FAILED` : "";
  const lines = [
    `${prefix} ${r.status === "ok" ? "" : "FAILED: "}${verb} ${plural(a.deleted.length, "image")}, ${bytes}, ${keptText(a)}${failed}, ${took}`,
  ];
  if (a.imageFs !== undefined) lines.push(`    ${bytesLine(a)}`);
  for (const d of a.deleted) {
    const more =
      d.names.length > 1
        ? ` (+${d.names.length - 1} more ${d.names.length === 2 ? "name" : "names"})`
        : "";
    lines.push(
      `    ${a.dryRun ? "would delete" : "deleted"}  ${imageLabel(d)}  ${shortId(d.id)}  ${formatBytes(d.bytes)}${more}`,
    );
  }
  for (const f of a.failed)
    lines.push(`    FAILED   ${imageLabel(f)}  ${shortId(f.id)}: ${f.error}`);
  // Planned, gone, but not this agent's doing: listed, never counted as deleted or reclaimed.
  for (const g of a.alreadyGone ?? [])
    lines.push(`    already gone  ${imageLabel(g)}  ${shortId(g.id)}: ${g.detail}`);
  // What matched the patterns but stayed, and why: the audit answer to "why is this still here?".
  // Images no pattern matched are not listed (they were never candidates).
  for (const k of a.kept) {
    if (k.reason === "no-match") continue;
    lines.push(`    kept     ${imageLabel(k)}  ${k.reason}${k.detail ? `: ${k.detail}` : ""}`);
  }
  if (a.limit !== undefined) lines.push(`    note: ${limitText(a.limit)}`);
  if (a.stopped === "pod-arrived") {
    const left = a.kept.filter((k) => k.reason === "not-attempted").length;
    lines.push(
      `    note: pod ${(a.arrivedPods ?? []).join(", ")} bound to the node after its protect list was read: ` +
        `deleted nothing more, ${plural(left, "planned image")} left for the next run`,
    );
  }
  for (const n of r.notes ?? []) lines.push(`    note: ${n}`);
  if (a.unusedFor !== undefined) {
    const u = a.unusedFor;
    lines.push(
      `    note: --unused-for clocks: ${u.started} started, ${u.stopped} stopped` +
        (u.deferred > 0 ? `, ${u.deferred} left for a later run` : "") +
        (u.failed > 0 ? `, ${u.failed} writes FAILED` : ""),
    );
  }
  if (a.minAge !== undefined && !a.minAge.supported) {
    lines.push(`    note: --min-age not applied: ${a.runtime.client} records no time for images`);
  }
  if (r.status !== "ok" && r.reason !== undefined && a.failed.length === 0)
    lines.push(`    ${r.reason}`);
  return lines.map(escapeControl);
}

export function formatSummary(s: RunSummary): string[] {
  const deleted = s.nodes.reduce((sum, n) => sum + (n.totals?.deleted ?? 0), 0);
  const bytes = s.nodes.reduce((sum, n) => sum + (n.totals?.bytesReclaimed ?? 0), 0);
  const { counts, nodeCount } = sweep.nodeCounts(s);
  const lines = [
    "",
    `summary of run ${s.runId}${s.dryRun ? " (dry run)" : ""}: ${plural(nodeCount, "node")}: ${counts.join(", ")}; ` +
      `${s.dryRun ? "would delete" : "deleted"} ${plural(deleted, "image")}, ${formatBytes(bytes)} ${s.dryRun ? "to reclaim" : "reclaimed"}; ` +
      `${formatMs(s.durationMs)}; ${plural(s.requests.total, "API request")}`,
  ];
  if (s.nodes.length > 0) {
    const columns = [s.dryRun ? "WOULD DELETE" : "DELETED", "RECLAIMED", "KEPT", "FAILED"];
    lines.push(
      ...sweep.nodeTable(s.nodes, columns, ({ totals: t }) => [
        t ? String(t.deleted) : "-",
        t ? formatBytes(t.bytesReclaimed) : "-",
        t ? String(t.kept) : "-",
        t ? String(t.failed) : "-",
      ]),
    );
  }
  // Only exact figures add up; a pending one is counted, never summed (its bytes are not final).
  const measured = s.nodes.filter((n) => n.totals?.imageFsFreedBytes !== undefined);
  const pending = s.nodes.filter((n) => n.totals?.imageFsPending === true).length;
  if (measured.length > 0) {
    const freed = measured.reduce((sum, n) => sum + (n.totals?.imageFsFreedBytes ?? 0), 0);
    lines.push(
      `  image filesystems freed ${formatBytes(Math.max(0, freed))} on ${plural(measured.length, "node")}, as the runtimes report them (RECLAIMED is the sum of image sizes)` +
        (pending > 0 ? `; ${plural(pending, "node")} pending, not in this figure` : ""),
    );
  } else if (pending > 0) {
    lines.push(
      `  image filesystems freed: pending on ${plural(pending, "node")} (the runtime had not caught up when the agent read it; RECLAIMED is the sum of image sizes)`,
    );
  }
  // A limit is the operator's choice, not a problem; but the node is not clean yet, and says so.
  const cut = s.nodes.filter((n) => (n.totals?.cutByLimit ?? 0) > 0);
  if (cut.length > 0) {
    lines.push(
      `${plural(cut.length, "node")} cut short by a per-node limit (the oldest images went first; the next run goes on):`,
      ...cut.map(
        (n) => `  ${n.node}: ${plural(n.totals?.cutByLimit ?? 0, "image")} left (reason limit)`,
      ),
    );
  }
  // Not-reached nodes are named, so an operator sees which went uncleaned; the next run starts
  // elsewhere (node-order.ts), so a run that is always cut short still reaches every node over time.
  lines.push(...sweep.closingLines(s, " (the next run starts at another node)"));
  return lines.map(escapeControl);
}
