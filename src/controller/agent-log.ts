// Reads a helper pod's log: the agent's structured result (its last `agent result` record), or, when
// there is none, the best explanation the log holds. Pod logs can be cut (kubelet log rotation, a
// killed container) or hold anything (a wrong image), so every field is checked before it is trusted.
import {
  AGENT_RESULT_MSG,
  BATCH_DONE_MSG,
  BATCH_START_MSG,
  type AgentResult,
  type DeletedImage,
  type FailedImage,
  type GoneImage,
  type ImageIdentity,
} from "../run-model/agent-result.js";
import type { KeepReason } from "../run-model/keep-reason.js";
import type { PartialRecord } from "../run-model/node-result.js";
import {
  isObject,
  lastRecord,
  noRecordReason,
  recordArrived,
  type ParsedLog,
} from "./log-record.js";

export { agentErrorFromLog } from "./log-record.js";

export type ParsedAgentLog = ParsedLog<AgentResult>;

const KEEP_REASONS: readonly KeepReason[] = [
  "in-use",
  "sandbox",
  "pinned",
  "protected",
  "excluded",
  "no-match",
  "too-new",
  "unused-for",
  "not-pullable",
  "newest",
  "limit",
  "not-attempted",
];

type Check = (value: unknown, path: string) => string | undefined;

const num: Check = (v, p) =>
  typeof v === "number" && Number.isFinite(v) && v >= 0 ? undefined : `${p} is not a number`;
const str: Check = (v, p) => (typeof v === "string" ? undefined : `${p} is not text`);
const bool: Check = (v, p) => (typeof v === "boolean" ? undefined : `${p} is not true/false`);

function image(extra: (o: Record<string, unknown>, p: string) => string | undefined): Check {
  return (v, p) => {
    if (!isObject(v)) return `${p} is not an object`;
    return (
      str(v.id, `${p}.id`) ??
      (Array.isArray(v.names) && v.names.every((n) => typeof n === "string")
        ? undefined
        : `${p}.names is not a list of text`) ??
      extra(v, p)
    );
  };
}

function list(item: Check): Check {
  return (v, p) => {
    if (!Array.isArray(v)) return `${p} is not a list`;
    for (let i = 0; i < v.length; i++) {
      const bad = item(v[i], `${p}[${i}]`);
      if (bad !== undefined) return bad;
    }
    return undefined;
  };
}

const identity = image(() => undefined);
const deleted = image((o, p) => num(o.bytes, `${p}.bytes`));
const kept = image((o, p) =>
  KEEP_REASONS.includes(o.reason as KeepReason)
    ? undefined
    : `${p}.reason ${JSON.stringify(o.reason)} is not a known reason`,
);
const failed = image((o, p) => str(o.error, `${p}.error`));
const gone = image((o, p) => str(o.detail, `${p}.detail`));

const finite: Check = (v, p) =>
  typeof v === "number" && Number.isFinite(v) ? undefined : `${p} is not a number`;
const imageFs: Check = (v) =>
  isObject(v)
    ? (str(v.source, "imageFs.source") ??
      num(v.usedBytesBefore, "imageFs.usedBytesBefore") ??
      num(v.usedBytesAfter, "imageFs.usedBytesAfter") ??
      // Negative when something was pulled meanwhile.
      finite(v.freedBytes, "imageFs.freedBytes") ??
      (v.state === "exact" || v.state === "pending"
        ? undefined
        : `imageFs.state ${JSON.stringify(v.state)} is not "exact" or "pending"`) ??
      (v.pendingReason === undefined ? undefined : str(v.pendingReason, "imageFs.pendingReason")))
    : "imageFs is not an object";

const limit: Check = (v) =>
  isObject(v)
    ? (num(v.cut, "limit.cut") ??
      (v.maxImages === undefined ? undefined : num(v.maxImages, "limit.maxImages")) ??
      (v.maxBytes === undefined ? undefined : num(v.maxBytes, "limit.maxBytes")))
    : "limit is not an object";

