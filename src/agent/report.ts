// What the agent prints while it works: readable lines (pretty) or pino records (json). Both end
// with the one structured result record the controller parses from the pod log.
import type { Logger } from "../log.js";
import { bytesLine } from "../run-model/bytes-line.js";
import { escapeControl } from "../text/escape.js";
import { formatBytes, plural } from "../text/units.js";
import type { Inventory } from "./inventory.js";
import type { Plan } from "./plan.js";
import {
  AGENT_RESULT_MSG,
  BATCH_DONE_MSG,
  BATCH_START_MSG,
  type AgentResult,
  type BatchDone,
  type BatchStart,
  type KeptImage,
} from "../run-model/agent-result.js";

export interface AgentReporter {
  connected(node: string, runtime: AgentResult["runtime"]): void;
  inventory(inventory: Inventory, ms: number): void;
  plan(plan: Plan, images: number, dryRun: boolean, ms: number): void;
  warn(message: string): void;
  /** A removal batch: before its call, and after it with what is verifiably gone. */
  batch(record: { start: BatchStart } | { done: BatchDone }): void;
  result(result: AgentResult): void;
}

const shortId = (id: string) => id.replace(/^sha256:/, "").slice(0, 12);
const label = (i: { id: string; names: string[] }) => i.names[0] ?? `<untagged ${shortId(i.id)}>`;

/** The result record as one line, the same shape in both formats. */
export function resultLine(result: AgentResult): string {
  return JSON.stringify({ msg: AGENT_RESULT_MSG, result });
}

/** ` into pid 2051 (containerd, owns /run/containerd/containerd.sock)`: which process nsenter entered. */
function targetText(t: AgentResult["runtime"]["nsenterTarget"]): string {
  if (t === undefined) return "";
  const what = [t.comm, t.socket === undefined ? undefined : `owns ${t.socket}`].filter(Boolean);
  return ` into pid ${String(t.pid)} (${what.length > 0 ? what.join(", ") : "the node's init"})`;
}

export function createPrettyReporter(print: (line: string) => void): AgentReporter {
  // Image names, details and errors come from the runtime and from pod authors: one line each.
  const write = (line: string) => {
    print(escapeControl(line));
  };
  const keptLine = (k: KeptImage) =>
    `  keep    ${label(k)}  ${k.reason}${k.detail ? `: ${k.detail}` : ""}`;
  return {
    connected: (node, r) => {
      write(
        `node ${node}: ${r.name ?? "runtime"} ${r.version ?? ""} via ${r.client}, socket ${r.socket}, host-exec ${r.hostExec}${targetText(r.nsenterTarget)}`.replace(
          /\s+/g,
          " ",
        ),
      );
    },
    inventory: (inv, ms) => {
      write(
        `inventory: ${plural(inv.images.length, "image")}, ${plural(inv.containers.length, "container")}, ` +
          `${plural(inv.sandboxes.length, "sandbox", "sandboxes")}${inv.configuredSandboxImage ? `, sandbox image ${inv.configuredSandboxImage}` : ""} (${ms} ms)`,
      );
    },
    plan: (plan, images, dryRun, ms) => {
      write(
        `plan: ${plan.matched} of ${plural(images, "image")} match; ${plan.delete.length} to delete` +
          `${dryRun ? " (dry run: nothing is deleted)" : ""} (${ms} ms)`,
      );
      for (const k of plan.kept) if (k.reason !== "no-match") write(keptLine(k));
      for (const d of plan.delete)
        write(
          `  delete  ${label(d)}  ${shortId(d.id)}${d.names.length > 1 ? ` (+${d.names.length - 1} names)` : ""}`,
        );
    },
    warn: (message) => {
      write(`warning: ${message}`);
    },
    batch: (record) => {
      if ("start" in record) {
        const { batch, images } = record.start;
        write(
          `removing batch ${String(batch)}: ${images.map((i) => `${label(i)} ${shortId(i.id)}`).join(", ")}`,
        );
      } else {
        const { batch, deleted, failed, alreadyGone = [] } = record.done;
        write(
          `removed batch ${String(batch)}: ${String(deleted.length)} deleted${deleted.length > 0 ? ` (${deleted.map((d) => `${label(d)} ${shortId(d.id)}`).join(", ")})` : ""}, ${String(failed.length)} failed` +
            (alreadyGone.length > 0
              ? `, ${String(alreadyGone.length)} already gone (${alreadyGone.map((g) => `${label(g)} ${shortId(g.id)}`).join(", ")})`
              : ""),
        );
      }
    },
    result: (r) => {
      for (const k of r.kept)
        if (k.detail?.endsWith("(appeared during the run)")) write(keptLine(k));
      for (const d of r.deleted)
        write(
          `${r.dryRun ? "would delete" : "deleted"} ${label(d)} ${shortId(d.id)} (${formatBytes(d.bytes)})`,
        );
      for (const f of r.failed) write(`FAILED  ${label(f)} ${shortId(f.id)}: ${f.error}`);
      for (const g of r.alreadyGone ?? [])
        write(`already gone ${label(g)} ${shortId(g.id)}: ${g.detail}`);
      if (r.imageFs !== undefined) write(bytesLine(r));
      const noMatch = r.counts.images - r.counts.matched;
      write(
        `${r.dryRun ? "dry run done" : "done"}: ${r.counts.deleted} ${r.dryRun ? "would be deleted" : "deleted"}, ` +
          `${r.counts.kept} kept (${noMatch} not matching), ${r.counts.failed} failed, ` +
          `${formatBytes(r.bytesReclaimed)} ${r.dryRun ? "to reclaim" : "reclaimed"}; ` +
          `inventory ${r.durationsMs.inventory} ms, plan ${r.durationsMs.plan} ms, execute ${r.durationsMs.execute} ms, total ${r.durationsMs.total} ms` +
          (r.durationsMs.start === undefined
            ? ""
            : ` (after ${r.durationsMs.start} ms starting: Node.js, loading, arguments)`),
      );
      write(resultLine(r));
    },
  };
}

