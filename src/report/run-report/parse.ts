// Reading the report back from the ConfigMap: by the sink (to add a run) and by `report`. Anyone
// with `update` on the ConfigMap can write anything into it, so the text is checked, not trusted.
import { REPORT_FORMAT_VERSION, type StoredReport, type StoredRun } from "./stored-run.js";

/** The ConfigMap's data key holding the report. */
export const REPORT_KEY = "runs.json";

export type ParsedReport = { ok: true; report: StoredReport } | { ok: false; problem: string };

function isRun(value: unknown): value is StoredRun {
  if (typeof value !== "object" || value === null) return false;
  const r = value as Record<string, unknown>;
  const totals = r.totals as Record<string, unknown> | null | undefined;
  return (
    typeof r.runId === "string" &&
    typeof r.startedAt === "string" &&
    typeof r.durationMs === "number" &&
    typeof r.dryRun === "boolean" &&
    typeof r.exitCode === "number" &&
    typeof totals === "object" &&
    totals !== null &&
    typeof totals.nodes === "number" &&
    Array.isArray(r.nodes) &&
    (r.nodes as unknown[]).every(
      (n) =>
        typeof n === "object" &&
        n !== null &&
        typeof (n as { node?: unknown }).node === "string" &&
        typeof (n as { status?: unknown }).status === "string",
    )
  );
}

/** `text` undefined or empty: a report without runs (the chart creates the ConfigMap empty). */
export function parseReport(text: string | undefined): ParsedReport {
  if (text === undefined || text.trim() === "")
    return { ok: true, report: { version: REPORT_FORMAT_VERSION, runs: [] } };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    return { ok: false, problem: `${REPORT_KEY} is not JSON (${(err as Error).message})` };
  }
  const doc = value as { version?: unknown; runs?: unknown } | null;
  if (typeof doc !== "object" || doc === null || doc.version !== REPORT_FORMAT_VERSION)
    return {
      ok: false,
      problem: `${REPORT_KEY} is not a version ${REPORT_FORMAT_VERSION} run report`,
    };
  if (!Array.isArray(doc.runs) || !doc.runs.every(isRun))
    return { ok: false, problem: `${REPORT_KEY} holds runs of an unknown shape` };
  return { ok: true, report: { version: REPORT_FORMAT_VERSION, runs: doc.runs } };
}
