import { describe, expect, it } from "vitest";
import type { NodeResult } from "../../../src/run-model/node-result.js";
import { nodeEvent, nodeEventNote, NOTE_MAX } from "../../../src/report/node-event.js";
import { agentResult, kept } from "../controller/fixtures.js";

const now = new Date("2026-12-01T03:00:00.000Z");
const ok: NodeResult = {
  node: "node-a",
  status: "ok",
  protectedImages: 2,
  durationMs: 4100,
  result: agentResult({
    deleted: [
      { id: "sha256:a", names: ["docker.io/acme/app:1"], bytes: 1024 ** 3 },
      { id: "sha256:b", names: ["docker.io/acme/app:2"], bytes: 1024 ** 2 },
    ],
    kept: [...kept(2, "in-use"), ...kept(5, "no-match")],
  }),
};

describe("Event about a Node", () => {
  it("records ImagesCleaned (Normal) about the Node, in namespace default, with counts and bytes", () => {
    const e = nodeEvent({ result: ok, runId: "r1", instance: "kic", now });
    expect(e.metadata.namespace).toBe("default");
    expect(e.involvedObject).toEqual({
      apiVersion: "v1",
      kind: "Node",
      name: "node-a",
      uid: "node-a",
    });
    expect(e.reason).toBe("ImagesCleaned");
    expect(e.type).toBe("Normal");
    expect(e.message).toBe("deleted 2 images (1.0 GiB), kept 2, 0 failed; run r1, 4.1 s");
    expect(e.source?.component).toBe("kube-image-cleanup");
    expect(e.metadata.labels?.["app.kubernetes.io/instance"]).toBe("kic");
  });

  it("records ImageCleanupFailed (Warning) with the reason, and what a partial record says was deleted", () => {
    const failed: NodeResult = {
      node: "node-b",
      status: "failed",
      reason: "helper pod OOMKilled",
      protectedImages: 0,
      durationMs: 90_000,
      partial: {
        deleted: [{ id: "sha256:c", names: ["x"], bytes: 2048 }],
        failed: [],
        unknown: [],
      },
    };
    const e = nodeEvent({ result: failed, runId: "r1", instance: "kic", now });
    expect(e.reason).toBe("ImageCleanupFailed");
    expect(e.type).toBe("Warning");
    expect(e.message).toBe(
      "failed: helper pod OOMKilled; deleted 1 image (2.0 KiB) (partial record), kept 0, 0 failed; run r1, 1m 30s",
    );
  });

  it("says a dry run deleted nothing", () => {
    const dry = { ...ok, result: { ...agentResult(ok.result), dryRun: true } };
    expect(nodeEventNote(dry, "r1")).toMatch(/^dry run, would delete 2 images/);
  });

  it("keeps a note on one line and within the Event API's 1024 characters, whatever the reason holds", () => {
    const bad: NodeResult = {
      node: "node-c",
      status: "failed",
      reason: `evil\nImagesCleaned: all fine\u001b[2J${"x".repeat(5000)}`,
      protectedImages: 0,
      durationMs: 1,
    };
    const note = nodeEventNote(bad, "r1");
    expect(note.length).toBeLessThanOrEqual(NOTE_MAX);
    expect(note.includes("\n") || note.includes("\u001b")).toBe(false);
    expect(note).toContain("evil\\nImagesCleaned");
  });
});
