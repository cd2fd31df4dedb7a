import { describe, expect, it } from "vitest";
import {
  addRun,
  fitRun,
  REPORT_MAX_BYTES,
  reportBytes,
  runBudget,
} from "../../../src/report/run-report/fit.js";
import { formatRunList, formatStoredRun } from "../../../src/report/run-report/format.js";
import { parseReport } from "../../../src/report/run-report/parse.js";
import { storedRun, type StoredRun } from "../../../src/report/run-report/stored-run.js";
import { bigSummary } from "./audit-fixtures.js";

const at = {
  startedAt: Date.UTC(2026, 11, 1, 3),
  finishedAt: Date.UTC(2026, 11, 1, 4),
  exitCode: 1,
};

describe("run report size bound", () => {
  it("keeps a 5,000-node run (253-character names, 100 failures with long reasons) far below 1 MiB, totals exact, failures first", () => {
    const summary = bigSummary({ nodes: 5000, failed: 100 });
    const whole = storedRun(summary, at);
    // Unbounded, the run alone would be over the ConfigMap limit.
    expect(JSON.stringify(whole).length).toBeGreaterThan(1024 * 1024);
    const report = addRun([], whole, 10);
    const bytes = reportBytes(report);
    expect(bytes).toBeLessThanOrEqual(REPORT_MAX_BYTES);
    const run = report.runs[0] as StoredRun;
    expect(JSON.stringify(run).length).toBeLessThanOrEqual(runBudget(10));
    expect(run.totals).toEqual({
      nodes: 5000,
      ok: 4900,
      failed: 100,
      interrupted: 0,
      notReached: 0,
      notFound: 0,
      deleted: 10_000,
      bytes: 10_000 * 1024 ** 3,
      failedImages: 100,
    });
    expect(run.nodes.length + (run.omittedNodes ?? 0)).toBe(5000);
    expect(run.nodes.length).toBeGreaterThan(0);
    // The nodes that need attention come first.
    expect(run.nodes.every((n) => n.status === "failed")).toBe(true);
    expect(run.nodes[0]?.reason?.length).toBeLessThanOrEqual(300);
  });

  it("keeps 50 runs of 5,000 nodes each within the bound, newest first", () => {
    let runs: StoredRun[] = [];
    for (let i = 0; i < 52; i++) {
      const run = storedRun(bigSummary({ nodes: 5000, failed: 3, runId: `run-${i}` }), at);
      runs = addRun(runs, run, 50).runs;
    }
    const report = { version: 1 as const, runs };
    expect(runs).toHaveLength(50);
    expect(runs[0]?.runId).toBe("run-51");
    expect(reportBytes(report)).toBeLessThanOrEqual(REPORT_MAX_BYTES);
    // Each run still has its totals and its failed nodes when they fit.
    expect(runs.every((r) => r.totals.nodes === 5000)).toBe(true);
  });

  it("keeps a small run whole, and replaces a run of the same id instead of keeping it twice", () => {
    const run = storedRun(bigSummary({ nodes: 3, failed: 1, nameLength: 10 }), at);
    expect(fitRun(run, runBudget(10))).toBe(run);
    const twice = addRun(addRun([], run, 10).runs, run, 10);
    expect(twice.runs).toHaveLength(1);
    expect(twice.runs[0]?.nodes.map((n) => n.status)).toEqual(["failed", "ok", "ok"]);
  });

  it("drops runs beyond the number asked for", () => {
    let runs: StoredRun[] = [];
    for (let i = 0; i < 5; i++)
      runs = addRun(runs, storedRun(bigSummary({ nodes: 1, runId: `r${i}` }), at), 3).runs;
    expect(runs.map((r) => r.runId)).toEqual(["r4", "r3", "r2"]);
  });
});

describe("run report parsing", () => {
  it.each([
    ["not JSON", "{", "is not JSON"],
    ["another version", '{"version":2,"runs":[]}', "not a version 1 run report"],
    ["runs of another shape", '{"version":1,"runs":[{"runId":1}]}', "unknown shape"],
  ])("refuses %s", (_what, text, problem) => {
    const parsed = parseReport(text);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.problem).toContain(problem);
  });

  it("reads an empty ConfigMap (as the chart creates it) as no runs", () => {
    expect(parseReport(undefined)).toEqual({ ok: true, report: { version: 1, runs: [] } });
    expect(parseReport("")).toEqual({ ok: true, report: { version: 1, runs: [] } });
  });

  it("reads back what it wrote", () => {
    const report = addRun([], storedRun(bigSummary({ nodes: 2 }), at), 10);
    expect(parseReport(JSON.stringify(report))).toEqual({ ok: true, report });
  });
});

describe("report tables", () => {
  it("prints the runs and one run's nodes like the run log, with the nodes that need attention", () => {
    const run = storedRun(bigSummary({ nodes: 2, failed: 1, nameLength: 8 }), at);
    const list = formatRunList({ version: 1, runs: [run] }, "kic/kic-kube-image-cleanup-report");
    expect(list[0]).toBe("run report kic/kic-kube-image-cleanup-report: 1 run, newest first");
    expect(list[1]).toMatch(
      /^ {2}RUN +STARTED +RESULT +NODES +OK +NOT OK +DELETED +RECLAIMED +TIME$/,
    );
    expect(list[2]).toMatch(
      /^ {2}20261201t030000-1a2b +2026-12-01 03:00:00Z +FAILED +2 +1 +1 +4 +4\.0 GiB +1h 0m 0s$/,
    );
    const lines = formatStoredRun(run);
    expect(lines[0]).toBe(
      "run 20261201t030000-1a2b, started 2026-12-01 03:00:00Z: 2 nodes: 1 ok, 1 failed; deleted 4 images, 4.0 GiB reclaimed; 1h 0m 0s; exit code 1",
    );
    expect(lines[2]).toMatch(/^ {2}nn-00000 +FAILED +2 +2\.0 GiB +5 +1 +4\.0 s$/);
    expect(lines).toContain("nodes that need attention:");
  });

  it("says so when the ConfigMap holds no run yet (as the chart creates it)", () => {
    expect(formatRunList({ version: 1, runs: [] }, "kic/r")).toEqual([
      "run report kic/r: no runs yet (each run adds itself when it ends)",
    ]);
  });

  it("escapes control characters a node name or reason carries", () => {
    const run = storedRun(bigSummary({ nodes: 1, failed: 1, nameLength: 8 }), at);
    const forged = {
      ...run,
      nodes: [
        {
          ...run.nodes[0],
          node: "evil\nrun x: 0 failed",
          reason: "\u001b[2Jgone",
        } as StoredRun["nodes"][0],
      ],
    };
    const lines = formatStoredRun(forged);
    expect(lines.some((l) => Array.from(l, (c) => c.charCodeAt(0)).some((n) => n < 0x20))).toBe(
      false,
    );
    expect(lines.some((l) => l.includes("evil\\nrun x: 0 failed"))).toBe(true);
    expect(lines.some((l) => l.includes("\\u001b[2Jgone"))).toBe(true);
  });

  it("says how many nodes the report left out", () => {
    const run = addRun([], storedRun(bigSummary({ nodes: 5000, failed: 1 }), at), 10)
      .runs[0] as StoredRun;
    expect(formatStoredRun(run).join("\n")).toMatch(/\(\d[\d,]* more nodes not kept in the report/);
  });
});
