// `schedule`: the same run (or, on a host without Kubernetes, the same agent run), repeated
// in-process on a cron schedule, for running outside a CronJob. Never two runs at once: a tick while
// a run is in flight is skipped and said so (node-cron's noOverlap does the same; this guard also
// covers --run-now and makes it testable).
import cron from "node-cron";
import { interruptOnSignals, type Interrupt } from "./interrupt.js";

export interface ScheduleOptions {
  expression: string;
  timezone: string | undefined;
  runNow: boolean;
}

/**
 * Runs `runOnce` on the cron schedule until SIGTERM/SIGINT: the first signal aborts the run in flight
 * (it finishes its cleanup) and stops the schedule. Resolves with 1 when a run had to be interrupted,
 * else 0. `note` gets what the operator should read (next run, skipped ticks, failed runs).
 */
export async function repeatOnCron(
  runOnce: (signal: AbortSignal) => Promise<number>,
  note: (message: string) => void,
  options: ScheduleOptions,
): Promise<number> {
  const scheduler = createRunScheduler(runOnce, note);
  const task = cron.schedule(options.expression, () => scheduler.tick(), {
    name: "kube-image-cleanup",
    noOverlap: true,
    ...(options.timezone === undefined ? {} : { timezone: options.timezone }),
  });
  note(
    `scheduled: ${options.expression}${options.timezone ? ` (${options.timezone})` : ""}; ` +
      `next run ${task.getNextRun()?.toISOString() ?? "never"}`,
  );
  let interrupt: Interrupt | undefined;
  const stopped = new Promise<NodeJS.Signals>((resolve) => {
    interrupt = interruptOnSignals(resolve);
  });
  if (options.runNow) void scheduler.tick();
  const signal = await stopped;
  await task.destroy();
  // An interrupted run exits 1 like `run` does; stopping between runs is a clean shutdown.
  const wasRunning = scheduler.running;
  await scheduler.stop(signal);
  interrupt?.dispose();
  return wasRunning ? 1 : 0;
}

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
