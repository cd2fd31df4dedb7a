// "A node has failed N runs in a row": each push carries per node the runs failed in a row, counted
// on from the previous push. Table-driven over what a run can leave for a node.
import { describe, expect, it } from "vitest";
import { nextFailureStreaks, streaksInGroup } from "../../../src/report/failure-streaks.js";
import type { NodeRow } from "../../../src/run-model/node-result.js";
import type { RunSummary } from "../../../src/run-model/run-summary.js";

type Summary = Pick<RunSummary, "nodes" | "notStarted" | "fatal" | "interruptedBy">;

const row = (node: string, status: NodeRow["status"]): NodeRow => ({
  node,
  status,
  durationMs: 1,
  protectedImages: 0,
});

function summary(nodes: [string, NodeRow["status"]][], extra: Partial<Summary> = {}): Summary {
  return {
    nodes: nodes.map(([n, s]) => row(n, s)),
    notStarted: [],
    fatal: undefined,
    interruptedBy: undefined,
    ...extra,
  };
}

const cases: {
  name: string;
  previous: [string, number][];
  run: Summary;
  narrowed?: boolean;
  next: [string, number][];
}[] = [
  {
    name: "a first failure counts 1",
    previous: [],
    run: summary([["a", "failed"]]),
    next: [["a", 1]],
  },
  {
    name: "a failure counts on from the last push",
    previous: [["a", 2]],
    run: summary([["a", "failed"]]),
    next: [["a", 3]],
  },
  {
    name: "a cleaned node goes back to 0",
    previous: [["a", 5]],
    run: summary([["a", "ok"]]),
    next: [["a", 0]],
  },
  {
    name: "an interrupted node keeps its count",
    previous: [["a", 2]],
    run: summary([["a", "interrupted"]]),
    next: [["a", 2]],
  },
  {
    name: "a node not reached keeps its count",
    previous: [
      ["a", 2],
      ["b", 1],
    ],
    run: summary([["b", "ok"]], { notStarted: ["a"] }),
    next: [
      ["b", 0],
      ["a", 2],
    ],
  },
  {
    name: "a full run drops nodes it did not visit (removed, excluded)",
    previous: [["gone", 4]],
    run: summary([["a", "ok"]]),
    next: [["a", 0]],
  },
  {
    name: "a --nodes run keeps the other nodes' counts",
    previous: [["other", 4]],
    run: summary([["a", "failed"]]),
    narrowed: true,
    next: [
      ["a", 1],
      ["other", 4],
    ],
  },
  {
    name: "a run stopped by a fatal error keeps every count",
    previous: [["a", 3]],
    run: summary([], { fatal: "forbidden" }),
    next: [["a", 3]],
  },
  {
    name: "a run stopped by a signal keeps the counts of nodes it did not finish",
    previous: [
      ["a", 3],
      ["b", 1],
    ],
    run: summary([["b", "failed"]], { interruptedBy: "SIGTERM" }),
    next: [
      ["b", 2],
      ["a", 3],
    ],
  },
];

describe("failure streaks", () => {
  for (const c of cases) {
    it(c.name, () => {
      const next = nextFailureStreaks(new Map(c.previous), c.run, {
        narrowed: c.narrowed ?? false,
      });
      expect([...next]).toEqual(c.next);
    });
  }

  it("reads exactly its own group from the Pushgateway's answer", () => {
    const family = (node: string, value: string) => ({
      kube_image_cleanup_node_consecutive_failures: {
        type: "GAUGE",
        metrics: [{ labels: { job: "kube-image-cleanup", release: "r", node }, value }],
      },
    });
    const answer = {
      status: "success",
      data: [
        { labels: { job: "kube-image-cleanup", release: "other" }, ...family("x", "9") },
        { labels: { job: "kube-image-cleanup", release: "r", node: "n" }, ...family("y", "7") },
        { labels: { job: "kube-image-cleanup", release: "r" }, ...family("a", "2") },
      ],
    };
    expect([...streaksInGroup(answer, { job: "kube-image-cleanup", release: "r" })]).toEqual([
      ["a", 2],
    ]);
  });

  it("ignores what is not a count: junk answers, negative or fractional values", () => {
    expect(streaksInGroup(undefined, { job: "j" }).size).toBe(0);
    expect(streaksInGroup({ data: "x" }, { job: "j" }).size).toBe(0);
    const answer = {
      data: [
        {
          labels: { job: "j" },
          kube_image_cleanup_node_consecutive_failures: {
            metrics: [
              { labels: { node: "a" }, value: "-1" },
              { labels: { node: "b" }, value: "1.5" },
              { labels: { node: "c" }, value: "NaN" },
              { labels: { node: "d" }, value: "4" },
            ],
          },
        },
      ],
    };
    expect([...streaksInGroup(answer, { job: "j" })]).toEqual([["d", 4]]);
  });
});
