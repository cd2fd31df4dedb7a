// Parses a command line with one command's own option table and builder, strictly as the CLI does
// (an unknown flag or a bad choice throws), keeping the arguments instead of running the command:
// what the chart renders must be a command line the CLI accepts.
import yargs from "yargs";
import type { ExitingCommand } from "../../../src/commands/index.js";
import { commandSyntax } from "../../../src/commands/usage.js";

export function parseCommand(
  command: ExitingCommand,
  args: readonly string[],
): Record<string, unknown> {
  if (args[0] !== command.command)
    throw new Error(`expected a ${command.command} command line, got: ${args.join(" ")}`);
  let parsed: Record<string, unknown> | undefined;
  const parser = yargs([...args])
    .strict()
    .exitProcess(false);
  // Typed as always set; `err` is undefined for validation failures (unknown flag, bad choice).
  parser.fail((msg, err) => {
    throw (err as Error | undefined) ?? new Error(msg);
  });
  parser.command({
    command: commandSyntax(command),
    describe: command.describe,
    builder: command.builder,
    handler: (argv) => {
      parsed = argv;
    },
  });
  parser.parseSync();
  if (!parsed) throw new Error(`the ${command.command} command did not receive the arguments`);
  return parsed;
}
