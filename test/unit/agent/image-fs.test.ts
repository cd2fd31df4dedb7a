import { describe, expect, it } from "vitest";
import { runSummary } from "../support/run-summary.js";
import {
  imageFsFigure,
  parseCrictlImageFsInfo,
  parseCtrContent,
  parseCtrContentBytes,
  parseCtrSnapshotUsage,
  type ImageFsReading,
} from "../../../src/agent/image-fs.js";
import { bytesLine } from "../../../src/run-model/bytes-line.js";
import { formatNodeSection, formatSummary } from "../../../src/report/pretty.js";
import { nodeRecord } from "../../../src/report/run-reporter.js";
import { nodeRow } from "../../../src/run-model/node-result.js";
import type { AgentResult } from "../../../src/run-model/agent-result.js";

// Captured from containerd 1.6.20 with crictl 1.34 and its ctr.
const IMAGEFSINFO = `{
  "status": {
    "containerFilesystems": [],
    "imageFilesystems": [
      {
        "fsId": { "mountpoint": "/var/lib/containerd/io.containerd.snapshotter.v1.overlayfs" },
        "inodesUsed": { "value": "274" },
        "timestamp": "1796126794496611419",
        "usedBytes": { "value": "2310144" }
      }
    ]
  }
}`;
const SNAPSHOTS = `KEY                                                                     SIZE    INODES 
sha256:484592b0e3224b9f340a63583fb1c3a11a1df5810c7838a9f57e388d47163a7b 106496  2      
sha256:a72088ab34d89f33a1e65ca50fa3a39aa9fa37537310a83a33399a6cd8394bc3 1994752 272    
`;
const CONTENT = `DIGEST\t\t\t\t\t\t\t\t\tSIZE\tAGE\t\t\tLABELS
sha256:1441a25fcc3a4f9a42e42dfb5c2ed006e60082c11c787c6798d5d32626b739f3\t368B\tLess than a second\tcontainerd.io/gc.ref.snapshot.overlayfs=sha256:48
sha256:a72088ab34d89f33a1e65ca50fa3a39aa9fa37537310a83a33399a6cd8394bc3\t2.13MB\tLess than a second\tcontainerd.io/uncompressed=sha256:a7
sha256:d4758d40aae6f7adb344bf2fb6fcdb30e2ad032bb15fa0aa516d64c981493ddc\t102.4kB\t3 minutes\tcontainerd.io/uncompressed=sha256:d4
`;

describe("image filesystem readings", () => {
  it("reads crictl imagefsinfo: used bytes and when containerd took them", () => {
    expect(parseCrictlImageFsInfo(IMAGEFSINFO)).toEqual({
      usedBytes: 2310144,
      takenAtMs: 1796126794496,
    });
    expect(() => parseCrictlImageFsInfo('{"status":{"imageFilesystems":[]}}')).toThrow(
      /no image filesystem/,
    );
  });

  it("sums ctr snapshots usage -b and ctr content ls (decimal units)", () => {
    expect(parseCtrSnapshotUsage(SNAPSHOTS)).toBe(106496 + 1994752);
    expect(parseCtrContentBytes(CONTENT)).toBe(368 + 2_130_000 + 102_400);
    expect([...parseCtrContent(CONTENT).digests]).toEqual([
      "sha256:1441a25fcc3a4f9a42e42dfb5c2ed006e60082c11c787c6798d5d32626b739f3",
      "sha256:a72088ab34d89f33a1e65ca50fa3a39aa9fa37537310a83a33399a6cd8394bc3",
      "sha256:d4758d40aae6f7adb344bf2fb6fcdb30e2ad032bb15fa0aa516d64c981493ddc",
    ]);
  });
});

