import { describe, expect, it } from "vitest";
import {
  parseCrictlImageFsInfo,
  parseCtrContentBytes,
  parseCtrSnapshotUsage,
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
  });
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
    settled: true,
  },
  durationsMs: { inventory: 1, plan: 1, execute: 1, total: 3 },
};

describe("the two byte figures, each labelled", () => {
  it("says which is the sum of image sizes and which the image filesystem got back", () => {
    expect(bytesLine(base)).toBe(
      "bytes: 6.0 MiB reclaimed = sum of image sizes; image filesystem freed 1.0 MiB (used 10.0 MiB -> 9.0 MiB, as crictl imagefsinfo reports)",
    );
    const fs = { ...(base.imageFs as NonNullable<AgentResult["imageFs"]>), settled: false };
    expect(bytesLine({ ...base, imageFs: fs })).toMatch(
      /reports; the runtime had not refreshed it yet\)$/,
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
    const summary = formatSummary({
      runId: "r1",
      dryRun: false,
      nodes: [nodeRow(node)],
      notStarted: [],
      missing: [],
      durationMs: 5,
      interruptedBy: undefined,
      fatal: undefined,
      leftPods: undefined,
      requests: { total: 1, perNode: 1, byCall: {} },
    });
    expect(summary).toContain(
      "  image filesystems freed 1.0 MiB on 1 node, as the runtimes report them (RECLAIMED is the sum of image sizes)",
    );
  });
});
