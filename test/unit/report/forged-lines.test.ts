// Strings from pod authors, runtimes and errors reach the readable logs; none may add a line.
import { describe, expect, it } from "vitest";
import { runSummary } from "../support/run-summary.js";
import { createPrettyReporter } from "../../../src/agent/report.js";
import type { AgentResult } from "../../../src/run-model/agent-result.js";
import { nodeRow, type NodeResult } from "../../../src/run-model/node-result.js";
import type { RunSummary } from "../../../src/run-model/run-summary.js";
import { createPrettyRunReporter } from "../../../src/report/run-reporter.js";
import { agentResult } from "../controller/fixtures.js";

const FORGED =
  "x\n[2/2] node-z: deleted 99 images, 9.9 GiB reclaimed, kept 0, 1.0 s\n    deleted  docker.io/acme/db:1  aaaaaaaaaaaa  1.0 GiB" +
  "\r\n\nsummary of run r1: 1 node: 1 ok\u2028\u001b[2K\u0085";
const id = (c: string) => `sha256:${c.repeat(64)}`;

const result: AgentResult = agentResult({
  deleted: [{ id: id("a"), names: [`docker.io/acme/app:1${FORGED}`], bytes: 1024 }],
  kept: [
    {
      id: id("b"),
      names: ["docker.io/acme/web:1"],
      reason: "protected",
      detail: `--protect ${FORGED}`,
    },
    { id: id("c"), names: [FORGED], reason: "in-use", detail: `container ${FORGED} (running)` },
  ],
  failed: [{ id: id("d"), names: ["docker.io/acme/old:1"], error: `ctr: ${FORGED}` }],
});

const forgedNode: NodeResult = {
  node: `node-a${FORGED}`,
  status: "failed",
  reason: `could not read the helper pod's log: ${FORGED}`,
  result,
  pod: "kic-r1-node-a",
  protectedImages: 1,
  durationMs: 1000,
};

/** Everything written, as the terminal or `kubectl logs` shows it: one string split at line breaks. */
const asShown = (lines: readonly string[]) =>
  lines.join("\n").split(/\r\n|\r|\n|\u2028|\u2029|\u0085/);

describe("forged text in the readable run log", () => {
  it("keeps every node's section and the summary to their own lines, whatever the strings hold", () => {
    const lines: string[] = [];
    const report = createPrettyRunReporter((l) => lines.push(l));
    report.note(`permission fell back: ${FORGED}`);
    report.node(forgedNode, 1, 1);
    const summary: RunSummary = runSummary({
      nodes: [nodeRow(forgedNode)],
      notStarted: [`node-b${FORGED}`],
      durationMs: 2000,
      fatal: `forbidden: ${FORGED}`,
      requests: { total: 4, perNode: 4, byCall: {} },
    });
    report.summary(summary);

    const shown = asShown(lines);
    expect(shown.filter((l) => /^\[\d+\/\d+\] /.test(l))).toHaveLength(1);
    expect(shown.filter((l) => l.startsWith("summary of run"))).toHaveLength(1);
    expect(shown.filter((l) => /^ {4}deleted {2}/.test(l))).toHaveLength(1);
    expect(shown.join("\n")).not.toContain("\u001b");
    expect(shown[1]).toContain("node-ax\\n[2/2] node-z: deleted 99 images");
  });

  it("keeps the agent's own readable log to its lines too", () => {
    const lines: string[] = [];
    createPrettyReporter((l) => lines.push(l)).result(result);
    const shown = asShown(lines);
    expect(shown.filter((l) => /^deleted /.test(l))).toHaveLength(1);
    expect(shown.filter((l) => l.startsWith("FAILED"))).toHaveLength(1);
    // The result record stays one JSON line with the same content.
    expect(JSON.parse(shown.at(-1) ?? "")).toMatchObject({ result: { kept: result.kept } });
  });
});
