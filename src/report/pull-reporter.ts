// Where the pre-pull log goes: readable lines (`--output table`) or pino JSON records (`--output
// json`) with the same content. The controller calls PullRunReporter and does not know which.
import type { Logger } from "../log.js";
import type { PullRunReporter } from "../run-model/pull-result.js";
import { createLineReporter, logNode } from "./line-reporter.js";
import { formatPullHeader, formatPullNode, formatPullSummary } from "./pull-pretty.js";

export function createPrettyPullReporter(write: (line: string) => void): PullRunReporter {
  return createLineReporter(write, {
    header: formatPullHeader,
    node: formatPullNode,
    summary: formatPullSummary,
  });
}

export function createJsonPullReporter(log: Logger): PullRunReporter {
  return {
    header: (h) => {
      log.info({ ...h }, "pull start");
    },
    node: (r, done, total) => {
      logNode(log, r.status, {
        node: r.node,
        index: done,
        total,
        status: r.status,
        durationMs: r.durationMs,
        ...(r.reason === undefined ? {} : { reason: r.reason }),
        ...(r.pod === undefined ? {} : { pod: r.pod }),
        ...(r.result === undefined
          ? {}
          : { runtime: r.result.runtime, counts: r.result.counts, images: r.result.images }),
      });
    },
    note: (message) => {
      log.warn(message);
    },
    summary: (s) => {
      log.info(
        {
          runId: s.runId,
          images: s.images,
          nodes: s.nodes,
          ok: s.nodes.filter((n) => n.status === "ok").length,
          failed: s.nodes.filter((n) => n.status === "failed").length,
          notStarted: s.notStarted,
          missing: s.missing,
          durationMs: s.durationMs,
          interruptedBy: s.interruptedBy,
          fatal: s.fatal,
          leftPods: s.leftPods,
        },
        "pull summary",
      );
    },
  };
}
