// When a followed agent log holds the agent's complete result (the node then settles without
// waiting for the kubelet to report the container's end): only a whole, valid record line counts.
import { describe, expect, it } from "vitest";
import { agentResultArrived } from "../../../src/controller/agent-log.js";
import { agentResult } from "./fixtures.js";

const record = JSON.stringify({ level: 30, time: 1, msg: "agent result", result: agentResult() });
const before = `${JSON.stringify({ level: 30, time: 1, msg: "inventory", images: 3 })}\n`;

describe("agentResultArrived", () => {
  [
    { what: "an empty log", log: "", arrived: false },
    { what: "records before the result only", log: before, arrived: false },
    {
      what: "the result's line without its newline yet (more of it may come)",
      log: `${before}${record}`,
      arrived: false,
    },
    {
      what: "the result's line cut in the middle",
      log: `${before}${record.slice(0, record.length / 2)}`,
      arrived: false,
    },
    { what: "the whole result line", log: `${before}${record}\n`, arrived: true },
    {
      what: "the whole result line and the start of another",
      log: `${before}${record}\n{"level":30,`,
      arrived: true,
    },
    {
      what: "a line that names the result's message but is no record",
      log: `${before}echo "agent result"\n`,
      arrived: false,
    },
    {
      what: "a result record this controller does not read (another version)",
      log: `${before}${JSON.stringify({ msg: "agent result", result: { version: 2 } })}\n`,
      arrived: false,
    },
  ].forEach((t) => {
    it(`${t.arrived ? "settles" : "keeps following"}: ${t.what}`, () => {
      expect(agentResultArrived(t.log)).toBe(t.arrived);
    });
  });

  it("finds the result in a log that arrived in pieces, once its last piece is there", () => {
    const whole = `${before}${record}\n`;
    const seen: boolean[] = [];
    for (let end = 1; end < whole.length; end += 97)
      seen.push(agentResultArrived(whole.slice(0, end)));
    seen.push(agentResultArrived(whole));
    expect(seen.slice(0, -1).every((s) => !s)).toBe(true);
    expect(seen.at(-1)).toBe(true);
  });
});
