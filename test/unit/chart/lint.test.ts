import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import yaml from "js-yaml";
import { chartDir, helm, KUBE_VERSION, repoRoot } from "./helm.js";

const ciFiles = readdirSync(join(chartDir, "ci")).filter((f) => f.endsWith(".yaml"));

describe("helm lint --strict", () => {
  it("has one example per feature in chart/ci, starting with the required values only", () => {
    expect(ciFiles[0]).toBe("01-default-values.yaml");
    expect(ciFiles.every((f) => /^\d\d-[a-z0-9-]+\.yaml$/.test(f))).toBe(true);
  });

  for (const f of ciFiles) {
    it(`passes with ci/${f}`, () => {
      const r = helm([
        "lint",
        chartDir,
        "--strict",
        "--kube-version",
        KUBE_VERSION,
        "-f",
        join(chartDir, "ci", f),
      ]);
      expect(r.stdout + r.stderr).toContain("1 chart(s) linted, 0 chart(s) failed");
      expect(r.status).toBe(0);
    });
  }

  it("fails without the required values, naming them", () => {
    const r = helm(["lint", chartDir, "--strict", "--kube-version", KUBE_VERSION]);
    expect(r.status).toBe(1);
    expect(r.stdout).toContain("schedule is required");
    expect(r.stdout).toContain("include is required");
  });
});

describe("Chart.yaml", () => {
  it("has the package's version as appVersion: the default image tag is the CLI's default helper image tag", () => {
    const chart = yaml.load(readFileSync(join(chartDir, "Chart.yaml"), "utf8")) as {
      appVersion: string;
    };
    const pkg = JSON.parse(readFileSync(join(repoRoot, "package.json"), "utf8")) as {
      version: string;
    };
    expect(chart.appVersion).toBe(pkg.version);
  });
});
