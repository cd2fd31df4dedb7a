// Small checks shared by the option tables: each turns one parsed argument into a typed value or
// throws a ConfigError naming the flag, what was given and what is allowed.
import { ConfigError } from "../errors.js";

/** A repeatable text option: absent is an empty list, one value is a list of one. */
export function strings(key: string, value: unknown): string[] {
  if (value === undefined) return [];
  const list = Array.isArray(value) ? (value as unknown[]) : [value];
  return list.map((v) => {
    if (typeof v !== "string" && typeof v !== "number") throw new ConfigError(key, v, "give text");
    return String(v);
  });
}

/**
 * The --include globs, at least one: without one a run would have nothing to match, so it stops
 * before it starts. `consequence` says what that protects (the agent's or the run's wording).
 */
export function includeGlobs(value: unknown, consequence: string): string[] {
  const include = strings("--include", value);
  if (include.length === 0) {
    throw new ConfigError(
      "--include",
      undefined,
      `give at least one glob, e.g. --include 'docker.io/acme/*' (or KIC_INCLUDE); ${consequence}`,
    );
  }
  return include;
}

/** Absent is undefined; given, it must not be empty. */
export function optionalString(key: string, value: unknown): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== "string" || value === "")
    throw new ConfigError(key, value, "give a non-empty value");
  return value;
}

export function oneOf<T extends string>(key: string, value: unknown, allowed: readonly T[]): T {
  const found = allowed.find((a) => a === value);
  if (found === undefined) throw new ConfigError(key, value, `use one of ${allowed.join(", ")}`);
  return found;
}

/** Repeated and/or comma-separated names: `--nodes a,b --nodes c`. */
export function nameList(key: string, value: unknown): string[] {
  const names = strings(key, value)
    .flatMap((s) => s.split(","))
    .map((s) => s.trim())
    .filter((s) => s !== "");
  for (const name of names) {
    if (!/^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/.test(name)) {
      throw new ConfigError(
        key,
        name,
        "give node names as Kubernetes spells them (lowercase DNS names)",
      );
    }
  }
  return [...new Set(names)];
}
