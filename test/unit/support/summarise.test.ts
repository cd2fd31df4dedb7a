// The closing line of `npm test` counts what really happened: real vitest runs on tiny fixture test
// files (in temp dirs), reported by test/support/outcome-reporter.ts and counted by
// test/support/summarise.mjs, exactly as test/run-all.sh does it.
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";

const repoRoot = join(import.meta.dirname, "..", "..", "..");
const vitestBin = join(repoRoot, "node_modules", "vitest", "vitest.mjs");
const reporter = join(repoRoot, "test", "support", "outcome-reporter.ts");
const summariseScript = join(repoRoot, "test", "support", "summarise.mjs");
const dirs: string[] = [];

afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** The environment of a fresh `npm test`: nothing of the vitest running this file leaks in. */
function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !k.startsWith("VITEST") && k !== "CI"),
  );
  return { ...env, NODE_ENV: "test", ...extra };
}

/** Runs vitest on fixture files in a temp dir; returns its exit code and the outcome dir. */
function runFixture(
  files: Record<string, string>,
  env: Record<string, string> = {},
): { code: number | null; out: string; dir: string; output: string } {
  const dir = mkdtempSync(join(tmpdir(), "kic-summarise-"));
  dirs.push(dir);
  symlinkSync(join(repoRoot, "node_modules"), join(dir, "node_modules"));
  writeFileSync(join(dir, "package.json"), '{ "type": "module" }\n');
  writeFileSync(
    join(dir, "vitest.config.mjs"),
    'export default { test: { include: ["**/*.test.mjs"] } };\n',
  );
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  const out = join(dir, "out");
  const r = spawnSync(
    process.execPath,
    [
      vitestBin,
      "run",
      "--root",
      dir,
      "--reporter=dot",
      `--reporter=${reporter}`,
      `--outputFile.outcomes=${join(out, "fixture.json")}`,
    ],
    { cwd: dir, env: cleanEnv(env), encoding: "utf8", timeout: 60_000 },
  );
  return { code: r.status, out, dir, output: r.stdout + r.stderr };
}

function summarise(out: string, suites = ["fixture"]): { code: number | null; lines: string[] } {
  const r = spawnSync(process.execPath, [summariseScript, out, ...suites], { encoding: "utf8" });
  return { code: r.status, lines: r.stdout.trimEnd().split("\n") };
}

const head = 'import { afterAll, beforeAll, describe, expect, it } from "vitest";\n';

interface Case {
  name: string;
  files: Record<string, string>;
  line: string;
  note: RegExp | undefined;
}

