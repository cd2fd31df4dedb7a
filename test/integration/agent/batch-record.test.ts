// Every removal batch is logged at info before and after its call, and the agent starts no batch
// that could not finish before its deadline: against the real containerd with crictl and ctr. The
// clock is the test's (it jumps an hour after the first batch); the runtime and clients are real.
import { pino } from "pino";
import { describe, expect, it } from "vitest";
import { runAgent } from "../../../src/agent/agent.js";
import { REMOVE_BATCH } from "../../../src/agent/execute.js";
import { createHostExec } from "../../../src/agent/host-exec.js";
import { createJsonReporter, parseAgentResult } from "../../../src/agent/report.js";
import type { AgentResult, RuntimeClientName } from "../../../src/run-model/agent-result.js";
import { loadAgentConfig } from "../../../src/config/agent-options.js";
import { partialRecord } from "../../../src/controller/agent-log.js";
import { imageRefs, uniqueToken } from "../../support/containerd.js";
import { builtCli, spawnBuiltAgent } from "../../support/agent-cli.js";
import { agentOnRuntime } from "../../support/agent-on-runtime.js";

const rt = agentOnRuntime("containerd-1.6", { setPath: true });

describe.each(["crictl", "ctr"] as RuntimeClientName[])("removal batches with %s", (client) => {
  const scratch = rt.blockScratch();

  it("logs each batch at info before and after its call, and stops starting batches at the deadline, printing its result", async () => {
    const prefix = `docker.io/kic-agent-it/batch-${client}-${uniqueToken()}`;
    const images = scratch().paddedImages(prefix, REMOVE_BATCH + 5);
    const lines: string[] = [];
    const log = pino({ level: "info", base: undefined }, { write: (l: string) => lines.push(l) });
    let skew = 0;
    const now = () => Date.now() + skew;
    const reporter = createJsonReporter(log);
    const config = loadAgentConfig(
      {
        socket: rt.socket,
        "host-exec": "direct",
        "node-name": "it-node",
        client,
        include: [`${prefix}/**`],
      },
      {},
    );
    const result = await runAgent(config, {
      exec: createHostExec("direct"),
      log,
      now,
      deadlineMs: Date.now() + 10 * 60_000,
      report: {
        ...reporter,
        batch: (record) => {
          reporter.batch(record);
          // After the first batch, the deadline is close: no second batch may start.
          if ("done" in record) skew = 10 * 60_000 - 1000;
        },
      },
    });

    const records = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    const batches = records.filter(
      (r) => r.msg === "removing images" || r.msg === "removed images",
    );
    expect(batches.map((r) => [r.msg, r.level, r.batch])).toEqual([
      ["removing images", 30, 1],
      ["removed images", 30, 1],
    ]);
    const first = batches[0]?.images as { id: string; names: string[] }[];
    expect(first).toHaveLength(REMOVE_BATCH);
    expect(first.every((i) => i.id.startsWith("sha256:") && i.names[0]?.startsWith(prefix))).toBe(
      true,
    );

    // The result is printed, and says what happened.
    expect(result.stopped).toBe("deadline");
    expect(parseAgentResult(lines.join(""))).toEqual(result);
    const deletedIds = result.deleted.map((d) => d.id).sort();
    expect(deletedIds).toEqual(first.map((i) => i.id).sort());
    const notAttempted = result.kept.filter((k) => k.reason === "not-attempted");
    expect(notAttempted).toHaveLength(5);
    expect(notAttempted[0]?.detail).toBe("the agent's --deadline came before its removal batch");
    const refs = imageRefs(rt.socket);
    for (const image of images)
      expect(refs.includes(image.name), image.name).toBe(!deletedIds.includes(image.id));

    // What the controller reads from this log when the result line is missing (agent killed).
    const withoutResult = lines.filter((l) => !l.includes('"agent result"')).join("");
    const partial = partialRecord(withoutResult);
    expect(partial?.deleted.map((d) => d.id).sort()).toEqual(deletedIds);
    expect(partial?.unknown).toEqual([]);
    // Killed during the call: the announced batch is reported as of unknown outcome.
    const killedMidCall = lines.filter((l) => l.includes('"removing images"')).join("");
    expect(
      partialRecord(killedMidCall)
        ?.unknown.map((i) => i.id)
        .sort(),
    ).toEqual(deletedIds);
  });
});

const cli = builtCli();

describe.each(["crictl", "ctr"] as RuntimeClientName[])("agent CLI stopped with %s", (client) => {
  const scratch = rt.blockScratch();

  it("on SIGTERM finishes the batch in flight, starts no other, and prints its result (exit 1)", async () => {
    const prefix = `docker.io/kic-agent-it/sigterm-${client}-${uniqueToken()}`;
    const images = scratch().paddedImages(prefix, 2 * REMOVE_BATCH + 10);
    // The built CLI as the helper pod runs it (vite-node would answer SIGTERM itself).
    const { child, stdout: printed } = spawnBuiltAgent(cli(), rt.socket, client, prefix);
    let signalled = false;
    // Registered after the collector: printed() already holds this chunk.
    child.stdout.on("data", () => {
      // The first batch is done: stop the agent as the kubelet would (pod deleted, node drained).
      if (!signalled && printed().includes('"msg":"removed images"')) {
        signalled = true;
        child.kill("SIGTERM");
      }
    });
    const code = await new Promise<number | null>((resolve) => child.on("exit", resolve));

    expect(signalled).toBe(true);
    expect(code).toBe(1);
    const stdout = printed();
    const result = parseAgentResult(stdout) as AgentResult;
    expect(result.stopped).toBe("signal");
    const notAttempted = result.kept.filter((k) => k.reason === "not-attempted");
    expect(notAttempted.length).toBeGreaterThan(0);
    expect(result.deleted.length + notAttempted.length).toBe(images.length);
    // What is gone is exactly what the result and the batch records say.
    const refs = imageRefs(rt.socket);
    const deletedIds = result.deleted.map((d) => d.id).sort();
    for (const image of images)
      expect(refs.includes(image.name), image.name).toBe(!deletedIds.includes(image.id));
    expect(
      partialRecord(stdout)
        ?.deleted.map((d) => d.id)
        .sort(),
    ).toEqual(deletedIds);
  });
});
