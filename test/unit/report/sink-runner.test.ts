import { describe, expect, it } from "vitest";
import type { NodeResult } from "../../../src/run-model/node-result.js";
import { createSinkRunner } from "../../../src/controller/sink-runner.js";
import type { RunSink } from "../../../src/run-model/sink.js";
import { bigSummary } from "./audit-fixtures.js";

const ctx = { runId: "r1", namespace: "kic", instance: "kic", dryRun: false, startedAt: 0 };
const node: NodeResult = { node: "a", status: "ok", protectedImages: 0, durationMs: 1 };

describe("report sinks", () => {
  it("turns a sink's failure into one note and still runs the other sinks", async () => {
    const notes: string[] = [];
    const seen: string[] = [];
    const failing: RunSink = {
      name: "events",
      node: () => Promise.reject(new Error("forbidden: create events")),
      summary: () => Promise.reject(new Error("no answer")),
    };
    const working: RunSink = {
      name: "metrics",
      node: (r) => {
        seen.push(`node ${r.node}`);
        return Promise.resolve();
      },
      summary: (s, c) => {
        seen.push(`summary ${s.runId} exit ${c.exitCode}`);
        return Promise.resolve();
      },
    };
    const runner = createSinkRunner([failing, working], ctx, (m) => notes.push(m));
    runner.node(node);
    await expect(runner.finish(bigSummary({ nodes: 1 }), 0, 5)).resolves.toBeUndefined();
    expect(seen).toEqual(["node a", "summary 20261201t030000-1a2b exit 0"]);
    expect(notes).toEqual([
      "events: forbidden: create events (the run's result is unaffected)",
      "events: no answer (the run's result is unaffected)",
    ]);
  });

  it("waits for the node calls in flight before the summary", async () => {
    const order: string[] = [];
    let release: () => void = () => undefined;
    const slow: RunSink = {
      name: "events",
      node: () =>
        new Promise<void>((resolve) => {
          release = () => {
            order.push("node done");
            resolve();
          };
        }),
      summary: () => {
        order.push("summary");
        return Promise.resolve();
      },
    };
    const runner = createSinkRunner([slow], ctx, () => undefined);
    runner.node(node);
    const finished = runner.finish(bigSummary({ nodes: 1 }), 0, 5);
    await new Promise((r) => setTimeout(r, 10));
    expect(order).toEqual([]);
    release();
    await finished;
    expect(order).toEqual(["node done", "summary"]);
  });
});
