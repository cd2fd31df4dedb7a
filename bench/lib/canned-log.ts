// The helper pod log kwok serves for every fake node: what the real agent prints with
// --log-format json for a node of a given size (its own reporter, its own plan over a synthetic
// inventory), written in the CRI log format containerd uses, long lines split into 16 KiB partial
// records as containerd does (max_container_log_line_size), so `kubectl logs` reassembles them.
import { Writable } from "node:stream";
import { pino } from "pino";
import { planDeletions } from "../../src/agent/plan.js";
import { createJsonReporter } from "../../src/agent/report.js";
import type { AgentResult } from "../../src/run-model/agent-result.js";
import { compilePatterns } from "../../src/config/patterns.js";
import { syntheticInventory } from "./synthetic-inventory.js";

const CRI_LINE_MAX = 16 * 1024;

export interface CannedLog {
  text: string;
  bytes: number;
  resultBytes: number;
  images: number;
  deleted: number;
  kept: number;
}

/**
 * A node with `images` images; include pattern chosen so about 5% are deleted. `kept: "matched"`
 * lists only kept images an --include matched (the rest are only counted): a compact result.
 */
export function cannedAgentLog(images: number, kept: "all" | "matched" = "all"): CannedLog {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(...chunk.toString("utf8").split("\n").filter(Boolean));
      done();
    },
  });
  const log = pino({ base: undefined }, sink);
  const report = createJsonReporter(log);
  const { inventory, protect } = syntheticInventory({
    images,
    containers: Math.round(images / 5),
    sandboxes: Math.round(images / 25),
    protect: 30,
  });
  const plan = planDeletions(inventory, {
    include: compilePatterns("--include", ["registry.example.com/**/app-1*"], "include"),
    exclude: [],
    protect,
    nowMs: Date.now(),
  });
  const runtime: AgentResult["runtime"] = {
    client: "crictl",
    socket: "/run/containerd/containerd.sock",
    hostExec: "nsenter",
    name: "containerd",
    version: "v1.7.0",
  };
  report.connected("kwok-fake-node", runtime);
  report.inventory(inventory, 420);
  report.plan(plan, inventory.images.length, false, 12);
  const deleted = plan.delete.map((i) => ({ id: i.id, names: i.names, bytes: i.sizeBytes }));
  const result: AgentResult = {
    version: 1,
    // One canned log serves every fake node: the controller warns once per node that the name
    // differs, which is part of what is measured (one log line per node).
    node: "kwok-fake-node",
    runtime,
    dryRun: false,
    counts: {
      images: inventory.images.length,
      matched: plan.matched,
      deleted: deleted.length,
      kept: plan.kept.length,
      failed: 0,
    },
    deleted,
    kept: kept === "all" ? plan.kept : plan.kept.filter((k) => k.reason !== "no-match"),
    failed: [],
    bytesReclaimed: deleted.reduce((s, d) => s + d.bytes, 0),
    durationsMs: { inventory: 420, plan: 12, execute: 2100, total: 2532 },
  };
  report.result(result);
  sink.end();
  const resultBytes = lines[lines.length - 1]?.length ?? 0;
  const stamp = new Date().toISOString().replace(/\.\d+Z$/, ".000000000Z");
  const cri: string[] = [];
  for (const line of lines) {
    for (let at = 0; at < line.length; at += CRI_LINE_MAX) {
      const last = at + CRI_LINE_MAX >= line.length;
      cri.push(`${stamp} stdout ${last ? "F" : "P"} ${line.slice(at, at + CRI_LINE_MAX)}`);
    }
  }
  const text = `${cri.join("\n")}\n`;
  return {
    text,
    bytes: Buffer.byteLength(text),
    resultBytes,
    images: inventory.images.length,
    deleted: deleted.length,
    kept: plan.kept.length,
  };
}
