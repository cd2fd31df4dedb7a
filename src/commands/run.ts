// `kube-image-cleanup run`: what the CronJob runs. Wiring only; the work lives in src/controller.
import { PATTERN_HELP } from "../config/agent-options.js";
import { loadRunConfig, runOptions, type RunConfig } from "../config/run-options.js";
import { interruptOnSignals } from "../controller/interrupt.js";
import { summaryExitCode } from "../controller/results.js";
import { runController } from "../controller/run.js";
import { createKube, loadKubeConfig } from "../kube/clients.js";
import { createLogger, type Logger } from "../log.js";
import {
  createJsonRunReporter,
  createPrettyRunReporter,
  type RunReporter,
} from "../report/run-reporter.js";
import type { ExitingCommand } from "./index.js";

export const RUN_EPILOGUE =
  `${PATTERN_HELP}\n\nEach selected node gets one privileged helper pod (hostPID, nsenter) running ` +
  "`kube-image-cleanup agent`; images that pods bound to the node reference are protected.\n" +
  "Exit codes: 0 every selected node ok, 1 some node failed (each listed with the reason), " +
  "2 bad configuration or the API server unreachable or forbidden (naming the verb and resource).";

export function createRunReporter(
  config: Pick<RunConfig, "output" | "logFormat">,
  log: Logger,
): RunReporter {
  if (config.output === "json")
    return createJsonRunReporter(config.logFormat === "json" ? log : createLogger("json"));
  return createPrettyRunReporter((line) => process.stdout.write(`${line}\n`));
}

export const runCommand: ExitingCommand = {
  command: "run",
  describe: "clean every selected node once: one helper pod per node, one readable log",
  builder: (y) =>
    y
      .options(runOptions)
      .epilogue(RUN_EPILOGUE)
      .example(
        "$0 run --include 'docker.io/acme/*' --dry-run",
        "what would go, on every Linux node",
      )
      .example(
        "$0 run --include 'ghcr.io/acme/**' --exclude '*/acme/base:*' --nodes node-a,node-b --concurrency 2",
        "two nodes, both at once",
      ),
  handler: async (args) => {
    const config = loadRunConfig(args);
    const log = createLogger(config.logFormat);
    const kube = createKube(loadKubeConfig(config), log);
    const report = createRunReporter(config, log);
    const interrupt = interruptOnSignals((signal) => {
      report.note(`${signal}: no new nodes start; deleting the helper pods in flight`);
    });
    try {
      const { summary, fatal } = await runController(config, {
        kube,
        log,
        report,
        signal: interrupt.signal,
      });
      if (fatal) throw fatal;
      return summaryExitCode(summary);
    } finally {
      interrupt.dispose();
    }
  },
};
