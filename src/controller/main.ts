// What `run`, `list` and `schedule` do once the command has composed a run's parts (clients,
// reporter, sinks: src/commands/compose-run.ts): signals, one run or runs on a schedule, the exit
// code. The commands import this module only when they run: the Kubernetes client costs ~75 MB of
// memory, which the agent (the same binary, in every helper pod) should not pay.
import type { RunConfig } from "../config/run-options.js";
import type { Kube } from "../kube/api.js";
import type { Logger } from "../log.js";
import type { RunReporter } from "../run-model/reporter.js";
import { summaryExitCode, type RunSummary } from "../run-model/run-summary.js";
import type { RunSink } from "../run-model/sink.js";
import { interruptOnSignals } from "./interrupt.js";
import { runController } from "./run.js";
import { repeatOnCron, type ScheduleOptions } from "./schedule.js";
import type { PullConfig } from "../config/pull-options.js";
import { pullExitCode, type PullRunReporter } from "../run-model/pull-result.js";
import { pullController } from "./pull-run.js";

/** What the command hands a run; the run closes `kube` when it is over. */
export interface RunParts {
  log: Logger;
  kube: Kube;
  report: RunReporter;
  /** Where the outcome goes besides `report`; none for `list`. */
  sinks?: readonly RunSink[];
}

/**
 * `run` (and `list`): one run; resolves with the exit code (0/1), throws KubeApiError/ConfigError
 * (2). `finish` sees the summary before a fatal error is thrown (`list` prints its table there).
 */
export async function runOnce(
  config: Readonly<RunConfig>,
  parts: RunParts,
  finish?: (summary: RunSummary) => void,
): Promise<number> {
  const { log, kube, report, sinks } = parts;
  const interrupt = interruptOnSignals((signal) => {
    report.note(`${signal}: no new nodes start; deleting the helper pods in flight`);
  });
  try {
    const { summary, fatal } = await runController(config, {
      kube,
      log,
      report,
      sinks,
      signal: interrupt.signal,
    });
    finish?.(summary);
    if (fatal) throw fatal;
    return summaryExitCode(summary);
  } finally {
    interrupt.dispose();
    kube.close();
  }
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
  const { log, kube, report, sinks } = parts;
  try {
    return await repeatOnCron(
      async (signal) => {
        const { summary, fatal } = await runController(config, {
          kube,
          log,
          report,
          sinks,
          signal,
        });
        if (fatal) throw fatal;
        return summaryExitCode(summary);
      },
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
export async function pullOnce(
  config: Readonly<PullConfig>,
  parts: Omit<RunParts, "report" | "sinks"> & { report: PullRunReporter },
): Promise<number> {
  const { log, kube, report } = parts;
  const interrupt = interruptOnSignals((signal) => {
    report.note(`${signal}: no new nodes start; deleting the helper pods in flight`);
  });
  try {
    const { summary, fatal } = await pullController(config, {
      kube,
      log,
      report,
      signal: interrupt.signal,
    });
    if (fatal) throw fatal;
    return pullExitCode(summary);
  } finally {
    interrupt.dispose();
    kube.close();
  }
}
