// "Reclaimed" sums image sizes; the agent also reports what the image filesystem got back, as the
// runtime itself reports it, before and after the removals: against the real containerd, with
// crictl (CRI ImageFsInfo) and ctr (snapshots usage + content store).
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runAgent } from "../../../src/agent/agent.js";
import { createHostExec } from "../../../src/agent/host-exec.js";
import {
  parseCrictlImageFsInfo,
  parseCtrContentBytes,
  parseCtrSnapshotUsage,
} from "../../../src/agent/image-fs.js";
import { createPrettyReporter } from "../../../src/agent/report.js";
import type { RuntimeClientName } from "../../../src/run-model/agent-result.js";
import { loadAgentConfig } from "../../../src/config/agent-options.js";
import {
  binDir,
  blobsOf,
  ctr,
  pathWithBins,
  Scratch,
  startContainerd,
  type StandaloneContainerd,
  uniqueToken,
} from "../../support/containerd.js";

let containerd: StandaloneContainerd;
beforeAll(async () => {
  containerd = await startContainerd();
  process.env.PATH = pathWithBins;
});
afterAll(() => {
  containerd.stop();
});

/** The runtime's own figure, read by the test with the client itself. */
function usedBytes(client: RuntimeClientName): number {
  const socket = containerd.socket;
  if (client === "ctr")
    return (
      parseCtrSnapshotUsage(ctr(socket, ["snapshots", "usage", "-b"])) +
      parseCtrContentBytes(ctr(socket, ["content", "ls"]))
    );
  const endpoint = `unix://${socket}`;
  const json = execFileSync(
    join(binDir, "crictl"),
    ["--runtime-endpoint", endpoint, "--image-endpoint", endpoint, "imagefsinfo", "-o", "json"],
    { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] },
  );
  return parseCrictlImageFsInfo(json).usedBytes;
}

const PAD = 300_000;

describe.each(["crictl", "ctr"] as RuntimeClientName[])("bytes freed with %s", (client) => {
  let scratch: Scratch;
  beforeAll(() => {
    scratch = new Scratch(containerd.socket);
  });
  afterAll(() => {
    scratch.cleanup();
  });

  it("reports the image filesystem's used bytes before and after beside the sum of image sizes, each labelled", async () => {
    const prefix = `docker.io/kic-agent-it/fs-${client}-${uniqueToken()}`;
    // Two images on the same busybox layer, each with PAD bytes of its own: the sum of sizes counts
    // busybox twice, the filesystem gets none of it back (a third image keeps it).
    // A third image on busybox, not matched: busybox's layer stays whatever the pause image is.
    scratch.image(`${prefix}-keep/k:1`, { busybox: true });
    const images = ["a", "b"].map((n) =>
      scratch.image(`${prefix}/${n}:1`, { busybox: true, pad: PAD }),
    );
    const own = images.flatMap((i) => blobsOf(containerd, i.manifest).slice(0, 2));
    const config = loadAgentConfig(
      {
        socket: containerd.socket,
        "host-exec": "direct",
        "node-name": "it-node",
        client,
        include: [`${prefix}/**`],
      },
      {},
    );
    const lines: string[] = [];
    const result = await runAgent(config, {
      exec: createHostExec("direct"),
      log: pino({ level: "silent" }),
      report: createPrettyReporter((l) => lines.push(l)),
    });

    expect(result.deleted.map((d) => d.id).sort()).toEqual(images.map((i) => i.id).sort());
    expect(result.bytesReclaimed).toBe(images.reduce((sum, i) => sum + i.size, 0));
    const fs = result.imageFs;
    expect(fs).toMatchObject({
      source: client === "crictl" ? "crictl imagefsinfo" : "ctr snapshots usage + ctr content ls",
      settled: true,
    });
    if (fs === undefined) return;
    expect(fs.freedBytes).toBe(fs.usedBytesBefore - fs.usedBytesAfter);
    // The runtime, asked again by the test, says what the agent reported after the removals.
    expect(usedBytes(client)).toBe(fs.usedBytesAfter);
    // Each image's own unpacked bytes (and, for ctr, its own blobs) came back ...
    expect(fs.freedBytes).toBeGreaterThanOrEqual(2 * PAD);
    if (client === "ctr")
      expect(fs.freedBytes).toBeGreaterThan(2 * PAD + 0.99 * own.reduce((s, b) => s + b.bytes, 0));
    // ... and the sum of sizes is not what the disk got back: busybox is in it twice, freed never.
    expect(fs.freedBytes).toBeLessThan(result.bytesReclaimed);

    const label = lines.find((l) => l.startsWith("bytes: "));
    expect(label).toMatch(
      new RegExp(
        `^bytes: .* reclaimed = sum of image sizes; image filesystem freed .* \\(used .* -> .*, as ${fs.source.replace("+", "\\+")} reports\\)$`,
      ),
    );
  });
});
