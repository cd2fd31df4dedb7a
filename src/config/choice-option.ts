// One way to declare an option that takes one of a closed set of words with a default (`--client`,
// `--log-format`, `--action`, `--helper-mode`, ...): yargs refuses any other word and names those
// allowed.
import type { Options } from "yargs";

export function choiceOption<const C extends readonly string[]>(
  choices: C,
  fallback: C[number],
  describe: string,
) {
  return { choices, default: fallback, describe } as const satisfies Options;
}

/** `--log-format`: readable lines or pino JSON; `describe` says whose log it is. */
export const logFormatOption = (describe: string) =>
  choiceOption(["pretty", "json"], "pretty", describe);
