// Where the run log goes: readable lines (`--output pretty`) or pino JSON records (`--output json`)
// with the same content. The controller calls one interface (src/run-model/reporter.ts) and does not
// know which; the command picks.
import type { KeepReason } from "../run-model/keep-reason.js";
import type { NodeResult } from "../run-model/node-result.js";
import type { RunReporter } from "../run-model/reporter.js";
import type { Logger } from "../log.js";
import { createLineReporter, logNode } from "./line-reporter.js";
import { formatHeader, formatNodeSection, formatSummary } from "./pretty.js";

export function createPrettyRunReporter(write: (line: string) => void): RunReporter {
  return createLineReporter(write, {
    header: formatHeader,
    node: formatNodeSection,
    summary: formatSummary,
  });
}

/** The node record: counts and names, not the full kept list (that stays in the helper pod's log). */
export function nodeRecord(r: NodeResult, done: number, total: number): Record<string, unknown> {
  const record: Record<string, unknown> = {
    node: r.node,
    index: done,
    total,
    status: r.status,
    durationMs: r.durationMs,
    ...(r.helperMs === undefined ? {} : { helperMs: r.helperMs }),
    protectedImages: r.protectedImages,
  };
  if (r.reason !== undefined) record.reason = r.reason;
  if (r.pod !== undefined) record.pod = r.pod;
  if (r.partial !== undefined) record.partial = r.partial;
  if (r.notes !== undefined) record.notes = r.notes;
  const a = r.result;
  if (a !== undefined) {
    const kept: Partial<Record<KeepReason, number>> = {};
    for (const k of a.kept) kept[k.reason] = (kept[k.reason] ?? 0) + 1;
    Object.assign(record, {
      dryRun: a.dryRun,
      runtime: a.runtime,
      counts: a.counts,
      bytesReclaimed: a.bytesReclaimed,
      kept,
      deleted: a.deleted.map((d) => ({ id: d.id, names: d.names, bytes: d.bytes })),
      failed: a.failed,
      agentDurationsMs: a.durationsMs,
    });
    if (a.minAge !== undefined) record.minAge = a.minAge;
    if (a.stopped !== undefined) record.stopped = a.stopped;
    if (a.arrivedPods !== undefined) record.arrivedPods = a.arrivedPods;
    // Both byte figures, each named for what it is (bytesReclaimed above is the first).
    record.bytes = {
      sumOfImageSizes: a.bytesReclaimed,
      // A pending figure is not final: only `imageFs` (with its state and reason), no total.
      ...(a.imageFs === undefined
        ? {}
        : a.imageFs.state === "exact"
          ? { imageFsFreed: a.imageFs.freedBytes, imageFs: a.imageFs }
          : { imageFs: a.imageFs }),
    };
  }
  return record;
}

export function createJsonRunReporter(log: Logger): RunReporter {
  return {
    header: (h) => {
      log.info({ ...h }, "run start");
    },
    node: (r, done, total) => {
      logNode(log, r.status, nodeRecord(r, done, total));
    },
    note: (message) => {
      log.warn(message);
    },
    summary: (s) => {
      const deleted = s.nodes.reduce((sum, n) => sum + (n.totals?.deleted ?? 0), 0);
      const bytes = s.nodes.reduce((sum, n) => sum + (n.totals?.bytesReclaimed ?? 0), 0);
      log.info(
        {
          runId: s.runId,
          dryRun: s.dryRun,
          nodes: s.nodes.map((n) => ({
            node: n.node,
            status: n.status,
            ...(n.reason === undefined ? {} : { reason: n.reason }),
            deleted: n.totals?.deleted,
            bytesReclaimed: n.totals?.bytesReclaimed,
            durationMs: n.durationMs,
          })),
          ok: s.nodes.filter((n) => n.status === "ok").length,
          failed: s.nodes.filter((n) => n.status === "failed").length,
          interrupted: s.nodes.filter((n) => n.status === "interrupted").length,
          notStarted: s.notStarted,
          missing: s.missing,
          deleted,
          bytesReclaimed: bytes,
          durationMs: s.durationMs,
          interruptedBy: s.interruptedBy,
          fatal: s.fatal,
          leftPods: s.leftPods,
          requests: s.requests,
        },
        "run summary",
      );
    },
  };
}
