// scripts/check-lock-file.sh, the first step of `npm test`: it passes the committed package.json and
// package-lock.json, and fails, saying what to run, when `npm install` would rewrite the lock file.
// The cases here need no network: npm resolves them from the lock file alone.
import { spawnSync } from "node:child_process";
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { tempDir } from "../support/temp-dir.js";

const repoRoot = join(import.meta.dirname, "..", "..");
const script = join(repoRoot, "scripts", "check-lock-file.sh");
const base = tempDir("kic-lock-file-");
let copies = 0;

/** The script on the repository (no `dir`) or on a copy whose package.json `edit` rewrites. */
function check(edit?: (packageJson: string) => string, env: NodeJS.ProcessEnv = process.env) {
  const args = [script];
  if (edit !== undefined) {
    const dir = join(base, String(copies++));
    mkdirSync(dir);
    copyFileSync(join(repoRoot, "package-lock.json"), join(dir, "package-lock.json"));
    copyFileSync(join(repoRoot, ".npmrc"), join(dir, ".npmrc"));
    writeFileSync(
      join(dir, "package.json"),
      edit(readFileSync(join(repoRoot, "package.json"), "utf8")),
    );
    args.push(dir);
  }
  return spawnSync("bash", args, { encoding: "utf8", env });
}

describe("check-lock-file.sh", () => {
  it("accepts the committed package.json and package-lock.json: npm install leaves the lock file as it is", () => {
    const r = check();
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
  });

  it("fails when package.json drops a dependency the lock file still lists, showing the line and what to run", () => {
    const r = check((p) => {
      const pkg = JSON.parse(p) as { dependencies: Record<string, string> };
      expect(pkg.dependencies.minimatch).toBeDefined();
      delete pkg.dependencies.minimatch;
      return JSON.stringify(pkg, null, 2) + "\n";
    });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^- {8}"minimatch": "/m);
    expect(r.stderr).toContain(
      "package.json and package-lock.json disagree: `npm install` would change package-lock.json " +
        "(diff above, first 60 lines). Run `npm install` and commit package-lock.json with package.json.",
    );
  });

  it("refuses an npm older than the one the lock file is written with, which would drop its libc fields", () => {
    // A stand-in npm that only reports its version: the check must stop before asking it anything.
    const bin = join(base, "old-npm");
    mkdirSync(bin);
    writeFileSync(join(bin, "npm"), "#!/bin/sh\necho 10.8.2\n", { mode: 0o755 });
    const r = check(undefined, { ...process.env, PATH: `${bin}:${process.env.PATH ?? ""}` });
    expect(r.status).toBe(1);
    expect(r.stderr).toBe(
      "npm 10.8.2 is older than the npm package-lock.json is written with (11.11.0, package.json's " +
        "devEngines): it drops the lock file's libc fields, so it would find a difference where there " +
        "is none. Install npm 11.11.0 or later (`npm install -g npm@11`) and run again.\n",
    );
  });

  it("fails when npm cannot read package.json, passing on npm's error and what to run", () => {
    const r = check((p) => p.replace("{", "{,"));
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/EJSONPARSE/);
    expect(r.stderr).toContain(
      "Fix package.json, then run `npm install` and commit package-lock.json with it.",
    );
  });
});
