// The one place that calls a run's sinks (src/run-model/sink.ts): a sink that throws is logged as a
// note and the run goes on, with the same result and exit code.
import type { NodeResult } from "../run-model/node-result.js";
import type { RunSink, SinkContext } from "../run-model/sink.js";
import type { RunSummary } from "../run-model/run-summary.js";

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
