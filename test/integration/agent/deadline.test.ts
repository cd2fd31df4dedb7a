// The agent's deadline is a time, counted from the helper pod's creation like the pod's
// activeDeadlineSeconds and the controller's node timeout: a helper that starts late (its image
// pulled slowly, a busy kubelet) has less time, not the same time shifted past the moment the
// kubelet kills it. The built CLI against a real containerd, with the --deadline the controller
// computes for a pod "created" earlier (the test's clock: no waiting), killed (SIGKILL) at the pod's
// activeDeadlineSeconds as the kubelet would.
import { describe, expect, it } from "vitest";
import { REMOVE_BATCH } from "../../../src/agent/execute.js";
import { parseAgentResult } from "../../../src/agent/report.js";
import { agentDeadline } from "../../../src/controller/helper-pod.js";
import type { AgentResult } from "../../../src/run-model/agent-result.js";
import { imageRefs, uniqueToken } from "../../support/containerd.js";
import { builtCli, spawnBuiltAgent } from "../../support/agent-cli.js";
import { agentOnRuntime } from "../../support/agent-on-runtime.js";

/** The run's --node-timeout, which is also the pod's activeDeadlineSeconds: 60 s, a 12 s reserve. */
const NODE_TIMEOUT_S = 60;

const rt = agentOnRuntime("containerd-1.6", { setPath: true });
const cli = builtCli();

interface Ended {
  /** Exit code; null when killed at the pod's deadline. */
  code: number | null;
  killed: boolean;
  stdout: string;
  records: Record<string, unknown>[];
}

/** Runs the agent now for a pod created `startedLateMs` ago; kills it at the pod's deadline. */
async function runLate(prefix: string, createdAt: number): Promise<Ended> {
  const { child, stdout: printed } = spawnBuiltAgent(
    cli(),
    rt.socket,
    "ctr",
    prefix,
    `--deadline=${agentDeadline(createdAt, NODE_TIMEOUT_S)}`,
  );
  let killed = false;
  const kill = setTimeout(
    () => {
      killed = true;
      child.kill("SIGKILL");
    },
    createdAt + NODE_TIMEOUT_S * 1000 - Date.now(),
  );
  const code = await new Promise<number | null>((resolve) => child.on("exit", resolve));
  clearTimeout(kill);
  const stdout = printed();
  const records = stdout
    .split("\n")
    .filter((l) => l.startsWith("{"))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  return { code, killed, stdout, records };
}

describe("the agent's deadline counts from the helper pod's creation", () => {
  it("a helper that starts after its deadline (a slow start used it up) deletes nothing and ends before the kubelet kills it", async () => {
    const prefix = `docker.io/kic-agent-it/late-${uniqueToken()}`;
    const images = rt.scratch.paddedImages(prefix, REMOVE_BATCH + 5);
    // Created 49 s ago: its deadline (48 s after creation) has passed, 11 s are left until the
    // kubelet ends the pod. With a deadline counted from its own start it would delete for 48 s.
    const createdAt = Date.now() - 49_000;
    const ended = await runLate(prefix, createdAt);

    expect(ended.killed, ended.stdout.slice(-2000)).toBe(false);
    expect(ended.code).toBe(1);
    const result = parseAgentResult(ended.stdout) as AgentResult;
    expect(result.stopped).toBe("deadline");
    expect(result.deleted).toEqual([]);
    expect(result.kept.filter((k) => k.reason === "not-attempted")).toHaveLength(images.length);
    expect(ended.records.some((r) => r.msg === "removing images")).toBe(false);
    expect(ended.stdout).toMatch(/after its deadline .* the helper pod started slowly/);
    const refs = imageRefs(rt.socket);
    for (const image of images) expect(refs, image.name).toContain(image.name);
  });

  it("a helper that starts late deletes only until its deadline, and its result is out before the kubelet kills it", async () => {
    const prefix = `docker.io/kic-agent-it/slow-${uniqueToken()}`;
    const images = rt.scratch.paddedImages(prefix, 2 * REMOVE_BATCH + 5);
    // 40 s of the 60 went to the start: 8 s left to the deadline, 20 s to the kill.
    const createdAt = Date.now() - 40_000;
    const deadline = Date.parse(agentDeadline(createdAt, NODE_TIMEOUT_S));
    const ended = await runLate(prefix, createdAt);

    expect(ended.killed, ended.stdout.slice(-2000)).toBe(false);
    const result = parseAgentResult(ended.stdout) as AgentResult;
    // Every batch started before the deadline, and the result came out by it (pino's `time`).
    const starts = ended.records.filter((r) => r.msg === "removing images");
    for (const s of starts) expect(s.time as number).toBeLessThan(deadline);
    const printed = ended.records.find((r) => r.msg === "agent result");
    expect(printed?.time as number).toBeLessThan(createdAt + NODE_TIMEOUT_S * 1000);
    // Whatever the machine's speed: each planned image was deleted or not attempted, none lost.
    const notAttempted = result.kept.filter((k) => k.reason === "not-attempted");
    expect(result.deleted.length + notAttempted.length).toBe(images.length);
    const refs = imageRefs(rt.socket);
    const deletedIds = new Set(result.deleted.map((d) => d.id));
    for (const image of images)
      expect(refs.includes(image.name), image.name).toBe(!deletedIds.has(image.id));
  });
});
