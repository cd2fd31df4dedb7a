// The CLI as it ships: src/ compiled with the build's tsconfig into a temp directory (package.json
// beside dist/, as in the image), so a test runs exactly what `node dist/cli.js` runs, never a stale
// dist/ of the worktree.
import { execFileSync } from "node:child_process";
import { copyFileSync, mkdtempSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";

const repoRoot = join(import.meta.dirname, "..", "..");

/** Compiles src/ and returns the path of the built `dist/cli.js`. */
export function buildCliInTemp(): string {
  const dir = mkdtempSync(join(tmpdir(), "kic-built-cli-"));
  execFileSync(
    join(repoRoot, "node_modules/.bin/tsc"),
    ["-p", join(repoRoot, "tsconfig.build.json"), "--outDir", join(dir, "dist")],
    { stdio: "inherit" },
  );
  copyFileSync(join(repoRoot, "package.json"), join(dir, "package.json"));
  symlinkSync(join(repoRoot, "node_modules"), join(dir, "node_modules"));
  return join(dir, "dist", "cli.js");
}

/** Removes what buildCliInTemp made for `cli` (<dir>/dist/cli.js); "" (never built): nothing. */
export function removeBuiltCli(cli: string): void {
  if (cli !== "") rmSync(dirname(dirname(cli)), { recursive: true, force: true });
}
