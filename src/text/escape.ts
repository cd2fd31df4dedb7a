// Everything the readable logs print comes in part from others: node names, image names the runtime
// reports, pod names in details, error text from crictl/ctr and the API server. A newline or an
// escape sequence in any of them would let whoever controls that text write lines of their own into
// the audit trail (a forged node section, "deleted" line or summary) or drive the reader's terminal.
// So every line the pretty reporters write goes through `escapeControl` (src/report/run-reporter.ts,
// src/report/pretty.ts, src/agent/report.ts).

/* eslint-disable no-control-regex -- matching control characters is the point of this module. */
/**
 * C0 controls (newline, carriage return, tab, escape, ...), DEL, C1 controls, the Unicode line and
 * paragraph separators, and the bidirectional overrides that reorder how a line reads.
 */
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;
/* eslint-enable no-control-regex */

const SHORT: Record<string, string> = { "\n": "\\n", "\r": "\\r", "\t": "\\t" };

/**
 * `text` with each unsafe character written as a JSON-style escape (`\n`, `\u001b`, `\u2028`), so
 * one string stays on one line and shows what it holds. Backslashes are left alone: escaping is
 * idempotent, and a JSON line stays valid JSON with the same meaning.
 */
export function escapeControl(text: string): string {
  return text.replace(
    UNSAFE,
    (c) => SHORT[c] ?? `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}
