// A node a per-node limit cut short: its section says how many images wait for the next run, the
// summary names the node, and the controller reads the agent's `limit` field only when well formed.
import { describe, expect, it } from "vitest";
import { runSummary } from "../support/run-summary.js";
import { checkAgentResult } from "../../../src/controller/agent-log.js";
import { nodeRow, type NodeResult } from "../../../src/run-model/node-result.js";
import type { RunSummary } from "../../../src/run-model/run-summary.js";
import { formatNodeSection, formatSummary, keptText } from "../../../src/report/pretty.js";
import { agentResult, kept } from "../controller/fixtures.js";

const cut: NodeResult = {
  node: "node-a",
  status: "ok",
  result: {
    ...agentResult({
      deleted: [{ id: `sha256:${"a".repeat(64)}`, names: ["docker.io/acme/app:1"], bytes: 1024 }],
      kept: [...kept(3, "limit"), ...kept(2, "newest")],
    }),
    limit: { maxImages: 1, maxBytes: 10 * 1024 ** 3, cut: 3 },
  },
  pod: "kic-r-node-a",
  protectedImages: 0,
  durationMs: 1000,
};
const whole: NodeResult = {
  node: "node-b",
  status: "ok",
  result: agentResult({ kept: kept(1, "newest") }),
  pod: "kic-r-node-b",
  protectedImages: 0,
  durationMs: 1000,
};

describe("a node cut short by a per-node limit", () => {
  it("says so in its section, with the limits and how many images are left", () => {
    const lines = formatNodeSection(cut, 1, 2);
    expect(lines[0]).toContain("kept 5 (limit 3, newest 2)");
    expect(lines).toContain(
      "    note: per-node limit reached (--max-images-per-node 1, --max-bytes-per-node 10.0 GiB): 3 images left for the next run",
    );
    expect(formatNodeSection(whole, 2, 2).join("\n")).not.toContain("limit reached");
  });

  it("is named in the summary, and a node the limit did not reach is not", () => {
    const summary: RunSummary = runSummary({
      nodes: [nodeRow(cut), nodeRow(whole)],
      durationMs: 2000,
      requests: { total: 4, perNode: 2, byCall: {} },
    });
    const lines = formatSummary(summary);
    const at = lines.indexOf(
      "1 node cut short by a per-node limit (the oldest images went first; the next run goes on):",
    );
    expect(at).toBeGreaterThan(0);
    expect(lines[at + 1]).toBe("  node-a: 3 images left (reason limit)");
    expect(lines.join("\n")).not.toContain("node-b: ");
    expect(lines.join("\n")).not.toContain("need attention");
  });

  it("counts kept reasons newest and limit like any other", () => {
    expect(keptText(cut.result ?? agentResult())).toBe("kept 5 (limit 3, newest 2)");
  });

  it("accepts a well-formed limit field and refuses a malformed one", () => {
    expect(checkAgentResult(cut.result)).toBeUndefined();
    expect(checkAgentResult({ ...cut.result, limit: { cut: "3" } })).toBe(
      "limit.cut is not a number",
    );
    expect(checkAgentResult({ ...cut.result, limit: 3 })).toBe("limit is not an object");
    expect(checkAgentResult({ ...agentResult({ kept: kept(1, "newest") }) })).toBeUndefined();
  });
});
