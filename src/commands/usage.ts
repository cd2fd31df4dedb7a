// How a command's --help ends, declared as data: the epilogue (what the command does to a node, its
// exit codes) and its examples, each a command line (`$0` is the program) and what it does.
import type { Argv } from "yargs";

export interface Usage {
  epilogue?: string;
  examples: readonly (readonly [commandLine: string, meaning: string])[];
}

export function withUsage<T>(y: Argv<T>, usage: Usage): Argv<T> {
  let out = usage.epilogue === undefined ? y : y.epilogue(usage.epilogue);
  for (const [commandLine, meaning] of usage.examples) out = out.example(commandLine, meaning);
  return out;
}

/** The command as yargs declares it: its name, then its positional arguments (`pull [image..]`). */
export function commandSyntax(command: { command: string; positional?: string }): string {
  return command.positional === undefined
    ? command.command
    : `${command.command} ${command.positional}`;
}
