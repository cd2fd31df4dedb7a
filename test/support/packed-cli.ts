// The CLI as npm publishes it: `npm pack` of a copy of the checkout's package files with src/
// compiled into it, then `npm install <tarball>` into an empty directory, as `npx kube-image-cleanup`
// or `npm install -g kube-image-cleanup` would on a workstation. Never the worktree's own dist/,
// which may be stale.
import { execFile } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";

// Asynchronous on purpose: compiling and installing take tens of seconds on a busy machine, and a
// blocked vitest worker misses its RPC deadline (60 s).
const run = promisify(execFile);

const repoRoot = join(import.meta.dirname, "..", "..");

/** The files next to dist/ that npm packs whatever `files` says, and those `files` adds. */
const PACKAGE_FILES = ["package.json", "README.md", "LICENSE"];

export interface PackedCli {
  /** The tarball `npm pack` wrote. */
  tarball: string;
  /** The installed command, `<prefix>/node_modules/.bin/kube-image-cleanup`. */
  bin: string;
  /** Where the package was installed (`npm install --prefix`). */
  prefix: string;
  /** Removes the tarball, the package copy and the install. */
  remove(): void;
}

async function npm(args: string[], cwd: string): Promise<void> {
  // --prefix / cwd only: under `npm test` npm's own npm_config_* variables are in the environment.
  await run("npm", args, { cwd, encoding: "utf8", maxBuffer: 16 << 20 });
}

/** Packs the package (src/ compiled with the build's tsconfig), returns the tarball's path. */
export async function packCli(): Promise<{ tarball: string; dir: string }> {
  const dir = mkdtempSync(join(tmpdir(), "kic-pack-"));
  const pkg = join(dir, "package");
  await run(join(repoRoot, "node_modules/.bin/tsc"), [
    "-p",
    join(repoRoot, "tsconfig.build.json"),
    "--outDir",
    join(pkg, "dist"),
  ]);
  for (const f of PACKAGE_FILES) copyFileSync(join(repoRoot, f), join(pkg, f));
  // No lifecycle scripts: the package has none to run at pack time (prepack would build in place).
  await npm(["pack", "--ignore-scripts", "--pack-destination", dir, "--loglevel=error"], pkg);
  const tarball = readdirSync(dir).find((f) => f.endsWith(".tgz"));
  if (tarball === undefined) throw new Error(`npm pack wrote no tarball into ${dir}`);
  return { tarball: join(dir, tarball), dir };
}

/** Packs the CLI and installs the tarball into an empty directory of its own. */
export async function installPackedCli(): Promise<PackedCli> {
  const { tarball, dir } = await packCli();
  const prefix = join(dir, "workstation");
  try {
    mkdirSync(prefix, { recursive: true });
    // An empty project, as a workstation's directory would be: no lock file, no node_modules.
    writeFileSync(join(prefix, "package.json"), '{ "private": true }\n');
    await npm(
      [
        "install",
        "--prefix",
        prefix,
        tarball,
        "--omit=dev",
        "--prefer-offline",
        "--no-audit",
        "--no-fund",
        "--loglevel=error",
      ],
      prefix,
    );
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  return {
    tarball,
    prefix,
    bin: join(prefix, "node_modules", ".bin", "kube-image-cleanup"),
    remove: () => {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
