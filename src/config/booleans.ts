// yargs reads a boolean option as true only when it is given bare or as exactly "true": it takes
// `--dry-run=yes`, `KIC_DRY_RUN=1` or `KIC_DRY_RUN=TRUE` as false, silently. For --dry-run that
// turns a rehearsal into a real deletion, so anything but a bare flag, true or false is refused.
import type { Options } from "yargs";
import { Parser } from "yargs/helpers";
import { ConfigError } from "../errors.js";
import { envName } from "./usage-errors.js";

const camel = (key: string) => key.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());

/**
 * Throws a ConfigError for a boolean option of `options` given as `--flag=<not true/false>` in
 * `argv` (up to a `--`) or as a KIC_ variable other than "true" or "false".
 */
export function checkBooleans(
  options: Readonly<Record<string, Options>>,
  argv: readonly string[],
  env: NodeJS.ProcessEnv,
): void {
  const keys = Object.entries(options)
    .filter(([, o]) => o.type === "boolean")
    .map(([k]) => k);
  // Read as text, so the value yargs would turn into false is seen as given.
  const typed = Parser([...argv], { string: [...keys, ...keys.map(camel)] });
  for (const key of keys) {
    for (const value of [typed[key], typed[camel(key)]].flat()) {
      if (value === undefined || value === "" || value === false) continue;
      if (value !== "true" && value !== "false") {
        throw new ConfigError(
          `--${key}`,
          value,
          `give --${key} alone (or --${key}=true), or --${key}=false`,
        );
      }
    }
    const variable = envName(key);
    const fromEnv = env[variable];
    if (fromEnv !== undefined && fromEnv !== "true" && fromEnv !== "false") {
      throw new ConfigError(variable, fromEnv, "use true or false");
    }
  }
}
