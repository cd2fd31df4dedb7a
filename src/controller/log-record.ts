// Finding a helper's structured record in its pod log (`agent result`, `pull result`): the last
// one whose check passes, scanned from the end without splitting the whole log (a node with 1,000
// images logs ~300 KiB, and the controller reads one such log per node). Pod logs can be cut
// (kubelet log rotation, a killed container) or hold anything (a wrong image): a record is only
// trusted once checked, and a log without one is explained by how it ends.

export const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

/** A helper's result read from its log, or why there is none. */
export type ParsedLog<T> = { ok: true; result: T } | { ok: false; reason: string };

export type FoundRecord =
  | { ok: true; result: unknown }
  /** `bad`: why the last record named so was refused; `cut`: a line naming it was no JSON. */
  | { ok: false; bad: string | undefined; cut: boolean };

/** The `result` of the last record `{"msg": msg, "result": ...}` that `check` accepts. */
export function lastRecord(
  log: string,
  msg: string,
  check: (result: unknown) => string | undefined,
): FoundRecord {
  const needle = `"${msg}"`;
  let cut = false;
  let bad: string | undefined;
  for (let before = log.length; before >= 0;) {
    const at = log.lastIndexOf(needle, before);
    if (at < 0) break;
    const start = log.lastIndexOf("\n", at) + 1;
    const newline = log.indexOf("\n", at);
    const line = log.slice(start, newline < 0 ? log.length : newline).trim();
    before = start - 2;
    let record: unknown;
    try {
      record = JSON.parse(line.slice(line.indexOf("{")));
    } catch {
      // A record cut short (log rotation, a killed container) or text that merely mentions the
      // message: remember it and look further up.
      cut = true;
      continue;
    }
    if (!isObject(record) || record.msg !== msg) continue;
    const refused = check(record.result);
    if (refused === undefined) return { ok: true, result: record.result };
    bad ??= refused;
  }
  return { ok: false, bad, cut };
}

/** Why a log holds no `what` (`agent result`): it is empty, or how it ends. */
export function noRecordReason(log: string, what: string): string {
  const error = agentErrorFromLog(log);
  return error === undefined
    ? `the log is empty: no ${what}`
    : `no ${what}; its log ends: ${error}`;
}

/**
 * What went wrong, from a log without a result: the last error record (pino level >= 50), the CLI's
 * `error: ...` line, else the last non-empty line.
 */
export function agentErrorFromLog(log: string): string | undefined {
  const lines = log
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l !== "");
  for (let i = lines.length - 1; i >= 0; i--) {
    const line = lines[i] ?? "";
    if (line.startsWith("error: ")) return clip(line.slice("error: ".length));
    if (line.startsWith("{")) {
      try {
        const record = JSON.parse(line) as {
          level?: unknown;
          msg?: unknown;
          err?: { message?: unknown };
        };
        if (typeof record.level === "number" && record.level >= 50) {
          const message = typeof record.err?.message === "string" ? record.err.message : record.msg;
          if (typeof message === "string") return clip(message);
        }
      } catch {
        // Not JSON after all; it may still be the last line worth showing, below.
      }
    }
  }
  const last = lines.at(-1);
  return last === undefined ? undefined : clip(last);
}

const clip = (text: string, max = 300) =>
  text.length > max ? `${text.slice(0, max - 3)}...` : text;

/**
 * Whether a log read as it arrives holds a complete record `msg` that `check` accepts: only whole
 * lines count (a record is complete once its line's newline has arrived), so a record still being
 * written is never taken for a cut one.
 */
export function recordArrived(
  log: string,
  msg: string,
  check: (result: unknown) => string | undefined,
): boolean {
  const lastNewline = log.lastIndexOf("\n");
  if (lastNewline < 0 || log.lastIndexOf(`"${msg}"`, lastNewline) < 0) return false;
  return lastRecord(log.slice(0, lastNewline + 1), msg, check).ok;
}
