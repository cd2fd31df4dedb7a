// What `run` and `schedule` do once their arguments are loaded: clients, reporter, signals, runs.
// The commands import this module only when they run: the Kubernetes client costs ~75 MB of memory,
// which the agent (the same binary, in every helper pod) should not pay.
import cron from "node-cron";
import type { RunConfig } from "../config/run-options.js";
import { createKube, loadKubeConfig } from "../kube/clients.js";
import { createLogger, type Logger } from "../log.js";
import {
  createJsonRunReporter,
  createPrettyRunReporter,
  type RunReporter,
} from "../report/run-reporter.js";
import { createRunSinks } from "../report/sinks/index.js";
import { interruptOnSignals, type Interrupt } from "./interrupt.js";
import { summaryExitCode } from "../run-model/run-summary.js";
import { runController } from "./run.js";
import { createRunScheduler } from "./schedule.js";

function createRunReporter(
  config: Pick<RunConfig, "output" | "logFormat">,
  log: Logger,
): RunReporter {
  if (config.output === "json") {
    return createJsonRunReporter(config.logFormat === "json" ? log : createLogger("json"));
  }
  return createPrettyRunReporter((line) => process.stdout.write(`${line}\n`));
}

function setUp(config: Readonly<RunConfig>) {
  const log = createLogger(config.logFormat);
  const kube = createKube(loadKubeConfig(config), log);
  return {
    log,
    kube,
    report: createRunReporter(config, log),
    sinks: createRunSinks(config.audit, kube),
  };
}

/** `run`: one run; resolves with the exit code (0/1), throws KubeApiError/ConfigError (2). */
export async function runOnce(config: Readonly<RunConfig>): Promise<number> {
  const { log, kube, report, sinks } = setUp(config);
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
    if (fatal) throw fatal;
    return summaryExitCode(summary);
  } finally {
    interrupt.dispose();
    kube.close();
  }
}

export interface ScheduleOptions {
  expression: string;
  timezone: string | undefined;
  runNow: boolean;
}

/**
 * `schedule`: runs on the cron schedule until SIGTERM/SIGINT, never two at once. Resolves with 1
 * when a run had to be interrupted, else 0.
 */
export async function runOnSchedule(
  config: Readonly<RunConfig>,
  options: ScheduleOptions,
): Promise<number> {
  const { log, kube, report, sinks } = setUp(config);
  const scheduler = createRunScheduler(
    async (signal) => {
      const { summary, fatal } = await runController(config, { kube, log, report, sinks, signal });
      if (fatal) throw fatal;
      return summaryExitCode(summary);
    },
    (m) => {
      report.note(m);
    },
  );
  const task = cron.schedule(options.expression, () => scheduler.tick(), {
    name: "kube-image-cleanup",
    noOverlap: true,
    ...(options.timezone === undefined ? {} : { timezone: options.timezone }),
  });
  report.note(
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
  kube.close();
  return wasRunning ? 1 : 0;
}
