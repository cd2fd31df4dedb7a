import { describe, expect, it } from "vitest";
import type { Options } from "yargs";
import { checkBooleans } from "../../../src/config/booleans.js";
import { ConfigError } from "../../../src/errors.js";

const options: Record<string, Options> = {
  "dry-run": { type: "boolean", default: false },
  include: { type: "string", array: true },
};

function error(argv: string[], env: NodeJS.ProcessEnv = {}): string | undefined {
  try {
    checkBooleans(options, argv, env);
    return undefined;
  } catch (err) {
    if (err instanceof ConfigError) return err.message;
    throw err;
  }
}

describe("checkBooleans: what yargs would silently read as false is refused", () => {
  [
    { argv: ["--dry-run=yes"], says: 'invalid --dry-run: given "yes"' },
    { argv: ["--dry-run=1"], says: 'invalid --dry-run: given "1"' },
    { argv: ["--dryRun=TRUE"], says: 'invalid --dry-run: given "TRUE"' },
    {
      argv: [],
      env: { KIC_DRY_RUN: "1" },
      says: 'invalid KIC_DRY_RUN: given "1"; use true or false',
    },
    { argv: [], env: { KIC_DRY_RUN: "True" }, says: 'invalid KIC_DRY_RUN: given "True"' },
    { argv: [], env: { KIC_DRY_RUN: "" }, says: 'invalid KIC_DRY_RUN: given ""' },
  ].forEach((t) => {
    it(`refuses ${JSON.stringify(t.argv)} ${JSON.stringify(t.env ?? {})}`, () => {
      expect(error(t.argv, t.env)).toContain(t.says);
    });
  });

  [
    { argv: ["run", "--dry-run"] },
    { argv: ["run", "--dry-run", "--include", "x"] },
    { argv: ["--dry-run=true"] },
    { argv: ["--dry-run=false"] },
    { argv: ["--no-dry-run"] },
    { argv: [], env: { KIC_DRY_RUN: "true" } },
    { argv: [], env: { KIC_DRY_RUN: "false" } },
    // After `--` it is another command line (schedule's run), checked there.
    { argv: ["--", "run", "--dry-run=yes"] },
    { argv: ["--include=yes"] },
  ].forEach((t) => {
    it(`accepts ${JSON.stringify(t.argv)} ${JSON.stringify(t.env ?? {})}`, () => {
      expect(error(t.argv, t.env)).toBeUndefined();
    });
  });
});
