// What the pretty and JSON reporters of `run` and `pull` have in common: the readable one writes
// each formatter's lines through one last escape, the JSON one logs a node at info when it is ok
// and at error otherwise; a note is a line (`note: ...`) or a warning.
import type { Logger } from "../log.js";
import type { NodeStatus } from "../run-model/node-result.js";
import type { SweepReporter } from "../run-model/reporter.js";
import { escapeControl } from "../text/escape.js";

/** The formatters of one readable log. */
export interface LineFormat<H, N, S> {
  header(header: H): string[];
  node(result: N, done: number, total: number): string[];
  summary(summary: S): string[];
}

export function createLineReporter<H, N, S>(
  write: (line: string) => void,
  format: LineFormat<H, N, S>,
): SweepReporter<H, N, S> {
  // The formatters escape already; this is the last gate, for any line added later.
  const all = (lines: string[]) => {
    for (const l of lines) write(escapeControl(l));
  };
  return {
    header: (h) => {
      all(format.header(h));
    },
    node: (r, done, total) => {
      all(format.node(r, done, total));
    },
    note: (message) => {
      write(escapeControl(`note: ${message}`));
    },
    summary: (s) => {
      all(format.summary(s));
    },
  };
}

/** A node's JSON record: `node done` at info, `node failed` at error. */
export function logNode(log: Logger, status: NodeStatus, record: Record<string, unknown>): void {
  if (status === "ok") log.info(record, "node done");
  else log.error(record, "node failed");
}
