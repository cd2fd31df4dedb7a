#!/usr/bin/env node
// Entry point: wires the yargs commands and maps errors to exit codes in one place. Every bad input
// of every command ends here the same way: exit 2, one line naming the flag or KIC_ variable, what
// was given and what is accepted, one hint line; never the help text, never a stack trace.
import yargs from "yargs";
import { hideBin } from "yargs/helpers";
import { loadCommands } from "./commands/index.js";
import { skipHelpCache } from "./commands/help-cache.js";
import { commandSyntax } from "./commands/usage.js";
import { checkBooleans } from "./config/booleans.js";
import { readCommandLine } from "./config/command-line.js";
import { packageVersion } from "./config/package-version.js";
import {
  attributeToEnv,
  ENV_PREFIX,
  usageError,
  type UsageContext,
} from "./config/usage-errors.js";
import { reportFatal } from "./report/fatal-error.js";

const NO_COMMAND = "no command given";

export async function main(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const commands = await loadCommands(argv);
  const line = readCommandLine(argv, commands, env);
  const usage: UsageContext = {
    command: line.command,
    commands: commands.map((c) => c.command),
    options: Object.keys(commands.find((c) => c.command === line.command)?.options ?? {}),
    onCommandLine: line.all,
    noCommandMessage: NO_COMMAND,
    env,
  };
  let code = 0;
  const parser = yargs(argv)
    .scriptName("kube-image-cleanup")
    // The failure sentences usageError() reads are yargs' English ones, whatever $LANG says.
    .locale("en")
    // "KIC_", not "KIC": yargs matches the prefix as written, and KICKSTART_X would be read as --kickstart-x.
    .env(`${ENV_PREFIX}_`)
    .strict()
    .demandCommand(1, NO_COMMAND)
    // From the package.json beside dist/: yargs' own lookup starts from the working directory and
    // says "unknown" for an installed package (npx, npm install -g).
    .version(packageVersion())
    // kubectl's -h, for every command.
    .help()
    .alias("h", "help")
    .example(
      "$0 list -n kube-image-cleanup",
      "from a workstation: what the installed release would delete",
    )
    .example("$0 report -n kube-image-cleanup", "the last runs of the installed release")
    .example("$0 <command> -h", "the options and examples of one command")
    .showHelpOnFail(false)
    .wrap(Math.min(110, process.stdout.columns || 100))
    .fail((msg, err) => {
      // yargs' typings say `err` is always set; it is undefined for its validation failures (unknown
      // flag, bad choice) and a YError for its parse errors (a flag without its value). Both are
      // bad input; anything else was thrown by a command handler and is passed on as it is.
      const thrown = err as Error | undefined;
      if (thrown !== undefined && thrown.name !== "YError") throw thrown;
      throw usageError(msg || (thrown?.message ?? ""), usage);
    });
  skipHelpCache(parser);
  for (const command of commands) {
    parser.command({
      command: commandSyntax(command),
      describe: command.describe,
      builder: command.builder,
      handler: async (args) => {
        checkBooleans(command.options, argv, env);
        code = await command.handler(args, line);
      },
    });
  }
  try {
    await parser.parseAsync();
  } catch (err) {
    return reportFatal(attributeToEnv(err, usage), {
      format: line.logFormat,
      hint: `see kube-image-cleanup${line.command === undefined ? "" : ` ${line.command}`} --help`,
      stderr: (text) => process.stderr.write(text),
    });
  }
  return code;
}

process.exitCode = await main(hideBin(process.argv));
