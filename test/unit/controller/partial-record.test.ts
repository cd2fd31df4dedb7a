import { describe, expect, it } from "vitest";
import { partialRecord } from "../../../src/controller/agent-log.js";
import { nodeRow, type NodeResult } from "../../../src/run-model/node-result.js";
import { formatNodeSection } from "../../../src/report/pretty.js";
import { nodeRecord } from "../../../src/report/run-reporter.js";

const id = (c: string) => `sha256:${c.repeat(64)}`;
// An agent's JSON log cut off during its second batch (as pino writes the records).
const LOG = [
  '{"level":30,"time":1,"node":"n1","runtime":{},"msg":"connected to runtime"}',
  `{"level":30,"time":2,"batch":1,"images":[{"id":"${id("a")}","names":["docker.io/acme/a:1"]},{"id":"${id("b")}","names":[]}],"msg":"removing images"}`,
  `{"level":30,"time":3,"batch":1,"deleted":[{"id":"${id("a")}","names":["docker.io/acme/a:1"],"bytes":2048}],"failed":[{"id":"${id("b")}","names":[],"error":"still present"}],"msg":"removed images"}`,
  `{"level":30,"time":4,"batch":2,"images":[{"id":"${id("c")}","names":["docker.io/acme/c:1"]}],"msg":"removing images"}`,
  '{"level":30,"time":5,"batch":3,"images":[{"id":"sha256:cut',
].join("\n");

describe("partial record of an agent that did not finish", () => {
  it("reads deleted, failed and under-way images from the batch records", () => {
    expect(partialRecord(LOG)).toEqual({
      deleted: [{ id: id("a"), names: ["docker.io/acme/a:1"], bytes: 2048 }],
      failed: [{ id: id("b"), names: [], error: "still present" }],
      unknown: [{ id: id("c"), names: ["docker.io/acme/c:1"] }],
    });
    expect(partialRecord('{"msg":"inventory"}\nerror: boom')).toBeUndefined();
  });

  it("puts it into the node's section of the run log, the JSON record and the summary row", () => {
    const partial = partialRecord(LOG);
    const node: NodeResult = {
      node: "n1",
      status: "failed",
      reason: "timed out after 10s",
      ...(partial === undefined ? {} : { partial }),
      protectedImages: 0,
      durationMs: 10_000,
    };
    expect(formatNodeSection(node, 1, 1)).toEqual([
      "[1/1] n1: FAILED after 10.0 s: timed out after 10s",
      `    deleted (partial record)  docker.io/acme/a:1  ${"a".repeat(12)}  2.0 KiB`,
      `    FAILED (partial record)  <untagged ${"b".repeat(12)}>  ${"b".repeat(12)}: still present`,
      `    removal under way, outcome unknown (partial record)  docker.io/acme/c:1  ${"c".repeat(12)}`,
    ]);
    expect(nodeRecord(node, 1, 1).partial).toEqual(partial);
    expect(nodeRow(node).totals).toEqual({ deleted: 1, bytesReclaimed: 2048, kept: 0, failed: 1 });
  });
});

describe("images already gone (removed by another process before the agent's call)", () => {
  const gone = {
    id: id("d"),
    names: ["docker.io/acme/d:1"],
    detail:
      "every reference was gone before this agent's ctr images rm (removed by another process)",
  };
  const log = `${LOG.split("\n").slice(0, 3).join("\n")}\n${JSON.stringify({ level: 30, batch: 2, deleted: [], failed: [], alreadyGone: [gone], msg: "removed images" })}\n`;

  it("are read from the batch records as their own outcome, not as deleted", () => {
    const partial = partialRecord(log);
    expect(partial?.alreadyGone).toEqual([gone]);
    expect(partial?.deleted.map((d) => d.id)).toEqual([id("a")]);
  });

  it("get their own line in the node's section and no bytes in the totals", () => {
    const partial = partialRecord(log);
    const node: NodeResult = {
      node: "n1",
      status: "interrupted",
      ...(partial === undefined ? {} : { partial }),
      protectedImages: 0,
      durationMs: 1000,
    };
    expect(formatNodeSection(node, 1, 1)).toContain(
      `    already gone (partial record)  docker.io/acme/d:1  ${"d".repeat(12)}: ${gone.detail}`,
    );
    expect(nodeRow(node).totals).toMatchObject({ deleted: 1, bytesReclaimed: 2048 });
  });
});
