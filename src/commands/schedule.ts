// `kube-image-cleanup schedule --cron '0 3 * * *' -- run ...`: runs `run` on a schedule in this
// process, for use outside a CronJob. Wiring only; the work lives in src/controller.
import yargs, { type Options } from "yargs";
import { ConfigError } from "../errors.js";
import { checkBooleans } from "../config/booleans.js";
import { readCommandLine } from "../config/command-line.js";
import { loadRunConfig, runOptions, type RunConfig } from "../config/run-options.js";
import { ENV_PREFIX, usageError } from "../config/usage-errors.js";
import { agentOptions, loadAgentConfig, type AgentConfig } from "../config/agent-options.js";
import { createLogger } from "../log.js";
import { runAgentOnce } from "./agent.js";
import type { ExitingCommand } from "./index.js";
import { withUsage } from "./usage.js";

/** What `schedule` repeats: a cluster run, or (on a host without Kubernetes) an agent run here. */
export type ScheduledCommand =
  | { command: "run"; config: Readonly<RunConfig> }
  | { command: "agent"; config: Readonly<AgentConfig> };

const SCHEDULED = { run: runOptions, agent: agentOptions } as const;

/** Parses the `run ...` or `agent ...` part after `--` with that command's own option table. */
export async function parseScheduledArgs(
  argv: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
): Promise<ScheduledCommand> {
  const [command, ...rest] = argv;
  if (command !== "run" && command !== "agent") {
    throw new ConfigError(
      "schedule arguments",
      argv.join(" ") || undefined,
      "give the command to repeat after --: run (every node of a cluster), e.g. schedule --cron '0 3 * * *' -- run --include 'docker.io/acme/*', " +
        "or agent (this host, e.g. a Docker host), e.g. schedule --cron '0 3 * * *' -- agent --client docker --include 'docker.io/acme/*'",
    );
  }
  const options = SCHEDULED[command];
  checkBooleans(options, rest, env);
  const line = readCommandLine(rest, [{ command, options }], env);
  const args = await yargs(rest)
    .locale("en")
    .options(options)
    // "KIC_", not "KIC": yargs matches the prefix as written, and KICKSTART_X would be read as --kickstart-x.
    .env(`${ENV_PREFIX}_`)
    .strict()
    .help(false)
    .version(false)
    .fail((msg, err) => {
      // As in cli.ts: no `err` or a YError is bad input; anything else is passed on.
      const thrown = err as Error | undefined;
      if (thrown !== undefined && thrown.name !== "YError") throw thrown;
      throw usageError(msg || (thrown?.message ?? ""), {
        command,
        commands: [command],
        options: Object.keys(options),
        onCommandLine: line.all,
        noCommandMessage: "",
        env,
      });
    })
    .parseAsync();
  return command === "run"
    ? { command, config: loadRunConfig(args, env) }
    : { command, config: loadAgentConfig(args, env) };
}

/** The options `schedule` itself takes; `run`'s follow after `--`. */
export const scheduleOptions = {
  cron: {
    type: "string",
    demandOption: true,
    requiresArg: true,
    describe: "when to run: five fields (minute hour day month weekday) or six with seconds first",
  },
  timezone: {
    type: "string",
    requiresArg: true,
    describe: "IANA time zone of --cron (default: this process's)",
  },
  "run-now": { type: "boolean", default: false, describe: "also run once right away" },
} as const satisfies Record<string, Options>;

/** Options of the commands schedule repeats (run's, and the agent's own). */
const scheduledOptions: Record<string, Options> = { ...runOptions, ...agentOptions };
const hiddenScheduledOptions = Object.fromEntries(
  Object.entries(scheduledOptions).map(([key, o]): [string, Options] => [
    key,
    { ...o, hidden: true },
  ]),
);

export const scheduleCommand: ExitingCommand = {
  command: "schedule",
  describe:
    "repeat `run` (a cluster) or `agent` (this host, e.g. a Docker host) on a cron schedule in this process (outside a CronJob); never two runs at once",
  options: scheduleOptions,
  builder: (y) =>
    withUsage(
      y
        .parserConfiguration({ "populate--": true })
        .options(scheduleOptions)
        // run's and agent's options too, hidden, so that the KIC_ variables meant for the command
        // after `--` pass the strict parse; the handler refuses them on schedule's own command line.
        .options(hiddenScheduledOptions),
      {
        examples: [
          [
            "$0 schedule --cron '0 3 * * *' -- run --include 'docker.io/acme/*'",
            "every node of the cluster, every night at 3",
          ],
          [
            "$0 schedule --cron '0 3 * * *' -- agent --client docker --include 'registry.example.com/ci/**' --keep-newest 3",
            "this Docker host, every night at 3",
          ],
        ],
      },
    ),
  handler: async (args, line) => {
    const misplaced = Object.keys(scheduledOptions).find(
      (key) => line !== undefined && key in line.outer,
    );
    if (misplaced !== undefined) {
      const of = misplaced in runOptions ? "run" : "agent";
      throw new ConfigError(
        `--${misplaced}`,
        line?.outer[misplaced],
        `--${misplaced} is an option of ${of}: put it after --, e.g. schedule --cron '0 3 * * *' -- ${of} --${misplaced} ...`,
      );
    }
    const expression = String(args.cron);
    // Loaded here, not at the top: every command (the agent in each helper pod too) imports this
    // module to know its options, and node-cron costs as much to load as the agent's own code.
    const { default: cron } = await import("node-cron");
    if (!cron.validate(expression)) {
      throw new ConfigError(
        "--cron",
        expression,
        "give a cron expression such as '0 3 * * *' (minute hour day month weekday)",
      );
    }
    const timezone = typeof args.timezone === "string" ? args.timezone : undefined;
    if (
      timezone !== undefined &&
      !Intl.supportedValuesOf("timeZone").includes(timezone) &&
      timezone !== "UTC"
    ) {
      throw new ConfigError(
        "--timezone",
        timezone,
        "give an IANA time zone such as Europe/Berlin or UTC",
      );
    }
    const inner = Array.isArray(args["--"]) ? (args["--"] as unknown[]).map(String) : [];
    const scheduled = await parseScheduledArgs(inner);
    const options = { expression, timezone, runNow: args["run-now"] === true };
    if (scheduled.command === "agent") {
      // No Kubernetes client is loaded for the agent (see controller/main.ts).
      const { repeatOnCron } = await import("../controller/schedule.js");
      const log = createLogger(scheduled.config.logFormat);
      return repeatOnCron(
        (signal) => runAgentOnce(scheduled.config, signal),
        // As `run` prints its notes: a line for humans, a record for log pipelines.
        scheduled.config.logFormat === "json"
          ? (m) => {
              log.info(m);
            }
          : (m) => {
              process.stdout.write(`note: ${m}\n`);
            },
        options,
      );
    }
    const { composeRun } = await import("./compose-run.js");
    const { runOnSchedule } = await import("../controller/main.js");
    return runOnSchedule(scheduled.config, options, composeRun(scheduled.config));
  },
};
