import { describe, expect, it } from "vitest";
import { runSummary } from "../support/run-summary.js";
import { nodeRow, type NodeResult } from "../../../src/run-model/node-result.js";
import type { RunSummary } from "../../../src/run-model/run-summary.js";
import type { RunHeader } from "../../../src/run-model/run-header.js";
import {
  formatHeader,
  formatNodeSection,
  formatSummary,
  keptText,
} from "../../../src/report/pretty.js";
import { formatBytes, formatMs } from "../../../src/text/units.js";
import { agentResult, kept } from "../controller/fixtures.js";

const GiB = 1024 ** 3;

const okResult = agentResult({
  deleted: [
    {
      id: `sha256:${"a".repeat(64)}`,
      names: ["docker.io/acme/app:1.0", "docker.io/acme/app@sha256:1"],
      bytes: 0.6 * GiB,
    },
    { id: `sha256:${"b".repeat(64)}`, names: ["docker.io/acme/app:1.1"], bytes: 0.3 * GiB },
    { id: `sha256:${"c".repeat(64)}`, names: [], bytes: 0.2 * GiB },
    { id: `sha256:${"e".repeat(64)}`, names: ["docker.io/acme/job:7"], bytes: 0.1 * GiB },
  ],
  kept: [
    ...kept(12, "in-use"),
    ...kept(3, "protected"),
    ...kept(2, "excluded"),
    ...kept(40, "no-match"),
  ],
});

const ok: NodeResult = {
  node: "node-a",
  status: "ok",
  result: okResult,
  pod: "kic-r-node-a",
  protectedImages: 5,
  durationMs: 3400,
};
const failed: NodeResult = {
  node: "node-b",
  status: "failed",
  reason: "kubelet rejected the pod: OutOfcpu",
  pod: "kic-r-node-b",
  protectedImages: 0,
  durationMs: 1200,
};

describe("node sections", () => {
  it("prints the one-line node summary the issue specifies, then the deleted images", () => {
    expect(formatNodeSection(ok, 3, 12).slice(0, 5)).toEqual([
      "[3/12] node-a: deleted 4 images, 1.2 GiB reclaimed, kept 17 (in-use 12, protected 3, excluded 2), 3.4 s",
      "    deleted  docker.io/acme/app:1.0  aaaaaaaaaaaa  614.4 MiB (+1 more name)",
      "    deleted  docker.io/acme/app:1.1  bbbbbbbbbbbb  307.2 MiB",
      "    deleted  <untagged cccccccccccc>  cccccccccccc  204.8 MiB",
      "    deleted  docker.io/acme/job:7  eeeeeeeeeeee  102.4 MiB",
    ]);
  });

  it("lists every image that matched but was kept, with its reason, and leaves unmatched ones out", () => {
    const section = formatNodeSection(ok, 3, 12);
    const keptLines = section.filter((l) => l.startsWith("    kept "));
    expect(keptLines).toHaveLength(17);
    expect(keptLines).toContain("    kept     docker.io/acme/in-use-0:1  in-use");
    expect(keptLines).toContain("    kept     docker.io/acme/protected-2:1  protected");
    expect(keptLines).toContain("    kept     docker.io/acme/excluded-1:1  excluded");
    expect(section.some((l) => l.includes("no-match"))).toBe(false);
    const withDetail = formatNodeSection(
      {
        ...ok,
        result: agentResult({
          kept: [
            {
              id: "sha256:1",
              names: ["docker.io/acme/web:2"],
              reason: "in-use",
              detail: "container web (running) of pod shop/web",
            },
          ],
        }),
      },
      1,
      1,
    );
    expect(withDetail).toContain(
      "    kept     docker.io/acme/web:2  in-use: container web (running) of pod shop/web",
    );
  });

  it("says 'would delete' in a dry run", () => {
    const dry = { ...ok, result: { ...okResult, dryRun: true } };
    expect(formatNodeSection(dry, 1, 1)[0]).toBe(
      "[1/1] node-a: would delete 4 images, 1.2 GiB to reclaim, kept 17 (in-use 12, protected 3, excluded 2), 3.4 s",
    );
  });

  it("prints a failed node with its reason on one line", () => {
    expect(formatNodeSection(failed, 4, 12)).toEqual([
      "[4/12] node-b: FAILED after 1.2 s: kubelet rejected the pod: OutOfcpu",
    ]);
  });

  it("marks a node whose deletions partly failed and lists each failure", () => {
    const partial: NodeResult = {
      ...ok,
      status: "failed",
      reason: "1 of 2 deletions failed",
      result: agentResult({
        deleted: [{ id: `sha256:${"a".repeat(64)}`, names: ["x:1"], bytes: 1024 }],
        failed: [
          {
            id: `sha256:${"f".repeat(64)}`,
            names: ["x:2"],
            error: "image is in use by a container",
          },
        ],
      }),
    };
    expect(formatNodeSection(partial, 1, 1)).toEqual([
      "[1/1] node-a: FAILED: deleted 1 image, 1.0 KiB reclaimed, kept 0, 1 FAILED, 3.4 s",
      "    deleted  x:1  aaaaaaaaaaaa  1.0 KiB",
      "    FAILED   x:2  ffffffffffff: image is in use by a container",
    ]);
  });

  it("notes when --min-age could not be applied", () => {
    const r = {
      ...ok,
      result: { ...okResult, deleted: [], minAge: { seconds: 86400, supported: false } },
    };
    expect(formatNodeSection(r, 1, 1)).toContain(
      "    note: --min-age not applied: crictl records no time for images",
    );
  });

  it("prints an interrupted node", () => {
    expect(
      formatNodeSection({ ...failed, status: "interrupted", reason: "the run was stopped" }, 2, 3),
    ).toEqual(["[2/3] node-b: interrupted after 1.2 s: the run was stopped"]);
  });

  it("leaves images no pattern matched out of 'kept'", () => {
    expect(keptText(agentResult({ kept: kept(5, "no-match") }))).toBe("kept 0");
  });
});

