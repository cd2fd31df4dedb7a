// The run report's size bound. A ConfigMap holds at most 1 MiB, and everything in etcd is read by
// every watcher of ConfigMaps; the report stays at REPORT_MAX_BYTES whatever the cluster's size.
// Each kept run gets an equal share; a run larger than its share keeps its totals and as many node
// rows as fit, the nodes that need attention first (stored-run.ts orders them so).
import { REPORT_FORMAT_VERSION, type StoredReport, type StoredRun } from "./stored-run.js";

/**
 * Bytes of the report's JSON, at most: a quarter of the ConfigMap limit.
 * @default 256 KiB
 */
export const REPORT_MAX_BYTES = 256 * 1024;

/** Room for the document around the runs (`{"version":1,"runs":[...]}`). */
const ENVELOPE_BYTES = 1024;

const size = (value: unknown) => Buffer.byteLength(JSON.stringify(value), "utf8");

/** What one run may take when `maxRuns` are kept (the comma between runs included). */
export function runBudget(maxRuns: number): number {
  return Math.floor((REPORT_MAX_BYTES - ENVELOPE_BYTES) / Math.max(1, maxRuns)) - 1;
}

function withRows(run: StoredRun, keep: number): StoredRun {
  const omitted = (run.omittedNodes ?? 0) + run.nodes.length - keep;
  const cut: StoredRun = { ...run, nodes: run.nodes.slice(0, keep) };
  if (omitted > 0) cut.omittedNodes = omitted;
  else delete cut.omittedNodes;
  return cut;
}

/** `run` within `budget` bytes: all of it if it fits, else the most node rows that fit. */
export function fitRun(run: StoredRun, budget: number): StoredRun {
  if (size(run) <= budget) return run;
  // Binary search on the number of rows kept: rows differ in size (names up to 253 characters,
  // reasons up to 300), so the count cannot be computed from one row's size.
  let lo = 0;
  let hi = run.nodes.length - 1;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (size(withRows(run, mid)) <= budget) lo = mid;
    else hi = mid - 1;
  }
  return withRows(run, lo);
}

/** The report after `run`: it first, then the runs before it, `maxRuns` at most, each within its share. */
export function addRun(
  before: readonly StoredRun[],
  run: StoredRun,
  maxRuns: number,
): StoredReport {
  const budget = runBudget(maxRuns);
  const runs = [run, ...before.filter((r) => r.runId !== run.runId)]
    .slice(0, maxRuns)
    .map((r) => fitRun(r, budget));
  return { version: REPORT_FORMAT_VERSION, runs };
}

export function reportBytes(report: StoredReport): number {
  return size(report);
}
