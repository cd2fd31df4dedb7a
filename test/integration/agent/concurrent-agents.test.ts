// Two agents on one real containerd at once (two runs, or a run and the kubelet's image GC): an
// image is counted deleted, with its bytes, only by the agent whose own remove call removed it;
// the other lists it as "already gone". Deterministic: the first agent is held (SIGSTOP) inside its
// first removal call while the second one removes everything, then let go.
import { describe, expect, it } from "vitest";
import { REMOVE_BATCH } from "../../../src/agent/execute.js";
import { parseAgentResult } from "../../../src/agent/report.js";
import type { AgentResult, RuntimeClientName } from "../../../src/run-model/agent-result.js";
import { imageRefs, uniqueToken } from "../../support/containerd.js";
import { builtCli, spawnBuiltAgent } from "../../support/agent-cli.js";
import { holdRemoval, releaseHeld } from "../../support/held-removal.js";
import { agentOnRuntime } from "../../support/agent-on-runtime.js";

const rt = agentOnRuntime("containerd-1.6", { setPath: true });
const cli = builtCli();

function agent(client: RuntimeClientName, prefix: string) {
  const { child, stdout } = spawnBuiltAgent(cli(), rt.socket, client, prefix);
  const exited = new Promise<AgentResult>((resolve) =>
    child.on("exit", () => {
      resolve(parseAgentResult(stdout()) as AgentResult);
    }),
  );
  return { exited, log: stdout };
}

describe.each(["crictl", "ctr"] as RuntimeClientName[])("two agents at once with %s", (client) => {
  const scratch = rt.blockScratch();

  it("counts each image deleted once, by the agent whose call removed it; the other lists it as already gone, without bytes", async () => {
    const prefix = `docker.io/kic-agent-it/twice-${client}-${uniqueToken()}`;
    // Two batches: the second one is all gone by the time the first agent gets to it.
    const images = scratch().paddedImages(prefix, REMOVE_BATCH + 5);
    const first = agent(client, prefix);
    const held = await holdRemoval(images);
    const second = agent(client, prefix);
    const b = await second.exited;
    releaseHeld(held);
    const a = await first.exited;

    // Everything is gone, and no image is claimed by both.
    const refs = imageRefs(rt.socket);
    for (const image of images) expect(refs, image.name).not.toContain(image.name);
    const claimedA = new Set(a.deleted.map((d) => d.id));
    const claimedB = new Set(b.deleted.map((d) => d.id));
    expect([...claimedA].filter((id) => claimedB.has(id))).toEqual([]);
    expect(claimedA.size + claimedB.size).toBeLessThanOrEqual(images.length);
    expect(a.failed).toEqual([]);
    expect(b.failed).toEqual([]);
    // The first agent's second batch was removed by the second agent: already gone, its own line.
    const goneA = a.alreadyGone ?? [];
    expect(goneA.length).toBeGreaterThanOrEqual(5);
    for (const g of goneA) {
      expect(claimedA.has(g.id)).toBe(false);
      expect(g.detail).toMatch(/removed by another process/);
    }
    // Each image is on record with each agent: deleted by it, or already gone for it.
    for (const image of images)
      expect(claimedA.has(image.id) || goneA.some((g) => g.id === image.id), image.name).toBe(true);
    // Bytes only for what each deleted itself.
    const bytes = new Map([...a.deleted, ...b.deleted].map((d) => [d.id, d.bytes]));
    expect(a.bytesReclaimed + b.bytesReclaimed).toBe(
      [...bytes.values()].reduce((sum, n) => sum + n, 0),
    );
    expect(first.log()).toMatch(/"alreadyGone":\[.*"msg":"removed images"/);
  });
});
