import { describe, expect, it } from "vitest";
import { createPrettyReporter, parseAgentResult, resultLine } from "../../../src/agent/report.js";
import { formatBytes } from "../../../src/text/units.js";
import type { AgentResult } from "../../../src/run-model/agent-result.js";

const result: AgentResult = {
  version: 1,
  node: "n1",
  runtime: {
    client: "crictl",
    socket: "/run/containerd/containerd.sock",
    hostExec: "nsenter",
    name: "containerd",
    version: "1.7.0",
  },
  dryRun: false,
  counts: { images: 3, matched: 2, deleted: 1, kept: 2, failed: 0 },
  deleted: [{ id: `sha256:${"a".repeat(64)}`, names: ["docker.io/acme/app:1"], bytes: 2048 }],
  kept: [
    {
      id: `sha256:${"b".repeat(64)}`,
      names: ["docker.io/acme/web:1"],
      reason: "in-use",
      detail: "container web (running)",
    },
    { id: `sha256:${"c".repeat(64)}`, names: [], reason: "no-match" },
  ],
  failed: [],
  bytesReclaimed: 2048,
  durationsMs: { inventory: 10, plan: 1, execute: 20, total: 31 },
};

describe("agent result record", () => {
  it("is found as the last record in a pretty log", () => {
    const lines: string[] = [];
    createPrettyReporter((l) => lines.push(l)).result(result);
    expect(lines.at(-2)).toBe(
      "done: 1 deleted, 2 kept (1 not matching), 0 failed, 2.0 KiB reclaimed; inventory 10 ms, plan 1 ms, execute 20 ms, total 31 ms",
    );
    expect(parseAgentResult(["node n1: ...", "{not json", ...lines, ""].join("\n"))).toEqual(
      result,
    );
  });
  it("is found in pino JSON lines", () => {
    const log = [
      `{"level":30,"msg":"plan"}`,
      `{"level":30,"time":1,"result":${JSON.stringify(result)},"msg":"agent result"}`,
    ].join("\n");
    expect(parseAgentResult(log)).toEqual(result);
  });
  it("is missing when the agent died early", () => {
    expect(parseAgentResult("error: no runtime socket found\n")).toBeUndefined();
  });
  it("prints on one line", () => {
    expect(resultLine(result)).not.toContain("\n");
  });
  it("formats sizes", () => {
    expect([
      formatBytes(0),
      formatBytes(1023),
      formatBytes(1536),
      formatBytes(5 * 1024 ** 3),
    ]).toEqual(["0 B", "1023 B", "1.5 KiB", "5.0 GiB"]);
  });
});
