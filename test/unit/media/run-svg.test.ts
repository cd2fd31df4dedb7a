// media/run.svg, the README's picture, is the Job log of a real `npm run demo` run
// (media/regenerate.sh). It cannot go stale silently:
//   - the picture is exactly the rendering of the log lines it holds (media/render-log.mjs), so
//     nobody edits the text by hand;
//   - today's formatter (src/report/pretty.ts), given the facts of the demo's run, prints those
//     lines: a change to the log format fails here until the picture is made again. Only what
//     differs from run to run is left out of the comparison: run id, durations, image ids, byte
//     sizes, the number of API requests, and the column padding that follows from them.
// When this fails after a format change: `bash test/cluster/with-cluster.sh npm run media`, and
// adjust the facts below if the demo (test/demo.sh) changed what it shows.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
// @ts-expect-error: a plain .mjs script without type declarations
import { logLines, renderSvg } from "../../../media/render-log.mjs";
import { formatHeader, formatNodeSection, formatSummary } from "../../../src/report/pretty.js";
import type { AgentResult } from "../../../src/run-model/agent-result.js";
import { nodeRow, type NodeResult } from "../../../src/run-model/node-result.js";
import type { RunHeader } from "../../../src/run-model/run-header.js";
import type { RunSummary } from "../../../src/run-model/run-summary.js";

const repoRoot = join(import.meta.dirname, "..", "..", "..");
const svg = readFileSync(join(repoRoot, "media", "run.svg"), "utf8");
const pictured = (logLines as (svg: string) => string[])(svg);

const MiB = 1024 * 1024;
const id = (c: string) => `sha256:${c.repeat(64)}`;

/** What the demo's run was: its node, images, and why each stayed (test/demo.sh). */
const RUN_ID = "20261207t120000-abcd";
const NODE = "kic-node";
const header: RunHeader = {
  runId: RUN_ID,
  server: "https://127.0.0.1:16443",
  credentials: "in-cluster service account",
  namespace: "kube-image-cleanup",
  include: ["/^demo\\.local\\/shop\\//"],
  exclude: [],
  minAge: undefined,
  // test/demo.sh: images.keepNewest=2 on test/local-cluster-values.yaml (timeouts.node 2m).
  rules: {
    keepNewest: "2",
    maxImagesPerNode: undefined,
    maxBytesPerNode: undefined,
    onlyIfPullable: undefined,
    helperMode: "privileged",
    nodeTimeout: "2m",
  },
  dryRun: false,
  // The chart's default since main made it 10 (test/demo.sh sets none).
  concurrency: 10,
  nodeSelector: "kubernetes.io/os=linux",
  nodesListed: 1,
  selected: [NODE],
  skipped: [],
  missing: [],
  sweep: { deleted: 0, left: 0 },
};
const deleted: AgentResult["deleted"] = [
  { id: id("1"), names: ["demo.local/shop/backend:v0"], bytes: 2.5 * MiB },
  { id: id("2"), names: ["demo.local/shop/frontend:v1"], bytes: 2.5 * MiB },
];
const newest = (image: string, repository: string, created: string) => ({
  id: id(image.slice(-1)),
  names: [`demo.local/shop/${image}`],
  reason: "newest" as const,
  detail: `newest 2 of 3 in demo.local/shop/${repository} (created ${created}), --keep-newest 2`,
});
const kept: AgentResult["kept"] = [
  newest("backend:v1", "backend", "2026-08-01T00:00:00.000Z"),
  {
    id: id("4"),
    names: ["demo.local/shop/backend:v2"],
    reason: "protected",
    detail: "needed by pod demo-shop/backend (Pending)",
  },
  newest("frontend:v2", "frontend", "2026-10-01T00:00:00.000Z"),
  {
    id: id("3"),
    names: ["demo.local/shop/frontend:v3"],
    reason: "in-use",
    detail: "container web (running) of pod demo-shop/frontend",
  },
  // Not matched by the pattern: not listed in the log.
  { id: id("5"), names: ["demo.local/tools/debug:v1"], reason: "no-match" },
];
const result: AgentResult = {
  version: 1,
  node: NODE,
  runtime: { client: "crictl", socket: "/run/containerd/containerd.sock", hostExec: "nsenter" },
  dryRun: false,
  counts: { images: 7, matched: 6, deleted: 2, kept: 5, failed: 0 },
  deleted,
  kept,
  failed: [],
  bytesReclaimed: 5.1 * MiB,
  imageFs: {
    source: "ctr snapshots usage + ctr content ls",
    usedBytesBefore: 323.6 * MiB,
    usedBytesAfter: 322.6 * MiB,
    freedBytes: 1 * MiB,
    state: "exact",
  },
  durationsMs: { inventory: 100, plan: 1, execute: 200, total: 301 },
};
const node: NodeResult = {
  node: NODE,
  status: "ok",
  result,
  pod: `kic-${RUN_ID}-${NODE}`,
  protectedImages: 2,
  durationMs: 17_200,
};
const summary: RunSummary = {
  runId: RUN_ID,
  dryRun: false,
  nodes: [nodeRow(node)],
  notStarted: [],
  missing: [],
  durationMs: 17_600,
  interruptedBy: undefined,
  fatal: undefined,
  leftPods: undefined,
  requests: { total: 9, perNode: 9, byCall: {} },
};

/** A log line without what differs from run to run. */
function normalise(line: string): string {
  return line
    .replace(/\b\d{8}t\d{6}-[0-9a-f]{4}\b/g, "<run>")
    .replace(/\b\d+(\.\d+)? s\b|\b(\d+h )?\d+m \d+s\b/g, "<time>")
    .replace(/\b[0-9a-f]{12}\b/g, "<id>")
    .replace(/-?\b\d+(\.\d+)? (B|KiB|MiB|GiB|TiB)\b/g, "<size>")
    .replace(/\b\d+ API requests?\b/g, "<n> API requests")
    .replace(/ {2,}/g, "  ")
    .trimEnd();
}

describe("media/run.svg", () => {
  it("is exactly the rendering of the log lines it holds", () => {
    expect(pictured.length).toBeGreaterThan(10);
    expect((renderSvg as (lines: string[]) => string)(pictured)).toBe(svg);
  });

  it("shows a kubectl logs command, then the log today's formatter prints for the demo's run", () => {
    expect(pictured[0]).toMatch(/^\$ kubectl logs -n kube-image-cleanup job\/demo-\d{6}$/);
    const today = [
      ...formatHeader(header),
      ...formatNodeSection(node, 1, 1),
      ...formatSummary(summary),
    ];
    expect(pictured.slice(1).map(normalise)).toEqual(today.map(normalise));
  });

  it("would fail on a changed format: the normalised lines still tell the formats apart", () => {
    expect(normalise("    deleted  demo.local/shop/backend:v0  0123456789ab  2.5 MiB")).toBe(
      "  deleted  demo.local/shop/backend:v0  <id>  <size>",
    );
    expect(normalise("    removed  demo.local/shop/backend:v0  0123456789ab  2.5 MiB")).not.toBe(
      normalise("    deleted  demo.local/shop/backend:v0  0123456789ab  2.5 MiB"),
    );
  });
});