describe("header", () => {
  const header: RunHeader = {
    runId: "20250101t030000-1a2b",
    server: "https://10.96.0.1:443",
    credentials: "in-cluster service account",
    namespace: "kic",
    include: ["docker.io/acme/*"],
    exclude: ["*/acme/base:*"],
    minAge: "7d",
    rules: {
      keepNewest: undefined,
      maxImagesPerNode: undefined,
      maxBytesPerNode: undefined,
      onlyIfPullable: undefined,
      helperMode: "privileged",
      nodeTimeout: "10m",
    },
    dryRun: true,
    concurrency: 1,
    nodeSelector: "kubernetes.io/os=linux",
    nodesListed: 14,
    selected: ["a", "b"],
    skipped: [{ node: "c", reason: "cordoned (--skip-cordoned)" }],
    missing: ["zz"],
    sweep: { deleted: 2, left: 0 },
  };
  it("shows run id, patterns, node counts, dry run and what was skipped", () => {
    expect(formatHeader(header)).toEqual([
      "kube-image-cleanup run 20250101t030000-1a2b (DRY RUN: nothing is deleted)",
      "  api server:  https://10.96.0.1:443 (in-cluster service account)",
      "  include:     docker.io/acme/*",
      "  exclude:     */acme/base:*",
      "  min age:     7d",
      "  keep newest: none",
      "  limits:      none",
      "  registry:    not asked (--only-if-pullable off)",
      "  helper:      privileged (nsenter into the node's runtime client), node timeout 10m",
      "  always kept: images a container or sandbox uses, pinned images, images of pods bound to the node",
      "  nodes:       2 selected of 14 matching kubernetes.io/os=linux, one at a time",
      "  dry run:     yes",
      "  helper pods: namespace kic",
      "  skipped:     c: cordoned (--skip-cordoned)",
      "  not found:   zz (given with --nodes; not listed with --node-selector)",
      "  swept:       2 helper pods left by earlier runs deleted",
    ]);
  });

  it("names every rule in force: keep-newest, limits, registry check, helper mode", () => {
    const lines = formatHeader({
      ...header,
      dryRun: false,
      exclude: [],
      minAge: undefined,
      rules: {
        keepNewest: "3",
        maxImagesPerNode: "50",
        maxBytesPerNode: "10GiB",
        onlyIfPullable: { registryTimeout: "10s", pullSecrets: ["regcred", "ghcr"] },
        helperMode: "socket",
        nodeTimeout: "5m",
      },
    });
    expect(lines[0]).toBe("kube-image-cleanup run 20250101t030000-1a2b");
    expect(lines.slice(3, 10)).toEqual([
      "  exclude:     none",
      "  min age:     none (any age)",
      "  keep newest: 3 per repository",
      "  limits:      at most 50 images and at most 10GiB per node (oldest first)",
      "  registry:    only images the registry still serves (--only-if-pullable, timeout 10s, credentials from regcred, ghcr)",
      "  helper:      socket (unprivileged, the runtime socket only), node timeout 5m",
      "  always kept: images a container or sandbox uses, pinned images, images of pods bound to the node",
    ]);
    expect(lines).toContain("  dry run:     no");
  });
});

