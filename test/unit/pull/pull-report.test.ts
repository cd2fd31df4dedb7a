// What a pre-pull run prints: per node every image as pulled / already present / failed: reason,
// the summary, and the pull result record read back from a helper pod's log.
import { describe, expect, it } from "vitest";
import { parsePullLog } from "../../../src/controller/pull-log.js";
import { pullResultLine } from "../../../src/agent/pull-report.js";
import {
  formatPullHeader,
  formatPullNode,
  formatPullSummary,
} from "../../../src/report/pull-pretty.js";
import {
  countOutcomes,
  pullNodeRow,
  type PullOutcome,
  type PullResult,
  type PullSummary,
} from "../../../src/run-model/pull-result.js";
import { summaryExitCode } from "../../../src/run-model/run-summary.js";

const outcomes: PullOutcome[] = [
  { image: "r.io/team/app:v1", outcome: "pulled", id: "sha256:aa", attempts: 1, durationMs: 900 },
  { image: "r.io/team/base:v1", outcome: "present", id: "sha256:bb", attempts: 0, durationMs: 3 },
  {
    image: "r.io/team/app:v404",
    outcome: "failed",
    failure: "not-found",
    detail:
      "the registry r.io has no such image (tag or digest not found): r.io/team/app:v404: not found",
    attempts: 1,
    durationMs: 40,
  },
  {
    image: "down.io/a:1",
    outcome: "failed",
    failure: "unreachable",
    detail: "the registry down.io could not be reached: dial tcp: connection refused",
    attempts: 3,
    durationMs: 15_000,
  },
];

const result = (images = outcomes): PullResult => ({
  version: 1,
  node: "node-a",
  runtime: { client: "crictl", socket: "/run/containerd/containerd.sock", hostExec: "nsenter" },
  images,
  counts: countOutcomes(images),
  durationMs: 16_000,
});

describe("a node's section", () => {
  it("lists every image with its outcome and the node's counts", () => {
    const lines = formatPullNode(
      {
        node: "node-a",
        status: "failed",
        reason: "2 of 4 images not on the node",
        result: result(),
        durationMs: 17_000,
      },
      1,
      2,
    );
    expect(lines).toEqual([
      "[1/2] node-a: FAILED: 1 pulled, 1 already present, 2 FAILED, 17.0 s",
      "    r.io/team/app:v1  pulled",
      "    r.io/team/base:v1  already present",
      "    r.io/team/app:v404  failed: the registry r.io has no such image (tag or digest not found): r.io/team/app:v404: not found",
      "    down.io/a:1  failed: the registry down.io could not be reached: dial tcp: connection refused (after 3 attempts)",
    ]);
  });

  it("a node without a result says why", () => {
    expect(
      formatPullNode(
        {
          node: "node-b",
          status: "failed",
          reason: "helper pod stuck: ImagePullBackOff",
          durationMs: 60_000,
        },
        2,
        2,
      ),
    ).toEqual(["[2/2] node-b: FAILED after 1m 0s: helper pod stuck: ImagePullBackOff"]);
  });

  it("escapes control characters a registry message or image name could carry", () => {
    const forged = result([
      {
        image: "r.io/a:1",
        outcome: "failed",
        detail: "x\n[2/2] node-z: ok\u001b[31m",
        attempts: 1,
        durationMs: 1,
      },
    ]);
    const lines = formatPullNode(
      { node: "n", status: "failed", result: forged, durationMs: 1 },
      1,
      1,
    );
    expect(lines.join("\n").split("\n")).toHaveLength(2);
    expect(lines.join("")).not.toContain("\u001b");
  });
});

