// The assertions every "this pattern is refused" case makes (patterns.test.ts, grep-patterns.test.ts):
// a ConfigError that names the option and the value as given, and says why.
import { expect } from "vitest";
import { compilePatterns, type PatternRole } from "../../../src/config/patterns.js";
import { ConfigError } from "../../../src/errors.js";

export function expectRefused(role: PatternRole, pattern: string, why: RegExp): void {
  let err: unknown;
  try {
    compilePatterns(`--${role}`, [pattern], role);
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(ConfigError);
  const e = err as ConfigError;
  expect(e.key).toBe(`--${role}`);
  expect(e.given).toBe(pattern);
  expect(e.message).toContain(`invalid --${role}: given ${JSON.stringify(pattern)}`);
  expect(e.message).toMatch(why);
}