describe("the figure from readings taken without waiting", () => {
  const removedAtMs = 1_000_000;
  const gone = `sha256:${"e".repeat(64)}`;
  const ctrSource = "ctr snapshots usage + ctr content ls";
  const cases: {
    name: string;
    before: ImageFsReading;
    after: ImageFsReading;
    state: "exact" | "pending" | undefined;
    reason?: RegExp;
  }[] = [
    {
      name: "ctr after containerd collected the removed content: exact",
      before: { usedBytes: 900, source: ctrSource, contentDigests: new Set([gone]) },
      after: { usedBytes: 600, source: ctrSource, contentDigests: new Set() },
      state: "exact",
    },
    {
      name: "ctr while the removed image's config blob is still in the store: pending",
      before: { usedBytes: 900, source: ctrSource, contentDigests: new Set([gone]) },
      after: { usedBytes: 880, source: ctrSource, contentDigests: new Set([gone]) },
      state: "pending",
      reason: /not yet collected the content of 1 removed image/,
    },
    {
      name: "the CRI's figure refreshed after the removals: exact",
      before: { usedBytes: 900, source: "crictl imagefsinfo", takenAtMs: removedAtMs - 9000 },
      after: { usedBytes: 600, source: "crictl imagefsinfo", takenAtMs: removedAtMs + 1 },
      state: "exact",
    },
    {
      name: "the CRI's figure from before the removals ended: pending",
      before: { usedBytes: 900, source: "crictl imagefsinfo", takenAtMs: removedAtMs - 9000 },
      after: { usedBytes: 900, source: "crictl imagefsinfo", takenAtMs: removedAtMs - 9000 },
      state: "pending",
      reason: /last refreshed before the removals ended .*every 10 s/,
    },
    {
      name: "an empty CRI stats store (0 bytes): pending",
      before: { usedBytes: 0, source: "crictl imagefsinfo", takenAtMs: removedAtMs + 5 },
      after: { usedBytes: 0, source: "crictl imagefsinfo", takenAtMs: removedAtMs + 5 },
      state: "pending",
      reason: /no figure yet/,
    },
    {
      name: "the Engine's figure, computed on request: exact",
      before: { usedBytes: 900, source: "docker system df (LayersSize)" },
      after: { usedBytes: 100, source: "docker system df (LayersSize)" },
      state: "exact",
    },
    {
      name: "readings from two sources: no figure",
      before: { usedBytes: 900, source: ctrSource },
      after: { usedBytes: 100, source: "crictl imagefsinfo", takenAtMs: removedAtMs + 1 },
      state: undefined,
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const figure = imageFsFigure(c.before, c.after, { removedAtMs, deletedIds: [gone] });
      expect(figure?.state).toBe(c.state);
      if (figure === undefined) return;
      expect(figure.freedBytes).toBe(c.before.usedBytes - c.after.usedBytes);
      if (c.reason) expect(figure.pendingReason).toMatch(c.reason);
      else expect(figure.pendingReason).toBeUndefined();
    });
  }
});

const base: AgentResult = {
  version: 1,
  node: "n1",
  runtime: { client: "crictl", socket: "/run/containerd/containerd.sock", hostExec: "nsenter" },
  dryRun: false,
  counts: { images: 2, matched: 2, deleted: 2, kept: 0, failed: 0 },
  deleted: [
    { id: `sha256:${"a".repeat(64)}`, names: ["docker.io/acme/a:1"], bytes: 3 * 1024 * 1024 },
    { id: `sha256:${"b".repeat(64)}`, names: ["docker.io/acme/b:1"], bytes: 3 * 1024 * 1024 },
  ],
  kept: [],
  failed: [],
  bytesReclaimed: 6 * 1024 * 1024,
  imageFs: {
    source: "crictl imagefsinfo",
    usedBytesBefore: 10 * 1024 * 1024,
    usedBytesAfter: 9 * 1024 * 1024,
    freedBytes: 1024 * 1024,
    state: "exact",
  },
  durationsMs: { inventory: 1, plan: 1, execute: 1, total: 3 },
};

