// yargs reports what it rejects (an unknown flag or command, a value outside `choices`, a flag
// without its value, a missing required flag) as an English sentence. This module turns each such
// sentence into the same ConfigError every other bad input gets: the key (flag, or the KIC_
// variable it came from), what was given and what is accepted. The CLI pins yargs' locale to
// English, so the sentences matched here are the ones yargs prints.
import { ConfigError } from "../errors.js";
import { closest } from "./closest.js";

export const ENV_PREFIX = "KIC";

/** What the failing parse was about, for naming keys and suggesting the right spelling. */
export interface UsageContext {
  /** The command being parsed (`run`), or undefined at the top level. */
  command: string | undefined;
  /** Every command name. */
  commands: readonly string[];
  /** The options the command declares (kebab-case, without dashes). */
  options: readonly string[];
  /** Keys given on the command line (as yargs parsed it, without the environment). */
  onCommandLine: Readonly<Record<string, unknown>>;
  /** The message given to `demandCommand`, meaning "no command was given". */
  noCommandMessage: string;
  env: NodeJS.ProcessEnv;
}

/** `nodeName` or `node-name` -> `node-name`. */
export function kebab(key: string): string {
  return key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

/** `node-name` -> `KIC_NODE_NAME`, the variable yargs' `.env("KIC")` reads for it. */
export function envName(option: string): string {
  return `${ENV_PREFIX}_${kebab(option).replace(/-/g, "_").toUpperCase()}`;
}

/**
 * The key to name for option `option`: the flag, or the KIC_ variable when the value came from the
 * environment (the flag is not on the command line and the variable is set).
 */
export function keyOf(option: string, ctx: Pick<UsageContext, "onCommandLine" | "env">): string {
  const name = kebab(option);
  const variable = envName(name);
  if (!(name in ctx.onCommandLine) && ctx.env[variable] !== undefined) return variable;
  return `--${name}`;
}

/**
 * A ConfigError raised with a flag as key (`--client`, `--helper-tolerations operator`), renamed to
 * the KIC_ variable when that is where the value came from. Other errors are returned as they are.
 */
export function attributeToEnv(
  err: unknown,
  ctx: Pick<UsageContext, "onCommandLine" | "env">,
): unknown {
  if (!(err instanceof ConfigError)) return err;
  const m = /^--([a-z][a-z0-9-]*)(.*)$/.exec(err.key);
  if (m === null) return err;
  const [, flag = "", rest = ""] = m;
  const key = keyOf(flag, ctx);
  return key === `--${flag}` ? err : new ConfigError(`${key}${rest}`, err.given, err.allowed);
}

/** `"a", "b"` (yargs' list of quoted values) -> `a, b`. */
function unquoteList(text: string): string {
  return text
    .split(/,\s*/)
    .map((v) => v.replace(/^"(.*)"$/, "$1"))
    .join(", ");
}

function unknownOption(name: string, ctx: UsageContext): ConfigError {
  const key = keyOf(name, ctx);
  const flag = kebab(name);
  const given = key.startsWith("--") ? ctx.onCommandLine[flag] : ctx.env[key];
  const suggestion = closest(flag, ctx.options);
  const where = ctx.command === undefined ? "kube-image-cleanup" : ctx.command;
  return new ConfigError(
    key,
    given,
    `not an option of ${where}` +
      (suggestion === undefined
        ? ""
        : `; did you mean ${key.startsWith("--") ? `--${suggestion}` : envName(suggestion)}?`),
  );
}

function unknownCommand(word: string, ctx: UsageContext): ConfigError {
  const suggestion = closest(word, ctx.commands);
  return new ConfigError(
    "command",
    word,
    `use one of ${ctx.commands.join(", ")}${suggestion === undefined ? "" : ` (did you mean ${suggestion}?)`}`,
  );
}

/** The ConfigError for a message yargs failed with. */
export function usageError(message: string, ctx: UsageContext): ConfigError {
  const text = message.trim();
  if (text === ctx.noCommandMessage) {
    return new ConfigError("command", undefined, `choose one of ${ctx.commands.join(", ")}`);
  }
  let m = /^Unknown (?:argument|arguments|command|commands): (.+)$/.exec(text);
  if (m) {
    const unknown = (m[1] ?? "").split(", ");
    // Positional words are reported as they are: at the top level that is a mistyped command.
    const positional = (ctx.onCommandLine._ as unknown[] | undefined)?.map(String) ?? [];
    const word = unknown.find((u) => positional.includes(u));
    if (word !== undefined) {
      return ctx.command === undefined
        ? unknownCommand(word, ctx)
        : new ConfigError(
            "arguments",
            word,
            `${ctx.command} takes no positional arguments; quote globs ('docker.io/acme/*') so the shell does not expand them`,
          );
    }
    const first = unknown[0] ?? "";
    return unknownOption(first, ctx);
  }
  m = /^Invalid values:\s*Argument: (\S+), Given: (.+), Choices: (.+)$/m.exec(text);
  if (m) {
    const [, option = "", given = "", choices = ""] = m;
    return new ConfigError(
      keyOf(option, ctx),
      given.replace(/^"(.*)"$/, "$1"),
      `use one of ${unquoteList(choices)}`,
    );
  }
  m = /^Not enough arguments following: (\S+)$/.exec(text);
  if (m) {
    const option = m[1] ?? "";
    return new ConfigError(keyOf(option, ctx), undefined, `give a value after --${kebab(option)}`);
  }
  m = /^Missing required arguments?: (.+)$/.exec(text);
  if (m) {
    const option = (m[1] ?? "").split(", ")[0] ?? "";
    return new ConfigError(
      `--${kebab(option)}`,
      undefined,
      `--${kebab(option)} is required (or ${envName(option)})`,
    );
  }
  // Anything else yargs may say: its own sentence, first line only.
  return new ConfigError("arguments", undefined, text.split("\n")[0] ?? text);
}
