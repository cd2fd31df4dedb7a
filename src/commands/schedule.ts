// `kube-image-cleanup schedule --cron '0 3 * * *' -- run ...`: runs `run` on a schedule in this
// process, for use outside a CronJob. Wiring only; the work lives in src/controller.
import cron from "node-cron";
import yargs from "yargs";
import { ConfigError } from "../errors.js";
import { loadRunConfig, runOptions, type RunConfig } from "../config/run-options.js";
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
  const args = await yargs(rest)
    .options(runOptions)
    .env("KIC")
    .strict()
    .help(false)
    .version(false)
    .fail((msg, err) => {
      // yargs' typings say `err` is always set; for its own validation failures it is undefined.
      const thrown = err as Error | undefined;
      throw thrown ?? new ConfigError("run arguments", rest.join(" "), msg);
    })
    .parseAsync();
  return loadRunConfig(args, env);
}

export const scheduleCommand: ExitingCommand = {
  command: "schedule",
  describe:
    "repeat `run` on a cron schedule in this process (outside a CronJob); never two runs at once",
  builder: (y) =>
    y
      .parserConfiguration({ "populate--": true })
      .options({
        cron: {
          type: "string",
          demandOption: true,
          requiresArg: true,
          describe:
            "when to run: five fields (minute hour day month weekday) or six with seconds first",
        },
        timezone: {
          type: "string",
          requiresArg: true,
          describe: "IANA time zone of --cron (default: this process's)",
        },
        "run-now": { type: "boolean", default: false, describe: "also run once right away" },
      })
      .example(
        "$0 schedule --cron '0 3 * * *' -- run --include 'docker.io/acme/*'",
        "every night at 3",
      ),
  handler: async (args) => {
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
    const { runOnSchedule } = await import("../controller/main.js");
    return runOnSchedule(config, { expression, timezone, runNow: args["run-now"] === true });
  },
};