describe("the summary", () => {
  const summary: PullSummary = {
    runId: "r1",
    images: outcomes.map((o) => o.image),
    nodes: [
      pullNodeRow({
        node: "node-b",
        status: "ok",
        result: result(outcomes.slice(0, 2)),
        durationMs: 1000,
        pod: "p",
      }),
      pullNodeRow({
        node: "node-a",
        status: "failed",
        reason: "2 of 4 images not on the node",
        result: result(),
        durationMs: 2000,
        pod: "q",
      }),
    ],
    notStarted: [],
    missing: [],
    durationMs: 3000,
    interruptedBy: undefined,
    fatal: undefined,
    leftPods: undefined,
  };

  it("counts nodes and images, one row per node, and names the nodes that need attention", () => {
    const lines = formatPullSummary(summary);
    expect(lines[1]).toBe(
      "summary of pull r1: 2 nodes: 1 ok, 1 failed; 4 images: 2 pulled, 2 already present, 2 failed (node x image); 3.0 s",
    );
    expect(lines.slice(2, 5).map((l) => l.trim().split(/\s+/))).toEqual([
      ["NODE", "RESULT", "PULLED", "PRESENT", "FAILED", "TIME"],
      ["node-a", "FAILED", "1", "1", "2", "2.0", "s"],
      ["node-b", "ok", "1", "1", "0", "1.0", "s"],
    ]);
    expect(lines).toContain("  node-a: failed: 2 of 4 images not on the node");
    expect(summaryExitCode(summary)).toBe(1);
    expect(summaryExitCode({ ...summary, nodes: summary.nodes.slice(0, 1) })).toBe(0);
  });

  it("counts the images a node's deadline left out as not attempted, as its row counts them", () => {
    const late: PullOutcome = {
      image: "r.io/team/late:v1",
      outcome: "not-attempted",
      detail: "the node's deadline came first",
      attempts: 0,
      durationMs: 0,
    };
    const lines = formatPullSummary({
      ...summary,
      nodes: [
        pullNodeRow({
          node: "node-a",
          status: "failed",
          reason: "2 of 3 images not on the node",
          result: result([outcomes[0] as PullOutcome, outcomes[3] as PullOutcome, late]),
          durationMs: 2000,
        }),
      ],
    });
    expect(lines[1]).toBe(
      "summary of pull r1: 1 node: 0 ok, 1 failed; 4 images: 1 pulled, 0 already present, 1 failed, 1 not attempted (node x image); 3.0 s",
    );
    expect(lines[3]?.trim().split(/\s+/)).toEqual(["node-a", "FAILED", "1", "0", "2", "2.0", "s"]);
  });

  it("the header names the images, the workload and what its placement did not evaluate, the Secrets by name", () => {
    const lines = formatPullHeader({
      runId: "r1",
      server: "https://127.0.0.1:6443",
      credentials: "in-cluster service account",
      namespace: "kic",
      concurrency: 2,
      nodeSelector: "kubernetes.io/os=linux",
      nodesListed: 3,
      selected: ["node-a", "node-b"],
      skipped: [
        {
          node: "node-c",
          reason:
            "cannot run deployment/shop/web: the workload does not tolerate the taint gpu:NoSchedule",
        },
      ],
      missing: [],
      sweep: { deleted: 0, left: 0 },
      images: ["r.io/a:1"],
      imagesOf: "deployment/shop/web",
      notEvaluated: "pod affinity",
      pullSecrets: ["team-registry"],
    });
    expect(lines).toContain("  pull secrets: team-registry");
    expect(lines.find((l) => l.startsWith("  images of:"))).toContain(
      "not evaluated: pod affinity",
    );
    expect(lines).toContain(
      "  skipped:     node-c: cannot run deployment/shop/web: the workload does not tolerate the taint gpu:NoSchedule",
    );
  });
});

describe("the pull result record in a helper pod's log", () => {
  it("is read back from the agent's JSON log (its last record), counts recomputed", () => {
    const r = result();
    const log = [
      JSON.stringify({ level: 30, msg: "connected to runtime" }),
      pullResultLine({ ...r, counts: { pulled: 9, present: 9, failed: 9, "not-attempted": 9 } }),
      "",
    ].join("\n");
    const parsed = parsePullLog(log);
    expect(parsed).toEqual({ ok: true, result: r });
  });

  it.each([
    ["", /the log is empty/],
    [
      '{"level":50,"msg":"no runtime socket found on the node"}',
      /no pull result; its log ends: no runtime socket found/,
    ],
    ['{"msg":"pull result","result":{"version":2}}', /result version 2/],
    [
      '{"msg":"pull result","result":{"version":1,"node":"n","runtime":{"client":"crictl"},"images":[{"image":"a","outcome":"gone","attempts":1,"durationMs":1}],"durationMs":1}}',
      /outcome "gone" is not a known outcome/,
    ],
    ['{"msg":"pull result","result":{"version":1,"node":"n","runt', /no pull result/],
  ])("a log without a usable record: %s", (log, reason) => {
    const parsed = parsePullLog(log);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.reason).toMatch(reason);
  });
});
