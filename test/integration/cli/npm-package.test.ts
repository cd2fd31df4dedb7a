// The CLI as npm publishes it (`npx kube-image-cleanup list ...` on a workstation): `npm pack` of
// the package files with src/ compiled (test/support/packed-cli.ts), then exactly what is in the
// tarball and what package.json promises (bin, engines), then the tarball installed into an empty
// directory and run. Running it against a real API server is test/integration/chart/
// workstation.test.ts (cluster lane). No cluster here.
import { execFile, execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { installPackedCli, type PackedCli } from "../../support/packed-cli.js";

const repoRoot = join(import.meta.dirname, "..", "..", "..");
let packed: PackedCli | undefined;
let files: string[] = [];

interface PackageJson {
  name: string;
  version: string;
  type: string;
  bin: Record<string, string>;
  files: string[];
  engines: { node: string };
  dependencies: Record<string, string>;
  repository: { url: string };
  scripts: Record<string, string>;
}
const pkg = JSON.parse(readFileSync(join(repoRoot, "package.json"), "utf8")) as PackageJson;

beforeAll(async () => {
  packed = await installPackedCli();
  files = execFileSync("tar", ["-tzf", packed.tarball], { encoding: "utf8" })
    .split("\n")
    .filter(Boolean)
    .map((f) => f.replace(/^package\//, ""))
    .sort();
}, 300_000);
afterAll(() => {
  packed?.remove();
});

describe("npm pack", () => {
  it("names the tarball after the package and its version", () => {
    expect(packed?.tarball.endsWith(`/kube-image-cleanup-${pkg.version}.tgz`)).toBe(true);
  });

  it("holds dist/ (one .js per source file), package.json, README.md and LICENSE, nothing else", () => {
    const sources = readdirSync(join(repoRoot, "src"), { recursive: true, withFileTypes: true })
      .filter((e) => e.isFile() && e.name.endsWith(".ts"))
      .map(
        (e) =>
          `dist/${relative(join(repoRoot, "src"), join(e.parentPath, e.name)).replace(/\.ts$/, ".js")}`,
      );
    expect(files).toEqual(["LICENSE", "README.md", "package.json", ...sources].sort());
    expect(pkg.files).toEqual(["dist"]);
  });

  it("has the command npx runs: bin kube-image-cleanup -> dist/cli.js, with a node shebang", () => {
    expect(pkg.bin).toEqual({ "kube-image-cleanup": "dist/cli.js" });
    const cli = execFileSync("tar", ["-xzOf", packed?.tarball ?? "", "package/dist/cli.js"], {
      encoding: "utf8",
    });
    expect(cli.split("\n")[0]).toBe("#!/usr/bin/env node");
    expect(pkg.type).toBe("module");
  });

  it("states the Node it needs, the one the image runs (Node 20)", () => {
    expect(pkg.engines.node).toBe(">=20.19");
    expect(readFileSync(join(repoRoot, "Dockerfile"), "utf8")).toMatch(/^ARG NODE_IMAGE=node:20-/m);
  });

  it("runs no install script and needs no native addon: one package for every platform and the arm64 image", () => {
    expect(Object.keys(pkg.scripts)).not.toEqual(
      expect.arrayContaining(["preinstall", "install", "postinstall", "prepare", "prepack"]),
    );
    const lock = JSON.parse(readFileSync(join(repoRoot, "package-lock.json"), "utf8")) as {
      packages: Record<
        string,
        {
          dev?: boolean;
          hasInstallScript?: boolean;
          os?: string[];
          cpu?: string[];
          optional?: boolean;
        }
      >;
    };
    const production = Object.entries(lock.packages).filter(
      ([path, p]) => path !== "" && p.dev !== true,
    );
    expect(production.length).toBeGreaterThan(10);
    for (const [path, p] of production) {
      expect(p.hasInstallScript, path).toBeUndefined();
      expect(p.os, path).toBeUndefined();
      expect(p.cpu, path).toBeUndefined();
    }
  });

  it("says where it comes from (npm provenance checks repository.url against the building repository)", () => {
    expect(pkg.repository.url).toBe(
      "git+https://github.com/kube-image-cleanup/kube-image-cleanup.git",
    );
  });
});

describe("the tarball installed into an empty directory, as npx does", () => {
  const home = mkdtempSync(join(tmpdir(), "kic-npx-home-"));
  afterAll(() => {
    rmSync(home, { recursive: true, force: true });
  });

  /** The installed command with nothing from this environment but PATH and a fresh HOME. */
  function kic(args: string[], env: Record<string, string> = {}) {
    return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      execFile(
        packed?.bin ?? "",
        args,
        { env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: home, ...env }, timeout: 60_000 },
        (err, stdout, stderr) => {
          resolve({
            code: err === null ? 0 : typeof err.code === "number" ? err.code : null,
            stdout,
            stderr,
          });
        },
      );
    });
  }

  it("prints its version", async () => {
    expect(await kic(["--version"])).toEqual({ code: 0, stdout: `${pkg.version}\n`, stderr: "" });
  });

  it("prints list's help with its examples", async () => {
    const r = await kic(["list", "-h"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("kube-image-cleanup list -n kube-image-cleanup");
  });

  it("defaults the helper image to the published image of its own version", async () => {
    const r = await kic(["run", "-h"]);
    expect(r.stdout).toContain(`ghcr.io/kube-image-cleanup/kube-image-cleanup:<version>`);
    // The version the default resolves to is the package's (read from the installed package.json).
    const installed = JSON.parse(
      readFileSync(
        join(packed?.prefix ?? "", "node_modules/kube-image-cleanup/package.json"),
        "utf8",
      ),
    ) as { version: string };
    expect(installed.version).toBe(pkg.version);
  });

  it("goes as far as the API server a kubeconfig names: list -n looks for the release's CronJob", async () => {
    const kubeconfig = join(home, "down.kubeconfig");
    writeFileSync(
      kubeconfig,
      [
        "apiVersion: v1",
        "kind: Config",
        'clusters: [{name: c, cluster: {server: "https://127.0.0.1:1", insecure-skip-tls-verify: true}}]',
        "users: [{name: u, user: {token: t}}]",
        "contexts: [{name: c, context: {cluster: c, user: u}}]",
        "current-context: c",
        "",
      ].join("\n"),
    );
    const r = await kic(["list", "-n", "kube-image-cleanup"], { KUBECONFIG: kubeconfig });
    expect(r.code).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr).toMatch(
      /^error: cannot reach the API server to list cronjobs in namespace kube-image-cleanup: https:\/\/127\.0\.0\.1:1 .*ECONNREFUSED/,
    );
  });
});
