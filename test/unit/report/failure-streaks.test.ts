// "A node has failed N runs in a row": each push carries per node the runs failed in a row, counted
// on from the previous push. Table-driven over what a run can leave for a node.
import { describe, expect, it } from "vitest";
import { nextFailureStreaks } from "../../../src/report/failure-streaks.js";
import { pushedState } from "../../../src/report/pushed-state.js";
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

  it("reads each node's count from its own group, and nothing of another release or key", () => {
    const family = (node: string, value: string) => ({
      kube_image_cleanup_node_consecutive_failures: {
        type: "GAUGE",
        metrics: [{ labels: { job: "kube-image-cleanup", release: "r", node }, value }],
      },
    });
    const answer = {
      status: "success",
      data: [
        { labels: { job: "kube-image-cleanup", release: "other", node: "x" }, ...family("x", "9") },
        { labels: { job: "kube-image-cleanup", release: "r", node: "n" }, ...family("n", "7") },
        {
          labels: { job: "kube-image-cleanup", release: "r", node: "m", zone: "z" },
          ...family("m", "5"),
        },
        {
          labels: { job: "kube-image-cleanup", release: "r", instance: "" },
          kube_image_cleanup_last_success_timestamp_seconds: { metrics: [{ value: "1764558000" }] },
          kube_image_cleanup_run_exit_code: { metrics: [{ value: "0" }] },
        },
      ],
    };
    const state = pushedState(answer, "r");
    expect([...state.streaks]).toEqual([["n", 7]]);
    expect([...state.nodeGroups]).toEqual(["n"]);
    expect(state.lastSuccessAt).toBe(1_764_558_000_000);
    expect(state.legacyNodeSeries).toBe(false);
  });

  it("takes over counts an older version kept in the release's group, node groups first", () => {
    const answer = {
      data: [
        {
          labels: { job: "kube-image-cleanup", release: "r" },
          kube_image_cleanup_node_consecutive_failures: {
            metrics: [
              { labels: { node: "a" }, value: "2" },
              { labels: { node: "b" }, value: "3" },
            ],
          },
        },
        {
          labels: { job: "kube-image-cleanup", release: "r", node: "b" },
          kube_image_cleanup_node_consecutive_failures: { metrics: [{ value: "0" }] },
        },
      ],
    };
    const state = pushedState(answer, "r");
    expect(state.legacyNodeSeries).toBe(true);
    expect(new Map(state.streaks)).toEqual(
      new Map([
        ["a", 2],
        ["b", 0],
      ]),
    );
  });

  it("ignores what is not a count: junk answers, negative or fractional values", () => {
    expect(pushedState(undefined, "r").streaks.size).toBe(0);
    expect(pushedState({ data: "x" }, "r").streaks.size).toBe(0);
    const group = (node: string, value: string) => ({
      labels: { job: "kube-image-cleanup", release: "r", node },
      kube_image_cleanup_node_consecutive_failures: { metrics: [{ value }] },
    });
    const answer = {
      data: [group("a", "-1"), group("b", "1.5"), group("c", "NaN"), group("d", "4")],
    };
    expect([...pushedState(answer, "r").streaks]).toEqual([["d", 4]]);
  });
});
