import { describe, expect, it } from "vitest";
import { rotateNodes, rotationStart } from "../../../src/controller/node-order.js";

const names = (n: number) =>
  Array.from({ length: n }, (_, i) => `node-${String(i).padStart(4, "0")}`);
const DAY = 86_400_000;
const t0 = Date.parse("2026-03-01T03:00:00Z");

describe("rotateNodes", () => {
  it("visits every node exactly once, in name order from the start node and around", () => {
    const sorted = names(10);
    const order = rotateNodes(sorted, t0);
    expect([...order].sort()).toEqual(sorted);
    const start = sorted.indexOf(order[0] ?? "");
    expect(order).toEqual([...sorted.slice(start), ...sorted.slice(0, start)]);
  });

  it("is deterministic: the same start minute gives the same order", () => {
    expect(rotateNodes(names(50), t0)).toEqual(rotateNodes(names(50), t0 + 59_000));
  });

  [
    { count: 0, start: 0 },
    { count: 1, start: 0 },
  ].forEach((t) => {
    it(`starts at 0 for ${t.count} node(s)`, () => {
      expect(rotationStart(t.count, t0)).toBe(t.start);
    });
  });

  // The defect: in name order a run cut short after k nodes (timeouts.runSeconds) stops on the same
  // prefix every time and the rest of the cluster is never cleaned.
  [
    { schedule: "daily at 03:00", every: DAY, runs: 30 },
    { schedule: "hourly", every: DAY / 24, runs: 30 },
    { schedule: "weekly", every: 7 * DAY, runs: 30 },
  ].forEach((t) => {
    it(`runs ${t.schedule} that each reach only a third of 300 nodes reach every node within ${t.runs} runs`, () => {
      const sorted = names(300);
      const reached = new Set<string>();
      for (let run = 0; run < t.runs; run++) {
        for (const n of rotateNodes(sorted, t0 + run * t.every).slice(0, 100)) reached.add(n);
      }
      expect(sorted.filter((n) => !reached.has(n))).toEqual([]);
    });
  });

  it("spreads start positions evenly over a month of daily runs (no node always last)", () => {
    const count = 20;
    const starts = new Set<number>();
    for (let day = 0; day < 60; day++) starts.add(rotationStart(count, t0 + day * DAY));
    // 60 hashed draws over 20 positions: a fixed or stuck start would give 1.
    expect(starts.size).toBeGreaterThanOrEqual(15);
  });
});
