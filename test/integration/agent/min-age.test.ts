// --min-age through crictl (the default client) against the real containerd: CRI has no pull time,
// so the agent reads containerd's content store with ctr, or refuses before deleting anything.
import { execFile } from "node:child_process";
import { mkdirSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runAgent } from "../../../src/agent/agent.js";
import { createHostExec } from "../../../src/agent/host-exec.js";
import { createPrettyReporter } from "../../../src/agent/report.js";
import type { AgentResult } from "../../../src/run-model/agent-result.js";
import { loadAgentConfig } from "../../../src/config/agent-options.js";
import {
  binDir,
  imageRefs,
  pathWithBins,
  Scratch,
  startContainerd,
  uniqueToken,
  type StandaloneContainerd,
} from "../../support/containerd.js";

const repoRoot = join(import.meta.dirname, "..", "..", "..");
const run = promisify(execFile);

let containerd: StandaloneContainerd;
let socket = "";
let scratch: Scratch;
beforeAll(async () => {
  containerd = await startContainerd();
  socket = containerd.socket;
  process.env.PATH = pathWithBins;
  scratch = new Scratch(socket);
});
afterAll(() => {
  scratch.cleanup();
  containerd.stop();
});

async function agent(args: Record<string, unknown>): Promise<AgentResult> {
  const config = loadAgentConfig(
    { socket, "host-exec": "direct", "node-name": "it-node", client: "crictl", ...args },
    {},
  );
  return runAgent(config, {
    exec: createHostExec("direct"),
    log: pino({ level: "silent" }),
    report: createPrettyReporter(() => undefined),
  });
}

describe("--min-age with crictl on containerd", () => {
  it.each(["crictl", "ctr"])(
    "keeps an image imported a moment ago with --min-age 7d (%s)",
    async (client) => {
      const fresh = scratch.image(`docker.io/kic-agent-it/fresh-${uniqueToken()}:1`);

      const result = await agent({ client, include: [fresh.name], "min-age": "7d" });

      expect(result.deleted).toEqual([]);
      expect(result.kept).toMatchObject([{ id: fresh.id, reason: "too-new" }]);
      expect(result.kept[0]?.detail).toMatch(/^recorded \d+s ago, --min-age is 604800s$/);
      expect(result.minAge).toEqual({ seconds: 604_800, supported: true });
      expect(imageRefs(socket)).toContain(fresh.name);
    },
  );

  it("deletes an image older than --min-age (times are read, not everything kept)", async () => {
    const old = scratch.image(`docker.io/kic-agent-it/old-${uniqueToken()}:1`);
    // ctr shows ages in whole seconds, rounded down: 3 s later the image is at least 2 s old.
    await new Promise((r) => setTimeout(r, 3000));

    const result = await agent({ include: [old.name], "min-age": "2s" });

    expect(result.failed).toEqual([]);
    expect(result.deleted.map((d) => d.id)).toEqual([old.id]);
    expect(imageRefs(socket)).not.toContain(old.name);
  });

  it("refuses --min-age when no ctr can read the times, naming the value, before deleting anything (exit 2)", async () => {
    const image = scratch.image(`docker.io/kic-agent-it/noctr-${uniqueToken()}:1`);
    // A PATH with node and crictl only: the agent cannot read containerd's content store.
    const bin = join(scratch.dir, `crictl-only-${uniqueToken()}`);
    mkdirSync(bin);
    symlinkSync(process.execPath, join(bin, "node"));
    symlinkSync(join(binDir, "crictl"), join(bin, "crictl"));
    let code = 0;
    let stderr = "";
    try {
      await run(
        join(repoRoot, "node_modules/.bin/vite-node"),
        [
          join(repoRoot, "src/cli.ts"),
          "--",
          "agent",
          "--socket",
          socket,
          "--host-exec",
          "direct",
          "--client",
          "crictl",
          "--min-age",
          "7d",
          "--include",
          image.name,
        ],
        { cwd: repoRoot, env: { ...process.env, PATH: bin, KUBERNETES_SERVICE_HOST: "" } },
      );
    } catch (err) {
      const e = err as { code?: number; stderr?: string };
      code = e.code ?? -1;
      stderr = e.stderr ?? "";
    }
    expect(code, stderr).toBe(2);
    expect(stderr).toContain('invalid --min-age: given "7d"; crictl on ');
    expect(stderr).toMatch(/does not tell when an image was pulled.*nothing was deleted/);
    expect(imageRefs(socket)).toContain(image.name);
  });
});
