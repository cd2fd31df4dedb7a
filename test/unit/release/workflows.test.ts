// The release pipeline's workflows, checked where GitHub cannot run them: actionlint (built by
// test/cluster/build-binaries.sh, with shellcheck on every `run:` script) and the facts the release
// depends on. The workflows themselves have not run; see their header comments.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import yaml from "js-yaml";
import { describe, expect, it } from "vitest";
import { cacheDir } from "../../support/cluster.js";

const repoRoot = join(import.meta.dirname, "..", "..", "..");
const actionlintBin = join(cacheDir, "bin", "actionlint");
const workflows = [".github/workflows/ci.yml", ".github/workflows/release.yml"];
const read = (f: string) => readFileSync(join(repoRoot, f), "utf8");

function actionlint(files: string[]) {
  const r = spawnSync(actionlintBin, ["-shellcheck", "shellcheck", "-no-color", ...files], {
    cwd: repoRoot,
    encoding: "utf8",
    timeout: 60_000,
  });
  if (r.error)
    throw new Error(
      `cannot run ${actionlintBin} (test/cluster/build-binaries.sh): ${r.error.message}`,
    );
  return { status: r.status, out: r.stdout + r.stderr };
}

interface Step {
  uses?: string;
  run?: string;
  with?: Record<string, unknown>;
  env?: Record<string, string>;
}
interface Job {
  "runs-on": string;
  needs?: string | string[];
  container?: { image: string; options?: string };
  permissions?: Record<string, string>;
  steps: Step[];
}
interface Workflow {
  on: Record<string, unknown>;
  permissions: Record<string, string>;
  env?: Record<string, string>;
  jobs: Record<string, Job>;
}
const load = (f: string) => yaml.load(read(f)) as Workflow;

describe("GitHub workflows", () => {
  it("pass actionlint, shellcheck included", () => {
    expect(actionlint(workflows)).toEqual({ status: 0, out: "" });
    const version = spawnSync(actionlintBin, ["-version"], { encoding: "utf8" }).stdout;
    expect(version.split("\n")[0]).toBe("v1.7.12");
  });

  it("actionlint can fail: a broken workflow is reported", () => {
    const dir = mkdtempSync(join(tmpdir(), "kic-actionlint-"));
    try {
      const file = join(dir, "broken.yml");
      writeFileSync(
        file,
        "on: push\njobs:\n  a:\n    runs-on: ubuntu-24.04\n    steps:\n      - run: echo ${{ github.nothing }}\n      - run: cd $undefined_dir; ls `pwd`\n",
      );
      const r = actionlint([file]);
      expect(r.status).not.toBe(0);
      expect(r.out).toMatch(/property "nothing" is not defined/);
      expect(r.out).toMatch(/shellcheck reported issue/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("pins every action by its full commit, with the version as a comment", () => {
    for (const f of workflows) {
      for (const m of read(f).matchAll(/uses: (\S+)(.*)$/gm)) {
        expect(m[1], f).toMatch(/^[\w-]+\/[\w-]+@[0-9a-f]{40}$/);
        expect(m[2], f).toMatch(/^ # v\d+\.\d+\.\d+$/);
      }
    }
  });

  it("ci runs the README's test command, as root in Debian 12, with Go and Node", () => {
    const ci = load(".github/workflows/ci.yml");
    expect(Object.keys(ci.on).sort()).toEqual(["pull_request", "push", "workflow_dispatch"]);
    expect(ci.permissions).toEqual({ contents: "read" });
    const job = ci.jobs.test;
    expect(job?.container).toEqual({ image: "debian:12", options: "--privileged --cgroupns=host" });
    const runs = job?.steps.map((s) => s.run).filter(Boolean);
    expect(runs?.at(-1)).toBe("bash .ci/run");
    expect(read(".ci/run")).toMatch(/^npm test$/m);
    const pkg = JSON.parse(read("package.json")) as { scripts: Record<string, string> };
    expect(pkg.scripts.test).toBe("bash test/run-all.sh");
    expect(job?.steps.some((s) => s.uses?.startsWith("actions/setup-go@"))).toBe(true);
    expect(job?.steps.find((s) => s.uses?.startsWith("actions/setup-node@"))?.with).toEqual({
      "node-version": 20,
    });
  });

  describe("release", () => {
    const release = load(".github/workflows/release.yml");
    const steps = (job: string) => release.jobs[job]?.steps ?? [];
    const withOf = (job: string, action: string) =>
      steps(job).find((s) => s.uses?.startsWith(`${action}@`))?.with ?? {};

    it("runs on a version tag, checking the version before anything is published", () => {
      expect(release.on).toEqual({ push: { tags: ["v[0-9]+.[0-9]+.[0-9]+*"] } });
      expect(release.permissions).toEqual({ contents: "read" });
      expect(steps("version").at(-1)?.run).toContain(
        'bash scripts/release-version.sh "$GITHUB_REF_NAME"',
      );
      for (const job of ["image", "chart", "npm"])
        expect([release.jobs[job]?.needs].flat()).toContain("version");
      expect(release.jobs["github-release"]?.needs).toEqual(["version", "image", "chart", "npm"]);
    });

    it("builds the image for linux/amd64 and linux/arm64 and pushes it where the chart and the CLI look", () => {
      const build = withOf("image", "docker/build-push-action");
      expect(build.platforms).toBe("linux/amd64,linux/arm64");
      expect(build.push).toBe(true);
      expect(build.tags).toBe("${{ env.IMAGE }}:${{ needs.version.outputs.version }}");
      expect(withOf("image", "docker/setup-qemu-action")).toEqual({ platforms: "arm64" });
      const image = release.env?.IMAGE;
      expect(image).toBe("ghcr.io/kube-image-cleanup/kube-image-cleanup");
      // The chart's default image and the CLI's default helper image are the published one.
      const values = yaml.load(read("chart/values.yaml")) as { image: { repository: string } };
      expect(values.image.repository).toBe(image);
      expect(read("src/config/helper-options.ts")).toContain(
        `\`${image ?? ""}:\${packageVersion()}\``,
      );
      expect(release.jobs.image?.permissions).toEqual({ contents: "read", packages: "write" });
    });

    it("pushes the packaged chart as an OCI artifact with the pinned helm", () => {
      const run = steps("chart")
        .map((s) => s.run ?? "")
        .join("\n");
      expect(run).toContain("bash test/cluster/build-binaries.sh helm");
      expect(run).toContain('"$helm" package chart --destination chart-package');
      expect(run).toContain('"$helm" push chart-package/kube-image-cleanup-*.tgz "$CHARTS"');
      expect(release.env?.CHARTS).toBe("oci://ghcr.io/kube-image-cleanup/charts");
    });

    it("publishes the CLI to npm from a fresh build, with provenance", () => {
      const runs = steps("npm").map((s) => s.run);
      expect(runs).toEqual([
        undefined,
        undefined,
        "npm ci --no-audit --no-fund",
        "npm run build",
        "npm pack --dry-run",
        "npm publish --provenance --access public",
      ]);
      expect(release.jobs.npm?.permissions).toEqual({ contents: "read", "id-token": "write" });
      expect(withOf("npm", "actions/setup-node")).toEqual({
        "node-version": 20,
        "registry-url": "https://registry.npmjs.org",
      });
    });
  });
});