describe("summary", () => {
  const summary: RunSummary = runSummary({
    nodes: [nodeRow(failed), nodeRow(ok)],
    durationMs: 83_000,
    leftPods: {
      why: "--keep-pods",
      count: 2,
      command:
        "kubectl delete pods -n kic -l app.kubernetes.io/name=kube-image-cleanup,app.kubernetes.io/instance=kic,app.kubernetes.io/component=agent",
    },
    requests: { total: 12, perNode: 4, byCall: {} },
  });

  it("prints totals, an aligned table by node name, failed nodes with reasons and the kubectl command", () => {
    expect(formatSummary(summary)).toEqual([
      "",
      "summary of run r1: 2 nodes: 1 ok, 1 failed; deleted 4 images, 1.2 GiB reclaimed; 1m 23s; 12 API requests",
      "  NODE    RESULT  DELETED  RECLAIMED  KEPT  FAILED   TIME",
      "  node-a  ok            4    1.2 GiB    17       0  3.4 s",
      "  node-b  FAILED        -          -     -       -  1.2 s",
      "nodes that need attention:",
      "  node-b: failed: kubelet rejected the pod: OutOfcpu",
      "2 helper pods left (--keep-pods); delete them with:",
      "  kubectl delete pods -n kic -l app.kubernetes.io/name=kube-image-cleanup,app.kubernetes.io/instance=kic,app.kubernetes.io/component=agent",
    ]);
  });

  it("says the run was interrupted and lists nodes never started", () => {
    const lines = formatSummary({
      ...summary,
      nodes: [nodeRow(ok)],
      notStarted: ["node-c"],
      interruptedBy: "SIGTERM",
      leftPods: undefined,
    });
    expect(lines[1]).toBe(
      "summary of run r1: 2 nodes: 1 ok, 0 failed, 1 not reached; deleted 4 images, 1.2 GiB reclaimed; 1m 23s; 12 API requests",
    );
    const at = lines.indexOf(
      "1 node not reached by this run (the next run starts at another node):",
    );
    expect(at).toBeGreaterThan(0);
    expect(lines[at + 1]).toBe("  node-c");
    expect(lines).toContain(
      "run interrupted by SIGTERM: no new nodes were started and the helper pods in flight were deleted",
    );
  });
});

describe("units", () => {
  const cases: [number, string][] = [
    [0, "0 B"],
    [1023, "1023 B"],
    [1536, "1.5 KiB"],
    [1.2 * GiB, "1.2 GiB"],
  ];
  for (const [bytes, text] of cases) {
    it(`prints ${bytes} bytes as ${text}`, () => {
      expect(formatBytes(bytes)).toBe(text);
    });
  }
  it("prints durations", () => {
    expect([formatMs(3400), formatMs(59_949), formatMs(83_000), formatMs(3_723_000)]).toEqual([
      "3.4 s",
      "59.9 s",
      "1m 23s",
      "1h 2m 3s",
    ]);
  });
});

describe("nodeRow", () => {
  it("keeps the totals the summary needs and drops the agent's full result", () => {
    const row = nodeRow(ok);
    expect(row).not.toHaveProperty("result");
    expect(row.totals).toEqual({
      deleted: 4,
      bytesReclaimed: okResult.bytesReclaimed,
      kept: 17,
      failed: 0,
    });
    expect(nodeRow(failed)).toEqual(failed);
  });
});

describe("already gone", () => {
  it("lists an image another process removed first on its own line, not as deleted, with no bytes", () => {
    const result = agentResult({
      deleted: [{ id: `sha256:${"a".repeat(64)}`, names: ["docker.io/acme/app:1.0"], bytes: 1024 }],
      alreadyGone: [
        {
          id: `sha256:${"f".repeat(64)}`,
          names: ["docker.io/acme/app:0.9"],
          detail:
            "the runtime no longer had it when this agent's crictl rmi asked (removed by another process)",
        },
      ],
    });
    const lines = formatNodeSection({ ...ok, result }, 1, 1);
    expect(lines[0]).toMatch(/^\[1\/1\] node-a: deleted 1 image, 1\.0 KiB reclaimed/);
    expect(lines).toContain(
      `    already gone  docker.io/acme/app:0.9  ${"f".repeat(12)}: the runtime no longer had it when this agent's crictl rmi asked (removed by another process)`,
    );
  });
});

describe("a pod bound after the protect list was read", () => {
  it("notes that the agent stopped for it, and a deleted image it needs, control characters escaped", () => {
    const result = agentResult({
      deleted: [{ id: `sha256:${"a".repeat(64)}`, names: ["docker.io/acme/app:1.0"], bytes: 1024 }],
      kept: kept(3, "not-attempted"),
      stopped: "pod-arrived",
      arrivedPods: ["shop/web"],
    });
    const lines = formatNodeSection(
      {
        ...ok,
        result,
        notes: [
          "deleted an image that a pod bound to the node after its protect list was read needs: docker.io/acme/app:1.0 (pod shop/x\n[1/1]); the kubelet will pull it again",
        ],
      },
      1,
      1,
    );
    expect(lines).toContain(
      "    note: pod shop/web bound to the node after its protect list was read: deleted nothing more, 3 planned images left for the next run",
    );
    expect(lines).toContain(
      "    note: deleted an image that a pod bound to the node after its protect list was read needs: docker.io/acme/app:1.0 (pod shop/x\\n[1/1]); the kubelet will pull it again",
    );
  });
});
