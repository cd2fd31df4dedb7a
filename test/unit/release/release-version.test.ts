// scripts/release-version.sh: the release workflow's first step. A tag publishes one version as the
// image tag, the npm package and the chart's appVersion; anything that disagrees stops the release
// before anything is pushed, saying what to change.
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

const repoRoot = join(import.meta.dirname, "..", "..", "..");
const version = (
  JSON.parse(readFileSync(join(repoRoot, "package.json"), "utf8")) as { version: string }
).version;

function check(tag: string) {
  const r = spawnSync("bash", [join(repoRoot, "scripts/release-version.sh"), tag], {
    encoding: "utf8",
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe("scripts/release-version.sh", () => {
  it("prints the version when the tag, package.json, appVersion and the Artifact Hub image agree", () => {
    expect(check(`v${version}`)).toEqual({ status: 0, stdout: `${version}\n`, stderr: "" });
  });

  it("stops a tag of another version, naming the file and the command that fixes it", () => {
    const r = check("v99.0.0");
    expect(r.status).toBe(1);
    expect(r.stdout).toBe("");
    expect(r.stderr).toBe(
      `release-version: package.json has version ${version}, the tag says 99.0.0: set it with npm version 99.0.0 --no-git-tag-version\n`,
    );
  });

  for (const tag of ["0.1.0", "v0.1", "v0.1.0.1", "release-0.1.0", "v0.1.0;rm"]) {
    it(`refuses the tag ${JSON.stringify(tag)}`, () => {
      const r = check(tag);
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(/is not vMAJOR\.MINOR\.PATCH\[-PRERELEASE\]/);
    });
  }
});
