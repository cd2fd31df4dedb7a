// What the command line says before it is validated: which command, which keys were typed (as
// opposed to read from KIC_ variables) and which log format errors should use. yargs' own parser
// (yargs-parser, lenient: it never fails) reads it, so an error found by the strict parse can still
// be printed in the format the operator asked for and name the flag or variable that was wrong.
import { Parser } from "yargs/helpers";
import type { Options } from "yargs";
import type { LogFormat } from "../log.js";
import { ENV_PREFIX, envName } from "./usage-errors.js";

export interface CommandLine {
  /** The command named on the command line, if it is one of `commands`. */
  command: string | undefined;
  /** Keys typed before `--` (camelCase and kebab-case, as yargs-parser gives them; `_`: positionals). */
  outer: Readonly<Record<string, unknown>>;
  /** Keys typed anywhere, also in `schedule`'s `-- run ...` part. */
  all: Readonly<Record<string, unknown>>;
  /** How a fatal error is printed: the last `--log-format`, else $KIC_LOG_FORMAT, else pretty. */
  logFormat: LogFormat;
}

export interface CommandShape {
  command: string;
  options: Readonly<Record<string, Options>>;
}

function last(value: unknown): unknown {
  return Array.isArray(value) ? (value as unknown[]).at(-1) : value;
}

/** Reads `argv` leniently, knowing which options of `commands` are booleans (they take no value). */
export function readCommandLine(
  argv: readonly string[],
  commands: readonly CommandShape[],
  env: NodeJS.ProcessEnv = process.env,
): CommandLine {
  const boolean = commands.flatMap((c) =>
    Object.entries(c.options)
      .filter(([, o]) => o.type === "boolean")
      .map(([k]) => k),
  );
  // Aliases (-n, -o, -l, --selector) are read as the option they stand for.
  const alias: Record<string, string[]> = {};
  for (const c of commands) {
    for (const [key, o] of Object.entries(c.options)) {
      if (o.alias !== undefined) alias[key] = [o.alias].flat();
    }
  }
  const outer = Parser([...argv], { boolean, alias, configuration: { "populate--": true } });
  const first = outer._[0];
  const command = commands.find((c) => c.command === String(first))?.command;
  // `schedule ... -- run <run options>`: the part after `--` is a command line of its own.
  const rest = (outer["--"] as unknown[] | undefined)?.map(String) ?? [];
  const inner = rest.length > 0 ? Parser(rest.slice(1), { boolean, alias }) : { _: [] };
  const format =
    last(inner["log-format"]) ?? last(outer["log-format"]) ?? env[`${ENV_PREFIX}_LOG_FORMAT`];
  return {
    command,
    outer,
    all: { ...inner, ...outer, _: outer._ },
    logFormat: format === "json" ? "json" : "pretty",
  };
}

/** Whether option `key` (kebab-case) was given: typed, under any alias, or as its KIC_ variable. */
export function wasGiven(line: CommandLine, key: string, env: NodeJS.ProcessEnv): boolean {
  return key in line.outer || env[envName(key)] !== undefined;
}
