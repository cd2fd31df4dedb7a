// Reads a pull helper pod's log: the agent's `pull result` record (its last one), checked field by
// field before it is trusted (a log can be cut short or hold anything), or why there is none.
import {
  countOutcomes,
  PULL_RESULT_MSG,
  type PullOutcomeKind,
  type PullResult,
} from "../run-model/pull-result.js";
import { agentErrorFromLog } from "./agent-log.js";

export type ParsedPullLog = { ok: true; result: PullResult } | { ok: false; reason: string };

const KINDS: readonly PullOutcomeKind[] = ["pulled", "present", "failed", "not-attempted"];
const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

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
  const lines = log.split("\n");
  let lastBad: string | undefined;
  for (let i = lines.length - 1; i >= 0; i--) {
    const line = lines[i]?.trim() ?? "";
    if (!line.startsWith("{") || !line.includes(`"${PULL_RESULT_MSG}"`)) continue;
    let record: unknown;
    try {
      record = JSON.parse(line);
    } catch {
      // Cut short (a killed container, log rotation): look further up.
      continue;
    }
    if (!isObject(record) || record.msg !== PULL_RESULT_MSG) continue;
    const bad = checkPullResult(record.result);
    if (bad === undefined) {
      const result = record.result as PullResult;
      // Counted here, not trusted from the record: the summary adds them up.
      return { ok: true, result: { ...result, counts: countOutcomes(result.images) } };
    }
    lastBad ??= bad;
  }
  if (lastBad !== undefined)
    return { ok: false, reason: `the agent's pull result record is malformed: ${lastBad}` };
  const error = agentErrorFromLog(log);
  return {
    ok: false,
    reason:
      error === undefined
        ? "the log is empty: no pull result"
        : `no pull result; its log ends: ${error}`,
  };
}
