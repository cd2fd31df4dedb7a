import { pino } from "pino";
import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { createJsonReporter, createPrettyReporter } from "../../../src/agent/report.js";
import { agentErrorFromLog, parseAgentLog } from "../../../src/controller/agent-log.js";
import { agentResult, kept } from "./fixtures.js";

const result = agentResult({
  deleted: [{ id: `sha256:${"d".repeat(64)}`, names: ["docker.io/acme/app:1"], bytes: 1024 }],
  kept: kept(2, "in-use"),
});
const record = JSON.stringify({ level: 30, time: 1, msg: "agent result", result });

/** What the agent's own JSON reporter prints, through a real pino logger. */
function jsonAgentLog(): string {
  let out = "";
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      out += chunk.toString();
      cb();
    },
  });
  const reporter = createJsonReporter(pino({ base: undefined }, sink));
  reporter.warn("something to note");
  reporter.result(result);
  return out;
}

describe("parseAgentLog", () => {
  it("reads the result the agent's JSON reporter prints", () => {
    const parsed = parseAgentLog(jsonAgentLog());
    expect(parsed).toEqual({ ok: true, result });
  });

  it("reads the result the agent's pretty reporter prints", () => {
    const lines: string[] = [];
    createPrettyReporter((l) => lines.push(l)).result(result);
    expect(parseAgentLog(lines.join("\n"))).toEqual({ ok: true, result });
  });

  it("finds a record on the log's first line, with a CRI prefix and later lines after it", () => {
    const text = `2025-01-01T00:00:00.000000000Z stdout F ${record}\n{"level":30,"msg":"bye"}\n`;
    expect(parseAgentLog(text)).toEqual({ ok: true, result });
  });

  it("takes the last result record when there are several", () => {
    const later = agentResult({ node: "node-b" });
    const text = `${record}\n${JSON.stringify({ msg: "agent result", result: later })}\n`;
    const parsed = parseAgentLog(text);
    expect(parsed.ok && parsed.result.node).toBe("node-b");
  });

  it("ignores garbage around the record (runtime noise, binary, other JSON)", () => {
    const text = `\u0000\u00ff garbage\n{"not":"it"}\nplain text mentioning "agent result"\n${record}\n{"level":30,"msg":"bye"}\n`;
    expect(parseAgentLog(text).ok).toBe(true);
  });

  it("says the record was cut short when the log is truncated mid-record", () => {
    const text = `{"level":30,"msg":"inventory"}\n${record.slice(0, record.length / 2)}`;
    expect(parseAgentLog(text)).toEqual({
      ok: false,
      reason: "the agent's result record in the log is cut short (truncated log?)",
    });
  });

  it("reports the agent's last error when the log holds no result", () => {
    const text = `{"level":30,"msg":"connected"}\n{"level":50,"msg":"crictl failed to list the runtime"}\n`;
    expect(parseAgentLog(text)).toEqual({
      ok: false,
      reason: "no agent result; its log ends: crictl failed to list the runtime",
    });
  });

  it("reports the CLI's error line when the agent could not start", () => {
    const text = "error: runtime socket /run/containerd/containerd.sock not found on the node\n";
    const parsed = parseAgentLog(text);
    expect(parsed.ok).toBe(false);
    expect(!parsed.ok && parsed.reason).toMatch(/its log ends: runtime socket .* not found/);
  });

  it("says the log is empty when it is", () => {
    expect(parseAgentLog("")).toEqual({ ok: false, reason: "the log is empty: no agent result" });
  });

  const malformed: [string, unknown, RegExp][] = [
    ["a result that is not an object", "text", /result is not an object/],
    [
      "another contract version",
      { ...result, version: 2 },
      /result version 2, this controller reads version 1/,
    ],
    [
      "counts with a string",
      { ...result, counts: { ...result.counts, deleted: "4" } },
      /counts\.deleted is not a number/,
    ],
    [
      "deleted without bytes",
      { ...result, deleted: [{ id: "sha256:x", names: [] }] },
      /deleted\[0\]\.bytes is not a number/,
    ],
    [
      "an unknown keep reason",
      { ...result, kept: [{ id: "sha256:x", names: [], reason: "lucky" }] },
      /kept\[0\]\.reason "lucky"/,
    ],
    [
      "names that are not a list",
      { ...result, failed: [{ id: "sha256:x", names: "a", error: "e" }] },
      /failed\[0\]\.names is not a list/,
    ],
    ["no durations", { ...result, durationsMs: undefined }, /durationsMs is not an object/],
    [
      "an image filesystem figure that does not say whether it is exact or pending",
      {
        ...result,
        imageFs: {
          source: "crictl imagefsinfo",
          usedBytesBefore: 10,
          usedBytesAfter: 5,
          freedBytes: 5,
          settled: true,
        },
      },
      /imageFs\.state undefined is not "exact" or "pending"/,
    ],
  ];
  for (const [what, value, reason] of malformed) {
    it(`rejects ${what}, naming the field`, () => {
      const parsed = parseAgentLog(JSON.stringify({ msg: "agent result", result: value }));
      expect(parsed.ok).toBe(false);
      expect(!parsed.ok && parsed.reason).toMatch(reason);
    });
  }
});

describe("agentErrorFromLog", () => {
  it("prefers the error's message of a pino error record", () => {
    expect(agentErrorFromLog('{"level":50,"msg":"failed","err":{"message":"boom"}}')).toBe("boom");
  });
  it("falls back to the last line, clipped", () => {
    expect(agentErrorFromLog(`first\n${"x".repeat(400)}\n`)?.length).toBe(300);
  });
});
