// "Reclaimed" sums image sizes; the agent also reports what the image filesystem got back, as the
// runtime itself reports it, right before and right after the removals, without waiting for it:
// against the real containerd (1.6 and 2), with crictl and ctr (both read containerd's own
// accounting through ctr: snapshots usage + content store), and with crictl alone (CRI
// ImageFsInfo, which containerd refreshes periodically: read before it caught up, it is pending).
import { execFileSync } from "node:child_process";
import { symlinkSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  parseCrictlImageFsInfo,
  parseCtrContentBytes,
  parseCtrSnapshotUsage,
} from "../../../src/agent/image-fs.js";
import type { RuntimeClientName } from "../../../src/run-model/agent-result.js";
import {
  binDir,
  blobsOf,
  CONTAINERD_RUNTIMES,
  ctr,
  startContainerd,
  type StandaloneContainerd,
  uniqueToken,
} from "../../support/containerd.js";
import { runAgentDirect, scratchPerBlock } from "../../support/agent-on-runtime.js";
import { tempDir } from "../../support/temp-dir.js";

let containerd: StandaloneContainerd;

function crictlImageFsInfo(): string {
  const endpoint = `unix://${containerd.socket}`;
  return execFileSync(
    join(binDir, "crictl"),
    ["--runtime-endpoint", endpoint, "--image-endpoint", endpoint, "imagefsinfo", "-o", "json"],
    { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] },
  );
}

/** The runtime's own figure, read by the test with the client itself. */
function usedBytes(client: RuntimeClientName): number {
  const socket = containerd.socket;
  if (client === "ctr")
    return (
      parseCtrSnapshotUsage(ctr(socket, ["snapshots", "usage", "-b"])) +
      parseCtrContentBytes(ctr(socket, ["content", "ls"]))
    );
  return parseCrictlImageFsInfo(crictlImageFsInfo()).usedBytes;
}

const PAD = 300_000;

async function agentRun(client: RuntimeClientName, include: string) {
  const lines: string[] = [];
  const result = await runAgentDirect(containerd.socket, { client, include: [include] }, { lines });
  return { result, label: lines.find((l) => l.startsWith("bytes: ")) };
}

describe.each(CONTAINERD_RUNTIMES)("on %s", (runtime) => {
  const savedPath = process.env.PATH;
  beforeAll(async () => {
    // The CRI's stats pass runs at start, then not for an hour: its figure after the removals is
    // always from before them, so what the agent does with a figure not caught up is deterministic.
    containerd = await startContainerd({ runtime, statsCollectPeriod: 3600 });
    process.env.PATH = containerd.path;
  });
  afterAll(() => {
    process.env.PATH = savedPath;
    containerd.stop();
  });

  describe.each(["crictl", "ctr"] as RuntimeClientName[])("bytes freed with %s", (client) => {
    const scratch = scratchPerBlock(() => containerd.socket);

    it("reports containerd's own accounting before and after, exact at once, beside the sum of image sizes, each labelled", async () => {
      const prefix = `docker.io/kic-agent-it/fs-${client}-${uniqueToken()}`;
      // Two images on the same busybox layer, each with PAD bytes of its own: the sum of sizes counts
      // busybox twice, the filesystem gets none of it back (a third image keeps it).
      // A third image on busybox, not matched: busybox's layer stays whatever the pause image is.
      scratch().image(`${prefix}-keep/k:1`, { busybox: true });
      const images = ["a", "b"].map((n) =>
        scratch().image(`${prefix}/${n}:1`, { busybox: true, pad: PAD }),
      );
      const own = images.flatMap((i) => blobsOf(containerd, i.manifest).slice(0, 2));
      const { result, label } = await agentRun(client, `${prefix}/**`);

      expect(result.deleted.map((d) => d.id).sort()).toEqual(images.map((i) => i.id).sort());
      expect(result.bytesReclaimed).toBe(images.reduce((sum, i) => sum + i.size, 0));
      const fs = result.imageFs;
      // With crictl too: on containerd, ctr's figure is there on request, the CRI's only every 10 s.
      expect(fs).toMatchObject({ source: "ctr snapshots usage + ctr content ls", state: "exact" });
      expect(fs?.pendingReason).toBeUndefined();
      if (fs === undefined) return;
      expect(fs.freedBytes).toBe(fs.usedBytesBefore - fs.usedBytesAfter);
      // The runtime, asked again by the test, says what the agent reported after the removals.
      expect(usedBytes("ctr")).toBe(fs.usedBytesAfter);
      // Each image's own unpacked bytes and its own blobs came back ...
      expect(fs.freedBytes).toBeGreaterThan(2 * PAD + 0.99 * own.reduce((s, b) => s + b.bytes, 0));
      // ... and the sum of sizes is not what the disk got back: busybox is in it twice, freed never.
      expect(fs.freedBytes).toBeLessThan(result.bytesReclaimed);

      expect(label).toMatch(
        new RegExp(
          `^bytes: .* reclaimed = sum of image sizes; image filesystem freed .* \\(used .* -> .*, as ${fs.source.replace("+", "\\+")} reports\\)$`,
        ),
      );
    });
  });

  describe("bytes freed with crictl where there is no ctr (as on CRI-O)", () => {
    // A node with crictl and no ctr: the CRI's ImageFsInfo is the only figure there is.
    const only = tempDir("kic-crictl-only-");
    beforeAll(() => {
      symlinkSync(join(binDir, "crictl"), join(only, "crictl"));
    });
    const scratch = scratchPerBlock(() => containerd.socket);

    it("reads the CRI's figure without waiting and labels it pending, with why", async () => {
      const prefix = `docker.io/kic-agent-it/fs-cri-${uniqueToken()}`;
      const image = scratch().image(`${prefix}/a:1`, { busybox: true, pad: PAD });
      // The CRI's stats pass runs when containerd starts, then not for an hour: after a restart
      // its figure holds this image and stays as it is for the rest of the test.
      await containerd.restart();
      const stale = parseCrictlImageFsInfo(crictlImageFsInfo());
      expect(stale.usedBytes).toBeGreaterThan(PAD);
      process.env.PATH = only;
      let run;
      try {
        run = await agentRun("crictl", `${prefix}/**`);
      } finally {
        process.env.PATH = containerd.path;
      }
      const { result, label } = run;
      expect(result.deleted.map((d) => d.id)).toEqual([image.id]);
      // The runtime's figure had not been refreshed since before the run (the stats pass is hourly).
      expect(parseCrictlImageFsInfo(crictlImageFsInfo())).toEqual(stale);
      expect(result.imageFs).toMatchObject({ source: "crictl imagefsinfo", state: "pending" });
      expect(result.imageFs?.pendingReason).toMatch(
        /crictl imagefsinfo was last refreshed before the removals ended/,
      );
      expect(label).toMatch(
        /^bytes: .* reclaimed = sum of image sizes; image filesystem freed: pending, .* so far \(used .* -> .*, as crictl imagefsinfo reports; crictl imagefsinfo was last refreshed before the removals ended/,
      );
    });
  });
});