describe("the closing line of npm test", () => {
  (<Case[]>[
    {
      name: "one failing test inside nested describe blocks is 1 failed",
      files: {
        "a.test.mjs": `${head}describe("outer", () => { describe("inner", () => {
          it("fails", () => { expect(1).toBe(2); });
          it("passes", () => {});
        }); });`,
        "b.test.mjs": `${head}it("p1", () => {}); it("p2", () => {});`,
      },
      line: "3 passed, 1 failed",
      note: /^fixture: failed: a\.test\.mjs > outer > inner > fails: .*expected 1 to be 2/,
    },
    {
      name: "tests behind a failed beforeAll are failed, not skipped",
      files: {
        "a.test.mjs": `${head}describe("needs a server", () => {
          beforeAll(() => { throw new Error("server did not start"); });
          it("t1", () => {}); it("t2", () => {});
        });
        it("outside", () => {});`,
      },
      line: "1 passed, 2 failed",
      note: /^fixture: a\.test\.mjs > needs a server: 2 test\(s\) did not run and count as failed: server did not start$/,
    },
    {
      name: "a file-level beforeAll failure fails every test of the file",
      files: {
        "a.test.mjs": `${head}beforeAll(() => { throw new Error("no cluster"); });
          it("t1", () => {}); describe("d", () => { it("t2", () => {}); });`,
        "b.test.mjs": `${head}it("p", () => {});`,
      },
      line: "1 passed, 2 failed",
      note: /^fixture: a\.test\.mjs: 2 test\(s\) did not run and count as failed: no cluster$/,
    },
    {
      name: "declared skips and todos are skipped, and nothing failed",
      files: {
        "a.test.mjs": `${head}it("p", () => {}); it.skip("s", () => {}); it.todo("t");`,
      },
      line: "1 passed, 0 failed, 2 skipped",
      note: undefined,
    },
    {
      name: "a file that throws while loading is 1 failed",
      files: {
        "a.test.mjs": `${head}throw new Error("import crashed");`,
        "b.test.mjs": `${head}it("p", () => {});`,
      },
      line: "1 passed, 1 failed",
      note: /^fixture: a\.test\.mjs: failed outside any test, counted as 1 failed: import crashed$/,
    },
    {
      name: "a failing afterAll is 1 failed although every test passed",
      files: {
        "a.test.mjs": `${head}describe("d", () => {
          afterAll(() => { throw new Error("cleanup failed"); });
          it("p", () => {});
        });`,
      },
      line: "1 passed, 1 failed",
      note: /^fixture: a\.test\.mjs > d: failed outside any test, counted as 1 failed: cleanup failed$/,
    },
  ]).forEach((t) => {
    it(t.name, () => {
      const run = runFixture(t.files);
      const s = summarise(run.out);
      expect(s.lines.at(-1), run.output).toBe(t.line);
      expect(s.code).toBe(t.line.includes(" 0 failed") ? 0 : 1);
      if (t.note) expect(s.lines.slice(0, -1)).toEqual([expect.stringMatching(t.note)]);
      else expect(s.lines).toHaveLength(1);
    });
  });

  it("a suite that crashed without writing its outcome file is 1 failed", () => {
    const run = runFixture({ "a.test.mjs": `${head}it("p", () => {});` });
    // "integration" never wrote its file (its vitest run was killed); "e2e" was cut off mid-write.
    writeFileSync(join(run.out, "e2e.json"), '{"reason":"passed","tests":[{"na');
    const s = summarise(run.out, ["fixture", "integration", "e2e"]);
    expect(s.lines).toEqual([
      "integration: no readable outcome file: the vitest run ended before writing it; counted as 1 failed",
      "e2e: no readable outcome file: the vitest run ended before writing it; counted as 1 failed",
      "1 passed, 2 failed",
    ]);
    expect(s.code).toBe(1);
  });
});

describe("CI=true (what .ci/run sets)", () => {
  it(".ci/run runs npm test with CI=true", () => {
    const bin = mkdtempSync(join(tmpdir(), "kic-ci-run-"));
    dirs.push(bin);
    // A stand-in npm on PATH that records the environment .ci/run gives `npm test`.
    writeFileSync(join(bin, "npm"), '#!/bin/sh\necho "npm $* CI=$CI"\n', { mode: 0o755 });
    const r = spawnSync("bash", [join(repoRoot, ".ci", "run")], {
      env: cleanEnv({ PATH: `${bin}:${process.env.PATH ?? ""}` }),
      encoding: "utf8",
    });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toBe("npm test CI=true\n");
  });

  it("vitest refuses a committed .only", () => {
    const files = { "a.test.mjs": `${head}it.only("focused", () => {}); it("other", () => {});` };
    const run = runFixture(files, { CI: "true" });
    expect(run.code).not.toBe(0);
    expect(run.output).toMatch(/Unexpected \.only modifier/);
    expect(summarise(run.out).lines.at(-1)).toBe("0 passed, 1 failed, 1 skipped");
  });

  it("vitest fails a missing snapshot instead of writing it", () => {
    const files = {
      "a.test.mjs": `${head}it("renders", () => { expect({ a: 1 }).toMatchSnapshot(); });`,
    };
    const run = runFixture(files, { CI: "true" });
    expect(run.code).not.toBe(0);
    expect(existsSync(join(run.dir, "__snapshots__"))).toBe(false);
    expect(summarise(run.out).lines.at(-1)).toBe("0 passed, 1 failed");
  });
});