/** Why `value` is not an AgentResult (version 1), or undefined when it is one. */
export function checkAgentResult(value: unknown): string | undefined {
  if (!isObject(value)) return "result is not an object";
  if (value.version !== 1) {
    return `result version ${JSON.stringify(value.version)}, this controller reads version 1 (helper image and controller from different releases?)`;
  }
  const counts = value.counts;
  const durations = value.durationsMs;
  return (
    str(value.node, "node") ??
    bool(value.dryRun, "dryRun") ??
    (isObject(value.runtime)
      ? str(value.runtime.client, "runtime.client")
      : "runtime is not an object") ??
    (isObject(counts)
      ? (["images", "matched", "deleted", "kept", "failed"] as const)
          .map((k) => num(counts[k], `counts.${k}`))
          .find(Boolean)
      : "counts is not an object") ??
    list(deleted)(value.deleted, "deleted") ??
    list(kept)(value.kept, "kept") ??
    list(failed)(value.failed, "failed") ??
    (value.alreadyGone === undefined ? undefined : list(gone)(value.alreadyGone, "alreadyGone")) ??
    num(value.bytesReclaimed, "bytesReclaimed") ??
    (value.imageFs === undefined ? undefined : imageFs(value.imageFs, "imageFs")) ??
    (value.limit === undefined ? undefined : limit(value.limit, "limit")) ??
    (value.arrivedPods === undefined
      ? undefined
      : Array.isArray(value.arrivedPods) && value.arrivedPods.every((p) => typeof p === "string")
        ? undefined
        : "arrivedPods is not a list of text") ??
    (isObject(durations)
      ? num(durations.total, "durationsMs.total")
      : "durationsMs is not an object")
  );
}

/** The last `agent result` record of the log, checked; else why there is none. */
export function parseAgentLog(log: string): ParsedAgentLog {
  const found = lastRecord(log, AGENT_RESULT_MSG, checkAgentResult);
  if (found.ok) return { ok: true, result: found.result as AgentResult };
  if (found.bad !== undefined)
    return { ok: false, reason: `the agent's result record is malformed: ${found.bad}` };
  if (found.cut)
    return {
      ok: false,
      reason: "the agent's result record in the log is cut short (truncated log?)",
    };
  return { ok: false, reason: noRecordReason(log, "agent result") };
}

/**
 * Whether the agent's result has arrived whole in a log still being followed: the agent's own
 * verdict, printed last (its exit code after it says nothing the result does not: non-zero exactly
 * when the result lists failures or a stop).
 */
export const agentResultArrived = (log: string): boolean =>
  recordArrived(log, AGENT_RESULT_MSG, checkAgentResult);

/** The batch records in an agent's (JSON) log; undefined when it holds none. */
export function partialRecord(log: string): PartialRecord | undefined {
  const started = new Map<number, ImageIdentity[]>();
  const out: PartialRecord = { deleted: [], failed: [], unknown: [] };
  let seen = false;
  for (const raw of log.split("\n")) {
    const line = raw.trim();
    if (!line.startsWith("{") || !(line.includes(BATCH_START_MSG) || line.includes(BATCH_DONE_MSG)))
      continue;
    let record: unknown;
    try {
      record = JSON.parse(line);
    } catch {
      // The last line of a killed agent may be cut short: what it held was not recorded.
      continue;
    }
    if (!isObject(record) || typeof record.batch !== "number") continue;
    if (record.msg === BATCH_START_MSG && list(identity)(record.images, "images") === undefined) {
      seen = true;
      started.set(record.batch, record.images as ImageIdentity[]);
    } else if (
      record.msg === BATCH_DONE_MSG &&
      list(deleted)(record.deleted, "deleted") === undefined &&
      list(failed)(record.failed, "failed") === undefined &&
      (record.alreadyGone === undefined ||
        list(gone)(record.alreadyGone, "alreadyGone") === undefined)
    ) {
      seen = true;
      started.delete(record.batch);
      out.deleted.push(...(record.deleted as DeletedImage[]));
      out.failed.push(...(record.failed as FailedImage[]));
      if (record.alreadyGone !== undefined)
        (out.alreadyGone ??= []).push(...(record.alreadyGone as GoneImage[]));
    }
  }
  for (const images of started.values()) out.unknown.push(...images);
  return seen ? out : undefined;
}
