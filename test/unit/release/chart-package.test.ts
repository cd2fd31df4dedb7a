// The chart as the release pushes it: `helm package` (the real helm), then what is in the archive,
// what its Chart.yaml says (kubeVersion, appVersion, Artifact Hub annotations), and that the
// archive itself installs (renders) as the directory does.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import yaml from "js-yaml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { chartDir, helm, KUBE_VERSION, REQUIRED_VALUES, repoRoot } from "../chart/helm.js";

const dir = mkdtempSync(join(tmpdir(), "kic-chart-package-"));
let archive = "";

interface ChartYaml {
  name: string;
  version: string;
  appVersion: string;
  kubeVersion: string;
  annotations: Record<string, string>;
}

beforeAll(() => {
  const r = helm(["package", chartDir, "--destination", dir]);
  expect(r.status, r.stderr).toBe(0);
  archive = join(dir, readdirSync(dir).find((f) => f.endsWith(".tgz")) ?? "");
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

const chart = () => yaml.load(readFileSync(join(chartDir, "Chart.yaml"), "utf8")) as ChartYaml;
const pkgVersion = () =>
  (JSON.parse(readFileSync(join(repoRoot, "package.json"), "utf8")) as { version: string }).version;

describe("helm package", () => {
  it("names the archive after the chart's name and version", () => {
    expect(archive).toBe(join(dir, `kube-image-cleanup-${chart().version}.tgz`));
  });

  it("holds the chart and nothing else: no ci/ values, no README template", () => {
    const files = execFileSync("tar", ["-tzf", archive], { encoding: "utf8" })
      .split("\n")
      .filter(Boolean)
      .map((f) => f.replace(/^kube-image-cleanup\//, ""))
      .sort();
    const templates = readdirSync(join(chartDir, "templates"), {
      recursive: true,
      withFileTypes: true,
    })
      .filter((e) => e.isFile())
      .map((e) => join(e.parentPath, e.name).slice(chartDir.length + 1));
    expect(files).toEqual(
      [
        ".helmignore",
        "Chart.yaml",
        "README.md",
        "files/check-access.cjs",
        "values.schema.json",
        "values.yaml",
        ...templates,
      ].sort(),
    );
    expect(templates).toContain("templates/prometheus-rule.yaml");
  });

  it("carries kubeVersion, appVersion and the Artifact Hub annotations", () => {
    const packed = yaml.load(
      execFileSync("tar", ["-xzOf", archive, "kube-image-cleanup/Chart.yaml"], {
        encoding: "utf8",
      }),
    ) as ChartYaml;
    expect(packed.kubeVersion).toBe(">=1.27.0-0");
    // The image, the npm package and appVersion are one version (scripts/release-version.sh).
    expect(packed.appVersion).toBe(pkgVersion());
    expect(packed.annotations["artifacthub.io/license"]).toBe("Apache-2.0");
    const images = yaml.load(packed.annotations["artifacthub.io/images"] ?? "") as {
      name: string;
      image: string;
      platforms: string[];
    }[];
    expect(images).toEqual([
      {
        name: "kube-image-cleanup",
        image: `ghcr.io/kube-image-cleanup/kube-image-cleanup:${packed.appVersion}`,
        platforms: ["linux/amd64", "linux/arm64"],
      },
    ]);
    const links = yaml.load(packed.annotations["artifacthub.io/links"] ?? "") as { url: string }[];
    for (const l of links) expect(l.url).toMatch(/^https:\/\/github\.com\/kube-image-cleanup\//);
    const changes = yaml.load(packed.annotations["artifacthub.io/changes"] ?? "") as {
      kind: string;
    }[];
    for (const c of changes)
      expect(["added", "changed", "deprecated", "removed", "fixed", "security"]).toContain(c.kind);
  });

  it("renders from the archive as from the directory, with appVersion as the default image tag", () => {
    const values = join(dir, "values.json");
    writeFileSync(values, JSON.stringify(REQUIRED_VALUES));
    const r = helm(["template", "kic", archive, "--kube-version", KUBE_VERSION, "-f", values]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain(
      `image: "ghcr.io/kube-image-cleanup/kube-image-cleanup:${chart().appVersion}"`,
    );
    const fromDir = helm([
      "template",
      "kic",
      chartDir,
      "--kube-version",
      KUBE_VERSION,
      "-f",
      values,
    ]);
    expect(r.stdout).toBe(fromDir.stdout.replaceAll(chartDir, archive));
  });
});
