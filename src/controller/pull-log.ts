// Reads a pull helper pod's log: the agent's `pull result` record (its last one, found by
// log-record.ts), checked field by field before it is trusted, or why there is none.
import {
  countOutcomes,
  PULL_RESULT_MSG,
  type PullOutcomeKind,
  type PullResult,
} from "../run-model/pull-result.js";
import { isObject, lastRecord, noRecordReason, type ParsedLog } from "./log-record.js";

export type ParsedPullLog = ParsedLog<PullResult>;

const KINDS: readonly PullOutcomeKind[] = ["pulled", "present", "failed", "not-attempted"];

/** Why `value` is not a PullResult (version 1), or undefined when it is one. */
export function checkPullResult(value: unknown): string | undefined {
  if (!isObject(value)) return "result is not an object";
  if (value.version !== 1)
    return `result version ${JSON.stringify(value.version)}, this controller reads version 1 (helper image and controller from different releases?)`;
  if (typeof value.node !== "string") return "node is not text";
  if (!isObject(value.runtime) || typeof value.runtime.client !== "string")
    return "runtime is not an object";
  if (!Array.isArray(value.images)) return "images is not a list";
  for (const [i, o] of value.images.entries()) {
    if (!isObject(o)) return `images[${String(i)}] is not an object`;
    if (typeof o.image !== "string") return `images[${String(i)}].image is not text`;
    if (!KINDS.includes(o.outcome as PullOutcomeKind))
      return `images[${String(i)}].outcome ${JSON.stringify(o.outcome)} is not a known outcome`;
    if (o.detail !== undefined && typeof o.detail !== "string")
      return `images[${String(i)}].detail is not text`;
    if (typeof o.attempts !== "number" || typeof o.durationMs !== "number")
      return `images[${String(i)}] has no attempts or durationMs`;
  }
  if (typeof value.durationMs !== "number") return "durationMs is not a number";
  return undefined;
}

export function parsePullLog(log: string): ParsedPullLog {
  const found = lastRecord(log, PULL_RESULT_MSG, checkPullResult);
  if (found.ok) {
    const result = found.result as PullResult;
    // Counted here, not trusted from the record: the summary adds them up.
    return { ok: true, result: { ...result, counts: countOutcomes(result.images) } };
  }
  if (found.bad !== undefined)
    return { ok: false, reason: `the agent's pull result record is malformed: ${found.bad}` };
  // A record cut short is told by how the log ends, as a log without one.
  return { ok: false, reason: noRecordReason(log, "pull result") };
}