export function createJsonReporter(log: Logger): AgentReporter {
  return {
    connected: (node, runtime) => {
      log.info({ node, runtime }, "connected to runtime");
    },
    inventory: (inv, ms) => {
      log.info(
        {
          images: inv.images.length,
          containers: inv.containers.length,
          sandboxes: inv.sandboxes.length,
          sandboxImage: inv.configuredSandboxImage,
          ms,
        },
        "inventory",
      );
    },
    plan: (plan, images, dryRun, ms) => {
      log.info({ images, matched: plan.matched, toDelete: plan.delete.length, dryRun, ms }, "plan");
      for (const k of plan.kept)
        if (k.reason !== "no-match")
          log.info({ image: label(k), id: k.id, reason: k.reason, detail: k.detail }, "keep");
    },
    warn: (message) => {
      log.warn(message);
    },
    batch: (record) => {
      // At info, with ids and names: the record an agent killed half-way leaves behind.
      if ("start" in record) log.info(record.start, BATCH_START_MSG);
      else log.info(record.done, BATCH_DONE_MSG);
    },
    result: (result) => {
      for (const f of result.failed)
        log.error({ image: label(f), id: f.id, error: f.error }, "delete failed");
      log.info({ result }, AGENT_RESULT_MSG);
    },
  };
}

/**
 * Finds the result record in an agent's log (either format): the last line that parses as
 * `{"msg":"agent result","result":{...}}`. For the controller, which reads it from the pod log.
 */
export function parseAgentResult(log: string): AgentResult | undefined {
  const lines = log.split("\n");
  for (let i = lines.length - 1; i >= 0; i--) {
    const line = lines[i]?.trim() ?? "";
    if (!line.startsWith("{") || !line.includes(AGENT_RESULT_MSG)) continue;
    try {
      const record = JSON.parse(line) as { msg?: unknown; result?: unknown };
      if (
        record.msg === AGENT_RESULT_MSG &&
        typeof record.result === "object" &&
        record.result !== null
      ) {
        return record.result as AgentResult;
      }
    } catch {
      // A line that merely looks like JSON (e.g. a container's own output): keep looking.
      continue;
    }
  }
  return undefined;
}
