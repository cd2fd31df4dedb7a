// `schedule`: the same run, repeated in-process on a cron schedule, for running outside a CronJob.
// Never two runs at once: a tick while a run is in flight is skipped and said so (node-cron's
// noOverlap does the same; this guard also covers --run-now and makes it testable).

export interface RunScheduler {
  /** Starts a run unless one is in flight; resolves when that run (or the skip) is done. */
  tick(): Promise<void>;
  /** Aborts the run in flight (if any) with `reason` and waits for it to finish its cleanup. */
  stop(reason: string): Promise<void>;
  /** Exit code of the last finished run (0 before any). */
  readonly lastExitCode: number;
  readonly running: boolean;
}

export function createRunScheduler(
  runOnce: (signal: AbortSignal) => Promise<number>,
  note: (message: string) => void,
): RunScheduler {
  let current: { promise: Promise<void>; abort: AbortController } | undefined;
  let stopped = false;
  let lastExitCode = 0;
  return {
    get lastExitCode() {
      return lastExitCode;
    },
    get running() {
      return current !== undefined;
    },
    tick: async () => {
      if (stopped) return;
      if (current !== undefined) {
        note("a run is still in progress: this scheduled run is skipped");
        return;
      }
      const abort = new AbortController();
      const promise = (async () => {
        try {
          lastExitCode = await runOnce(abort.signal);
        } catch (err) {
          // A run that could not start (API server down, forbidden) fails this tick only: the next
          // one may find the server back. The message is what the operator needs.
          lastExitCode = 2;
          note(`run failed: ${err instanceof Error ? err.message : String(err)}`);
        } finally {
          current = undefined;
        }
      })();
      current = { promise, abort };
      await promise;
    },
    stop: async (reason) => {
      stopped = true;
      const running = current;
      if (running === undefined) return;
      running.abort.abort(reason);
      await running.promise;
    },
  };
}
