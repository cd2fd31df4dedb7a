// --min-age through crictl (the default client) against the real containerd: CRI has no pull time,
// so the agent reads containerd's content store with ctr, or refuses before deleting anything.
import { describe, expect, it } from "vitest";
import { imageRefs, uniqueToken } from "../../support/containerd.js";
import { agentWithCrictlOnly } from "../../support/agent-cli.js";
import { agentOnRuntime } from "../../support/agent-on-runtime.js";

const rt = agentOnRuntime("containerd-1.6", { setPath: true, defaults: { client: "crictl" } });

describe("--min-age with crictl on containerd", () => {
  it.each(["crictl", "ctr"])(
    "keeps an image imported a moment ago with --min-age 7d (%s)",
    async (client) => {
      const fresh = rt.scratch.image(`docker.io/kic-agent-it/fresh-${uniqueToken()}:1`);

      const result = await rt.agent({ client, include: [fresh.name], "min-age": "7d" });

      expect(result.deleted).toEqual([]);
      expect(result.kept).toMatchObject([{ id: fresh.id, reason: "too-new" }]);
      expect(result.kept[0]?.detail).toMatch(/^recorded \d+s ago, --min-age is 604800s$/);
      expect(result.minAge).toEqual({ seconds: 604_800, supported: true });
      expect(imageRefs(rt.socket)).toContain(fresh.name);
    },
  );

  it("deletes an image older than --min-age (times are read, not everything kept)", async () => {
    const old = rt.scratch.image(`docker.io/kic-agent-it/old-${uniqueToken()}:1`);
    // ctr shows ages in whole seconds, rounded down: 3 s later the image is at least 2 s old.
    await new Promise((r) => setTimeout(r, 3000));

    const result = await rt.agent({ include: [old.name], "min-age": "2s" });

    expect(result.failed).toEqual([]);
    expect(result.deleted.map((d) => d.id)).toEqual([old.id]);
    expect(imageRefs(rt.socket)).not.toContain(old.name);
  });

  it("refuses --min-age when no ctr can read the times, naming the value, before deleting anything (exit 2)", async () => {
    const image = rt.scratch.image(`docker.io/kic-agent-it/noctr-${uniqueToken()}:1`);
    // Without ctr the agent cannot read containerd's content store.
    const args = ["--min-age", "7d", "--include", image.name];
    const { code, stderr } = await agentWithCrictlOnly(rt.socket, rt.scratch.dir, ...args);
    expect(code, stderr).toBe(2);
    expect(stderr).toContain('invalid --min-age: given "7d"; crictl on ');
    expect(stderr).toMatch(/does not tell when an image was pulled.*nothing was deleted/);
    expect(imageRefs(rt.socket)).toContain(image.name);
  });
});
