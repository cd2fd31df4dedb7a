import { Writable } from "node:stream";
import { pino } from "pino";
import { describe, expect, it } from "vitest";
import { runSummary } from "../support/run-summary.js";
import { nodeRow, type NodeResult } from "../../../src/run-model/node-result.js";
import type { RunSummary } from "../../../src/run-model/run-summary.js";
import { createJsonRunReporter } from "../../../src/report/run-reporter.js";
import { agentResult, kept } from "../controller/fixtures.js";

function capture() {
  const records: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const line of chunk.toString().split("\n"))
        if (line) records.push(JSON.parse(line) as Record<string, unknown>);
      cb();
    },
  });
  return { records, reporter: createJsonRunReporter(pino({ base: undefined }, sink)) };
}

const ok: NodeResult = {
  node: "node-a",
  status: "ok",
  protectedImages: 2,
  durationMs: 3400,
  pod: "kic-r-node-a",
  result: agentResult({
    deleted: [{ id: "sha256:a", names: ["docker.io/acme/app:1"], bytes: 100 }],
    kept: [...kept(2, "in-use"), ...kept(1, "no-match")],
  }),
};

describe("JSON run log", () => {
  it("prints each node as one pino record with counts, kept reasons and deleted names", () => {
    const { records, reporter } = capture();
    reporter.node(ok, 1, 2);
    reporter.node(
      { node: "node-b", status: "failed", reason: "OutOfcpu", protectedImages: 0, durationMs: 10 },
      2,
      2,
    );
    expect(records[0]).toMatchObject({
      level: 30,
      msg: "node done",
      node: "node-a",
      index: 1,
      total: 2,
      status: "ok",
      bytesReclaimed: 100,
      kept: { "in-use": 2, "no-match": 1 },
      deleted: [{ id: "sha256:a", names: ["docker.io/acme/app:1"], bytes: 100 }],
    });
    expect(records[1]).toMatchObject({
      level: 50,
      msg: "node failed",
      node: "node-b",
      reason: "OutOfcpu",
    });
  });

  it("prints the summary with totals and the request count", () => {
    const { records, reporter } = capture();
    const summary: RunSummary = runSummary({
      runId: "r",
      nodes: [nodeRow(ok)],
      requests: { total: 8, perNode: 8, byCall: { listNode: 1 } },
    });
    reporter.summary(summary);
    expect(records[0]).toMatchObject({
      msg: "run summary",
      runId: "r",
      ok: 1,
      failed: 0,
      deleted: 1,
      bytesReclaimed: 100,
      requests: { total: 8, perNode: 8, byCall: { listNode: 1 } },
      nodes: [{ node: "node-a", status: "ok", deleted: 1 }],
    });
  });
});
