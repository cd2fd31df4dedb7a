// --unused-for on real containerd 1.6 and 2, with both clients: the clock is a real image label
// (read back with ctr), it survives a containerd restart between runs, and an image is deleted only
// by the run after its clock passes N. The agent's "now" is injected (runAgent's `now`), so two
// weeks pass in a second; the labels, the restart and the removals are real.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { UNUSED_SINCE_LABEL } from "../../../src/agent/unused-clock.js";
import type { RuntimeClientName } from "../../../src/run-model/agent-result.js";
import {
  CONTAINERD_RUNTIMES,
  crictl,
  ctr,
  imageRefs,
  pathWithBins,
  Scratch,
  startContainerd,
  uniqueToken,
  type StandaloneContainerd,
} from "../../support/containerd.js";
import { agentWithCrictlOnly } from "../../support/agent-cli.js";
import { runAgentDirect, scratchPerBlock } from "../../support/agent-on-runtime.js";

const DAY = 86_400_000;
const T0 = Date.UTC(2026, 10, 1, 3, 0, 0);

/** The clock labels on each containerd image record, by reference (`ctr images ls`). */
function clockLabels(socket: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of ctr(socket, ["images", "ls"]).split("\n").slice(1)) {
    const ref = line.split(/\s+/)[0] ?? "";
    const label = new RegExp(`${UNUSED_SINCE_LABEL.replace(/\./g, "\\.")}=([^,\\s]+)`).exec(line);
    if (label?.[1] !== undefined) out.set(ref, label[1]);
  }
  return out;
}

describe.each(CONTAINERD_RUNTIMES)("--unused-for on %s", (runtime) => {
  let containerd: StandaloneContainerd;
  let socket = "";
  const savedPath = process.env.PATH;
  beforeAll(async () => {
    // The system's 1.6 ctr for containerd 1.6 (a 2.x ctr cannot import into it).
    process.env.PATH = pathWithBins;
    containerd = await startContainerd({ runtime });
    socket = containerd.socket;
    process.env.PATH = containerd.path;
  });
  afterAll(() => {
    process.env.PATH = savedPath;
    containerd.stop();
  });

  const agent = (client: RuntimeClientName, nowMs: number, args: Record<string, unknown>) =>
    runAgentDirect(socket, { client, ...args }, { now: () => nowMs });

  describe.each(["crictl", "ctr"] as RuntimeClientName[])("with %s", (client) => {
    const scratch = scratchPerBlock(() => socket);

    it("starts the clock in a dry run, keeps it across a containerd restart, deletes only on the run after N", async () => {
      const prefix = `docker.io/kic-agent-it/unused-${client}-${uniqueToken()}`;
      const idle = scratch().image(`${prefix}/idle:1`);
      const used = scratch().image(`${prefix}/used:1`);
      const sandbox = scratch().sandbox(`unused-${uniqueToken()}`);
      scratch().criContainer(sandbox, `used-${uniqueToken()}`, used.name, "created");
      const include = [`${prefix}/*`];

      // Run 1, a dry run: the idle image's clock starts now; the image in use gets none.
      const first = await agent(client, T0, { include, "unused-for": "14d", "dry-run": true });
      expect(first.deleted).toEqual([]);
      expect(first.kept).toContainEqual({
        id: idle.id,
        names: [idle.name],
        reason: "unused-for",
        detail: "unused since 2026-11-01T03:00:00Z (0s < 14d)",
        unusedSince: "2026-11-01T03:00:00.000Z",
      });
      expect(first.kept.find((k) => k.id === used.id)).toMatchObject({
        reason: "in-use",
        inUse: true,
      });
      expect(first.unusedFor).toEqual({
        seconds: 14 * 86_400,
        started: 1,
        stopped: 0,
        deferred: 0,
        failed: 0,
      });
      const labels = clockLabels(socket);
      expect(labels.get(idle.id)).toBe("2026-11-01T03:00:00Z");
      expect([...labels.keys()].filter((r) => r === used.id || r === used.name)).toEqual([]);

      await containerd.restart();
      expect(clockLabels(socket).get(idle.id)).toBe("2026-11-01T03:00:00Z");

      // Run 2, one second before N: kept, clock unchanged, nothing written.
      const second = await agent(client, T0 + 14 * DAY - 1000, { include, "unused-for": "14d" });
      expect(second.deleted).toEqual([]);
      expect(second.kept.find((k) => k.id === idle.id)).toMatchObject({
        reason: "unused-for",
        detail: "unused since 2026-11-01T03:00:00Z (13d23h59m59s < 14d)",
      });
      expect(second.unusedFor).toMatchObject({ started: 0, stopped: 0 });
      expect(imageRefs(socket)).toContain(idle.name);

      // Run 3, at N: deleted; the image in use stays.
      const third = await agent(client, T0 + 14 * DAY, { include, "unused-for": "14d" });
      expect(third.failed).toEqual([]);
      expect(third.deleted.map((d) => d.id)).toEqual([idle.id]);
      expect(third.deleted[0]?.unusedSince).toBe("2026-11-01T03:00:00.000Z");
      expect(imageRefs(socket)).not.toContain(idle.name);
      expect(imageRefs(socket)).toContain(used.name);
    });

    it("stops the clock of an image seen in use, and starts it again once it is unused", async () => {
      const prefix = `docker.io/kic-agent-it/again-${client}-${uniqueToken()}`;
      const image = scratch().image(`${prefix}/app:1`);
      const include = [`${prefix}/*`];
      await agent(client, T0, { include, "unused-for": "1d", "dry-run": true });
      expect(clockLabels(socket).get(image.id)).toBe("2026-11-01T03:00:00Z");

      const sandbox = scratch().sandbox(`again-${uniqueToken()}`);
      const container = scratch().criContainer(
        sandbox,
        `app-${uniqueToken()}`,
        image.name,
        "created",
      );
      const inUse = await agent(client, T0 + 2 * DAY, { include, "unused-for": "1d" });
      expect(inUse.deleted).toEqual([]);
      expect(inUse.unusedFor).toMatchObject({ stopped: 1 });
      expect(clockLabels(socket).has(image.id)).toBe(false);

      crictl(socket, ["rm", container]);
      const later = await agent(client, T0 + 3 * DAY, { include, "unused-for": "1d" });
      // Two days have passed since the first clock, but it was stopped: a new one starts now.
      expect(later.deleted).toEqual([]);
      expect(later.kept.find((k) => k.id === image.id)).toMatchObject({
        reason: "unused-for",
        unusedSince: "2026-11-04T03:00:00.000Z",
      });
      expect(clockLabels(socket).get(image.id)).toBe("2026-11-04T03:00:00Z");
    });
  });

  it("refuses --unused-for with crictl and no ctr (no label store), naming the value, before deleting anything (exit 2)", async () => {
    const scratch = new Scratch(socket);
    try {
      const image = scratch.image(`docker.io/kic-agent-it/nolabels-${uniqueToken()}:1`);
      const { code, stderr } = await agentWithCrictlOnly(
        socket,
        scratch.dir,
        "--unused-for",
        "14d",
        "--include",
        image.name,
      );
      expect(code, stderr).toBe(2);
      expect(stderr).toContain('invalid --unused-for: given "14d"');
      expect(stderr).toMatch(/CRI has no label API.*nothing was deleted/);
      expect(imageRefs(socket)).toContain(image.name);
    } finally {
      scratch.cleanup();
    }
  });
});
