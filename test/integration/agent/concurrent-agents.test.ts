// Two agents on one real containerd at once (two runs, or a run and the kubelet's image GC): an
// image is counted deleted, with its bytes, only by the agent whose own remove call removed it;
// the other lists it as "already gone". Deterministic: the first agent is held (SIGSTOP) inside its
// first removal call while the second one removes everything, then let go.
import { readdirSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { REMOVE_BATCH } from "../../../src/agent/execute.js";
import { parseAgentResult } from "../../../src/agent/report.js";
import type { AgentResult, RuntimeClientName } from "../../../src/run-model/agent-result.js";
import { imageRefs, uniqueToken, type BuiltImage } from "../../support/containerd.js";
import { builtCli, spawnBuiltAgent } from "../../support/agent-cli.js";
import { agentOnRuntime } from "../../support/agent-on-runtime.js";

const rt = agentOnRuntime("containerd-1.6", { setPath: true });
const cli = builtCli();

function argvOf(pid: string): string[] {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0");
  } catch {
    return []; // exited meanwhile
  }
}

/** Stops the first removal call naming one of `images` (and the processes around it); its pids. */
async function holdRemoval(images: BuiltImage[]): Promise<number[]> {
  const until = Date.now() + 120_000;
  while (Date.now() < until) {
    const stopped = readdirSync("/proc")
      .filter((d) => /^\d+$/.test(d))
      .filter((d) => {
        const argv = argvOf(d);
        const removal = argv.includes("rmi") || (argv.includes("images") && argv.includes("rm"));
        return removal && images.some((i) => argv.includes(i.id) || argv.includes(i.name));
      })
      .map(Number)
      .filter((pid) => {
        try {
          process.kill(pid, "SIGSTOP");
          return true;
        } catch {
          return false; // ended before the signal
        }
      });
    if (stopped.length > 0) return stopped;
    await new Promise((r) => setTimeout(r, 5));
  }
  throw new Error("no removal call of the first agent was seen within 2 minutes");
}

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
    const images = Array.from({ length: REMOVE_BATCH + 5 }, (_, i) =>
      scratch().image(`${prefix}/img${String(i).padStart(2, "0")}:1`, { pad: 1024 }),
    );
    const first = agent(client, prefix);
    const held = await holdRemoval(images);
    const second = agent(client, prefix);
    const b = await second.exited;
    for (const pid of held) process.kill(pid, "SIGCONT");
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
