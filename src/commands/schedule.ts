// `kube-image-cleanup schedule --cron '0 3 * * *' -- run ...`: runs `run` on a schedule in this
// process, for use outside a CronJob. Wiring only; the work lives in src/controller.
import cron from "node-cron";
import yargs, { type Options } from "yargs";
import { ConfigError } from "../errors.js";
import { checkBooleans } from "../config/booleans.js";
import { readCommandLine } from "../config/command-line.js";
import { loadRunConfig, runOptions, type RunConfig } from "../config/run-options.js";
import { ENV_PREFIX, usageError } from "../config/usage-errors.js";
import type { ExitingCommand } from "./index.js";

/** Parses the `run ...` part after `--` with the run command's own option table. */
export async function parseRunArgs(
  argv: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
): Promise<Readonly<RunConfig>> {
  const [command, ...rest] = argv;
  if (command !== "run") {
    throw new ConfigError(
      "schedule arguments",
      argv.join(" ") || undefined,
      "give the run command after --, e.g. schedule --cron '0 3 * * *' -- run --include 'docker.io/acme/*'",
    );
  }
  checkBooleans(runOptions, rest, env);
  const line = readCommandLine(rest, [{ command: "run", options: runOptions }], env);
  const args = await yargs(rest)
    .locale("en")
    .options(runOptions)
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
        command: "run",
        commands: ["run"],
        options: Object.keys(runOptions),
        onCommandLine: line.all,
        noCommandMessage: "",
        env,
      });
    })
    .parseAsync();
  return loadRunConfig(args, env);
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

const hiddenRunOptions = Object.fromEntries(
  Object.entries(runOptions).map(([key, o]): [string, Options] => [key, { ...o, hidden: true }]),
);

export const scheduleCommand: ExitingCommand = {
  command: "schedule",
  describe:
    "repeat `run` on a cron schedule in this process (outside a CronJob); never two runs at once",
  options: scheduleOptions,
  builder: (y) =>
    y
      .parserConfiguration({ "populate--": true })
      .options(scheduleOptions)
      // run's options too, hidden, so that the KIC_ variables meant for the run after `--` pass the
      // strict parse; the handler refuses them on schedule's own command line.
      .options(hiddenRunOptions)
      .example(
        "$0 schedule --cron '0 3 * * *' -- run --include 'docker.io/acme/*'",
        "every night at 3",
      ),
  handler: async (args, line) => {
    const misplaced = Object.keys(runOptions).find(
      (key) => line !== undefined && key in line.outer,
    );
    if (misplaced !== undefined) {
      throw new ConfigError(
        `--${misplaced}`,
        line?.outer[misplaced],
        `--${misplaced} is an option of run: put it after --, e.g. schedule --cron '0 3 * * *' -- run --${misplaced} ...`,
      );
    }
    const expression = String(args.cron);
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
    const config = await parseRunArgs(inner);
    const { composeRun } = await import("./compose-run.js");
    const { runOnSchedule } = await import("../controller/main.js");
    return runOnSchedule(
      config,
      { expression, timezone, runNow: args["run-now"] === true },
      composeRun(config),
    );
  },
};
