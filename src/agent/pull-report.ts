// What the agent's pull action prints: one line per image as it is done (pretty), or pino records
// (json, what the controller reads), ending with the one structured result record. Image names and
// the runtime's messages are escaped: they come from whoever wrote the image list and the registry.
import type { Logger } from "../log.js";
import { escapeControl } from "../text/escape.js";
import { plural } from "../text/units.js";
import {
  outcomeText,
  PULL_RESULT_MSG,
  type PullOutcome,
  type PullResult,
} from "../run-model/pull-result.js";

export interface PullReporter {
  connected(node: string, runtime: PullResult["runtime"], images: number): void;
  image(outcome: PullOutcome): void;
  result(result: PullResult): void;
}

/** The result record as one line, the same shape in both formats. */
export function pullResultLine(result: PullResult): string {
  return JSON.stringify({ msg: PULL_RESULT_MSG, result });
}

/** `3 pulled, 1 already present, 1 failed` (the kinds that occurred, in this order). */
export function pullCountsText(counts: PullResult["counts"]): string {
  const parts = [`${String(counts.pulled)} pulled`, `${String(counts.present)} already present`];
  parts.push(`${String(counts.failed)} failed`);
  if (counts["not-attempted"] > 0) parts.push(`${String(counts["not-attempted"])} not attempted`);
  return parts.join(", ");
}

export function createPrettyPullReporter(print: (line: string) => void): PullReporter {
  const write = (line: string) => {
    print(escapeControl(line));
  };
  return {
    connected: (node, r, images) => {
      write(
        `node ${node}: ${r.name ?? "runtime"} ${r.version ?? ""} via ${r.client}, socket ${r.socket}; pulling ${plural(images, "image")}`.replace(
          /\s+/g,
          " ",
        ),
      );
    },
    image: (o) => {
      const tries = o.attempts > 1 ? ` (${String(o.attempts)} attempts)` : "";
      write(`  ${o.image}  ${outcomeText(o)}${tries} (${String(o.durationMs)} ms)`);
    },
    result: (r) => {
      write(`done: ${pullCountsText(r.counts)} (${String(r.durationMs)} ms)`);
      write(pullResultLine(r));
    },
  };
}

export function createJsonPullReporter(log: Logger): PullReporter {
  return {
    connected: (node, runtime, images) => {
      log.info({ node, runtime, images }, "connected to runtime");
    },
    image: (o) => {
      if (o.outcome === "failed") log.error(o, "pull failed");
      else log.info(o, o.outcome === "present" ? "already present" : o.outcome);
    },
    result: (result) => {
      log.info({ result }, PULL_RESULT_MSG);
    },
  };
}
