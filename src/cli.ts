#!/usr/bin/env node
// Entry point: wires the yargs commands and maps errors to exit codes in one place.
import yargs from "yargs";
import { hideBin } from "yargs/helpers";
import { exitCodeFor, OperatorError } from "./errors.js";
import { commands } from "./commands/index.js";

export async function main(argv: string[]): Promise<number> {
  let code = 0;
  const parser = yargs(argv)
    .scriptName("kube-image-cleanup")
    .env("KIC")
    .strict()
    .demandCommand(1, "choose a command: run, agent or schedule")
    .recommendCommands()
    .wrap(Math.min(110, process.stdout.columns || 100))
    .fail((msg, err, y) => {
      // yargs validation failures (unknown flag, missing value) are configuration errors: exit 2.
      // Its typings say `err` is always set; at run time it is undefined for those failures.
      const thrown = err as Error | undefined;
      if (thrown) throw thrown;
      process.stderr.write(`${y.help().toString()}\n\nerror: ${msg}\n`);
      code = 2;
    });
  for (const command of commands) {
    parser.command({
      ...command,
      handler: async (args) => {
        code = await command.handler(args);
      },
    });
  }
  try {
    await parser.parseAsync();
  } catch (err) {
    process.stderr.write(`error: ${err instanceof OperatorError ? err.message : String(err)}\n`);
    if (!(err instanceof OperatorError) && err instanceof Error && err.stack) {
      process.stderr.write(`${err.stack}\n`);
    }
    return exitCodeFor(err);
  }
  return code;
}

process.exitCode = await main(hideBin(process.argv));
