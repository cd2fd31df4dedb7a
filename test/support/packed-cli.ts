// The CLI as npm publishes it: `npm pack` of a copy of the checkout's package files with src/
// compiled into it, then `npm install <tarball>` into an empty directory, as `npx kube-image-cleanup`
// or `npm install -g kube-image-cleanup` would on a workstation. Never the worktree's own dist/,
// which may be stale.
import { execFileSync } from "node:child_process";
import { copyFileSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

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

function npm(args: string[], cwd: string): string {
  // --prefix / cwd only: under `npm test` npm's own npm_config_* variables are in the environment.
  return execFileSync("npm", args, { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
}

/** Packs the package (src/ compiled with the build's tsconfig), returns the tarball's path. */
export function packCli(): { tarball: string; dir: string } {
  const dir = mkdtempSync(join(tmpdir(), "kic-pack-"));
  const pkg = join(dir, "package");
  execFileSync(
    join(repoRoot, "node_modules/.bin/tsc"),
    ["-p", join(repoRoot, "tsconfig.build.json"), "--outDir", join(pkg, "dist")],
    { stdio: "inherit" },
  );
  for (const f of PACKAGE_FILES) copyFileSync(join(repoRoot, f), join(pkg, f));
  // No lifecycle scripts: the package has none to run at pack time (prepack would build in place).
  npm(["pack", "--ignore-scripts", "--pack-destination", dir, "--loglevel=error"], pkg);
  const tarball = readdirSync(dir).find((f) => f.endsWith(".tgz"));
  if (tarball === undefined) throw new Error(`npm pack wrote no tarball into ${dir}`);
  return { tarball: join(dir, tarball), dir };
}

/** Packs the CLI and installs the tarball into an empty directory of its own. */
export function installPackedCli(): PackedCli {
  const { tarball, dir } = packCli();
  const prefix = join(dir, "workstation");
  try {
    execFileSync("mkdir", ["-p", prefix]);
    // An empty project, as a workstation's directory would be: no lock file, no node_modules.
    writeFileSync(join(prefix, "package.json"), '{ "private": true }\n');
    npm(
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
