// A report sink consumes a run's outcome and never changes it (DESIGN.md "Where a run's outcome
// goes"): Events on Nodes, the run-report ConfigMap, the Pushgateway. The runner below is the one
// place that calls them: a sink that throws is logged as a note and the run goes on, with the same
// result and exit code.
import type { NodeResult } from "../../run-model/node-result.js";
import type { RunSummary } from "../../run-model/run-summary.js";

/** What every sink may need to know about the run besides its results. */
export interface SinkContext {
  runId: string;
  /** The helper pods' namespace (the release namespace in the chart). */
  namespace: string;
  /** The release (`--instance`). */
  instance: string;
  dryRun: boolean;
  /** Epoch milliseconds. */
  startedAt: number;
}

export interface RunSink {
  /** Named in the note when the sink fails: `events`, `run report`, `metrics`. */
  readonly name: string;
  /** A node is done (called as each finishes; the runner does not wait for it before the next). */
  node?: (result: NodeResult, ctx: SinkContext) => Promise<void>;
  /** The run is over; `exitCode` is what the command exits with (0 or 1; 2 when stopped by `fatal`). */
  summary?: (
    summary: RunSummary,
    ctx: SinkContext & { finishedAt: number; exitCode: number },
  ) => Promise<void>;
}

export interface SinkRunner {
  node(result: NodeResult): void;
  /** Waits for the node calls still in flight, then calls every sink's `summary`. Never throws. */
  finish(summary: RunSummary, exitCode: number, finishedAt: number): Promise<void>;
}

function reasonOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** `note` gets one line per failure: which sink, what went wrong, and that the run is unaffected. */
export function createSinkRunner(
  sinks: readonly RunSink[],
  ctx: SinkContext,
  note: (message: string) => void,
): SinkRunner {
  const pending = new Set<Promise<void>>();
  const guarded = (sink: RunSink, work: () => Promise<void>): Promise<void> =>
    work().catch((err: unknown) => {
      note(`${sink.name}: ${reasonOf(err)} (the run's result is unaffected)`);
    });
  return {
    node(result) {
      for (const sink of sinks) {
        const call = sink.node;
        if (call === undefined) continue;
        const p = guarded(sink, () => call(result, ctx));
        pending.add(p);
        void p.finally(() => pending.delete(p));
      }
    },
    async finish(summary, exitCode, finishedAt) {
      await Promise.all(pending);
      for (const sink of sinks) {
        const call = sink.summary;
        if (call === undefined) continue;
        await guarded(sink, () => call(summary, { ...ctx, finishedAt, exitCode }));
      }
    },
  };
}