describe("the two byte figures, each labelled", () => {
  it("says which is the sum of image sizes and which the image filesystem got back", () => {
    expect(bytesLine(base)).toBe(
      "bytes: 6.0 MiB reclaimed = sum of image sizes; image filesystem freed 1.0 MiB (used 10.0 MiB -> 9.0 MiB, as crictl imagefsinfo reports)",
    );
    const fs: AgentResult["imageFs"] = {
      ...(base.imageFs as NonNullable<AgentResult["imageFs"]>),
      state: "pending",
      pendingReason: "crictl imagefsinfo was last refreshed before the removals ended",
    };
    expect(bytesLine({ ...base, imageFs: fs })).toBe(
      "bytes: 6.0 MiB reclaimed = sum of image sizes; image filesystem freed: pending, 1.0 MiB so far (used 10.0 MiB -> 9.0 MiB, as crictl imagefsinfo reports; crictl imagefsinfo was last refreshed before the removals ended)",
    );
  });

  it("puts both into the node's section, the JSON record and the summary", () => {
    const node = {
      node: "n1",
      status: "ok" as const,
      result: base,
      protectedImages: 0,
      durationMs: 5,
    };
    expect(formatNodeSection(node, 1, 1)).toContain(`    ${bytesLine(base)}`);
    expect(nodeRecord(node, 1, 1).bytes).toEqual({
      sumOfImageSizes: 6 * 1024 * 1024,
      imageFsFreed: 1024 * 1024,
      imageFs: base.imageFs,
    });
    const summary = formatSummary(runSummary({ nodes: [nodeRow(node)] }));
    expect(summary).toContain(
      "  image filesystems freed 1.0 MiB on 1 node, as the runtimes report them (RECLAIMED is the sum of image sizes)",
    );
  });
});

describe("a pending figure is never summed with exact ones", () => {
  const section = (node: string, imageFs: AgentResult["imageFs"]) => ({
    node,
    status: "ok" as const,
    result: { ...base, node, imageFs },
    protectedImages: 0,
    durationMs: 5,
  });
  const exact = (freedBytes: number): AgentResult["imageFs"] => ({
    source: "ctr snapshots usage + ctr content ls",
    usedBytesBefore: 100 * 1024 * 1024,
    usedBytesAfter: 100 * 1024 * 1024 - freedBytes,
    freedBytes,
    state: "exact",
  });
  const pending: AgentResult["imageFs"] = {
    source: "crictl imagefsinfo",
    usedBytesBefore: 100 * 1024 * 1024,
    usedBytesAfter: 50 * 1024 * 1024,
    freedBytes: 50 * 1024 * 1024,
    state: "pending",
    pendingReason: "crictl imagefsinfo was last refreshed before the removals ended",
  };
  const summaryOf = (nodes: ReturnType<typeof section>[]) =>
    formatSummary(runSummary({ nodes: nodes.map(nodeRow) }));

  it("keeps a pending node's bytes out of the node's totals and out of the JSON total", () => {
    const node = section("n2", pending);
    expect(nodeRow(node).totals).toMatchObject({ imageFsPending: true });
    expect(nodeRow(node).totals?.imageFsFreedBytes).toBeUndefined();
    expect(nodeRecord(node, 1, 1).bytes).toEqual({
      sumOfImageSizes: 6 * 1024 * 1024,
      imageFs: pending,
    });
  });

  it("sums only the exact nodes and counts the pending one apart", () => {
    const summary = summaryOf([
      section("n1", exact(1024 * 1024)),
      section("n2", pending),
      section("n3", exact(2 * 1024 * 1024)),
    ]);
    // 3.0 MiB: n1 + n3. With n2's 50 MiB added it would say 53.0 MiB.
    expect(summary).toContain(
      "  image filesystems freed 3.0 MiB on 2 nodes, as the runtimes report them (RECLAIMED is the sum of image sizes); 1 node pending, not in this figure",
    );
    expect(summary.join("\n")).not.toContain("53.0 MiB");
  });

  it("says pending, with no bytes, when no node had an exact figure", () => {
    const summary = summaryOf([section("n2", pending)]);
    expect(summary).toContain(
      "  image filesystems freed: pending on 1 node (the runtime had not caught up when the agent read it; RECLAIMED is the sum of image sizes)",
    );
    expect(summary.join("\n")).not.toContain("50.0 MiB");
  });
});
