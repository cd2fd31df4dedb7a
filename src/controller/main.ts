// What `run`, `list` and `schedule` do once the command has composed a run's parts (clients,
// reporter, sinks: src/commands/compose-run.ts): signals, one run or runs on a schedule, the exit
// code. The commands import this module only when they run: the Kubernetes client costs ~75 MB of
// memory, which the agent (the same binary, in every helper pod) should not pay.
import type { RunConfig } from "../config/run-options.js";
import type { Kube } from "../kube/api.js";
import type { Logger } from "../log.js";
import type { RunReporter } from "../run-model/reporter.js";
import { summaryExitCode, type RunSummary, type SweepSummary } from "../run-model/run-summary.js";
import type { NodeStatus } from "../run-model/node-result.js";
import type { RunOutcome } from "./node-sweep.js";
import type { RunSink } from "../run-model/sink.js";
import { interruptOnSignals } from "./interrupt.js";
import { runController } from "./run.js";
import { repeatOnCron, type ScheduleOptions } from "./schedule.js";
import type { PullConfig } from "../config/pull-options.js";
import type { PullRunReporter } from "../run-model/pull-result.js";
import { pullController } from "./pull-run.js";

/** What the command hands a run; the run closes `kube` when it is over. */
export interface RunParts {
  log: Logger;
  kube: Kube;
  report: RunReporter;
  /** Where the outcome goes besides `report`; none for `list`. */
  sinks?: readonly RunSink[];
}

/** A run's outcome as the exit code: the fatal error thrown (exit 2), else 0 or 1. */
function exitCode(run: RunOutcome<SweepSummary<{ status: NodeStatus }>>): 0 | 1 {
  if (run.fatal) throw run.fatal;
  return summaryExitCode(run.summary);
}

/**
 * One run under SIGTERM/SIGINT (no new nodes start, the helper pods in flight are deleted); closes
 * the clients when it is over.
 */
async function once<S extends SweepSummary<{ status: NodeStatus }>>(
  { kube, report }: { kube: Kube; report: { note(message: string): void } },
  run: (signal: AbortSignal) => Promise<RunOutcome<S>>,
  finish?: (summary: S) => void,
): Promise<number> {
  const interrupt = interruptOnSignals((signal) => {
    report.note(`${signal}: no new nodes start; deleting the helper pods in flight`);
  });
  try {
    const outcome = await run(interrupt.signal);
    finish?.(outcome.summary);
    return exitCode(outcome);
  } finally {
    interrupt.dispose();
    kube.close();
  }
}

/**
 * `run` (and `list`): one run; resolves with the exit code (0/1), throws KubeApiError/ConfigError
 * (2). `finish` sees the summary before a fatal error is thrown (`list` prints its table there).
 */
export function runOnce(
  config: Readonly<RunConfig>,
  parts: RunParts,
  finish?: (summary: RunSummary) => void,
): Promise<number> {
  return once(parts, (signal) => runController(config, { ...parts, signal }), finish);
}

/**
 * `schedule ... -- run`: runs on the cron schedule until SIGTERM/SIGINT, never two at once. Resolves
 * with 1 when a run had to be interrupted, else 0.
 */
export async function runOnSchedule(
  config: Readonly<RunConfig>,
  options: ScheduleOptions,
  parts: RunParts,
): Promise<number> {
  const { kube, report } = parts;
  try {
    return await repeatOnCron(
      async (signal) => exitCode(await runController(config, { ...parts, signal })),
      (m) => {
        report.note(m);
      },
      options,
    );
  } finally {
    kube.close();
  }
}

/**
 * `pull`: one pre-pull run; resolves with the exit code (0 every image on every selected node, 1
 * otherwise), throws KubeApiError/ConfigError (2).
 */
export function pullOnce(
  config: Readonly<PullConfig>,
  parts: Omit<RunParts, "report" | "sinks"> & { report: PullRunReporter },
): Promise<number> {
  return once(parts, (signal) => pullController(config, { ...parts, signal }));
}
