// The CLI as it ships: src/ compiled with the build's tsconfig into a temp directory (package.json
// beside dist/, as in the image), so a test runs exactly what `node dist/cli.js` runs, never a stale
// dist/ of the worktree.
import { execFileSync } from "node:child_process";
import { copyFileSync, mkdtempSync, rmSync, statSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";

const repoRoot = join(import.meta.dirname, "..", "..");

/** Compiles src/ into a new temp dir, package.json beside dist/; returns the dir. */
function compileInTemp(): string {
  const dir = mkdtempSync(join(tmpdir(), "kic-built-cli-"));
  execFileSync(
    join(repoRoot, "node_modules/.bin/tsc"),
    ["-p", join(repoRoot, "tsconfig.build.json"), "--outDir", join(dir, "dist")],
    { stdio: "inherit" },
  );
  copyFileSync(join(repoRoot, "package.json"), join(dir, "package.json"));
  return dir;
}

/** Compiles src/ and returns the path of the built `dist/cli.js`; its packages are the checkout's. */
export function buildCliInTemp(): string {
  const dir = compileInTemp();
  symlinkSync(join(repoRoot, "node_modules"), join(dir, "node_modules"));
  return join(dir, "dist", "cli.js");
}

/**
 * The built CLI with production dependencies of its own, for a test that runs it as another user:
 * that user may not reach the checkout (a clone under root's 0700 home, or in any `mktemp -d`), so
 * nothing in the copy points back into it. The packages come from the lock file as the image's
 * come (the Dockerfile's `npm ci --omit=dev`), out of npm's cache, which the checkout's own install
 * filled; every file is made readable and every directory enterable by everyone, whatever the umask.
 * Returns the path of its `dist/cli.js`; removeBuiltCli removes it.
 */
export function buildCliForAnyUser(): string {
  requireEnterableByEveryone(tmpdir());
  const dir = compileInTemp();
  try {
    copyFileSync(join(repoRoot, "package-lock.json"), join(dir, "package-lock.json"));
    // --prefix: under `npm test`, npm's own npm_config_* variables are in the environment; the
    // install goes into this directory and nowhere else.
    execFileSync(
      "npm",
      [
        "ci",
        "--prefix",
        dir,
        "--omit=dev",
        "--prefer-offline",
        "--ignore-scripts",
        "--no-audit",
        "--no-fund",
        "--loglevel=error",
      ],
      { cwd: dir, stdio: ["ignore", "ignore", "pipe"] },
    );
    execFileSync("chmod", ["-R", "a+rX", dir]);
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  return join(dir, "dist", "cli.js");
}

/** Throws, naming the directory, when `dir` or one above it cannot be entered by other users. */
function requireEnterableByEveryone(dir: string): void {
  for (let d = dir; ; d = dirname(d)) {
    const mode = statSync(d).mode & 0o777;
    if ((mode & 0o001) === 0) {
      throw new Error(
        `${d} (mode ${mode.toString(8).padStart(4, "0")}) cannot be entered by other users, so a ` +
          `test that runs the CLI as another user cannot reach its copy in ${dir}: point TMPDIR ` +
          `at a directory everyone can enter (/tmp)`,
      );
    }
    if (dirname(d) === d) return;
  }
}

/** Removes what either build above made for `cli` (<dir>/dist/cli.js); "" (never built): nothing. */
export function removeBuiltCli(cli: string): void {
  if (cli !== "") rmSync(dirname(dirname(cli)), { recursive: true, force: true });
}
