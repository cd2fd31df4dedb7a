// chart/README.md, values.yaml and values.schema.json describe the same values: the README is
// generated from values.yaml, and the schema declares exactly the keys values.yaml has.
import { spawnSync } from "node:child_process";
import { appendFileSync, cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import yaml from "js-yaml";
import { afterEach, describe, expect, it } from "vitest";
import { chartDir, helmBin, repoRoot } from "./helm.js";

const script = join(repoRoot, "scripts", "chart-readme.mjs");

function readme(args: string[]) {
  return spawnSync(process.execPath, [script, ...args], {
    encoding: "utf8",
    env: { ...process.env, HELM: helmBin },
  });
}

interface SchemaNode {
  type?: string | string[];
  properties?: Record<string, SchemaNode>;
  required?: string[];
}

const values = yaml.load(readFileSync(join(chartDir, "values.yaml"), "utf8")) as Record<
  string,
  unknown
>;
const schema = JSON.parse(readFileSync(join(chartDir, "values.schema.json"), "utf8")) as SchemaNode;

/** Dotted key paths of `node`, descending only where the schema declares properties. */
function valuePaths(node: unknown, s: SchemaNode, prefix = ""): string[] {
  if (node === null || typeof node !== "object" || Array.isArray(node) || !s.properties) return [];
  return Object.entries(node).flatMap(([k, v]) => {
    const path = prefix + k;
    const child = s.properties?.[k];
    return [path, ...(child ? valuePaths(v, child, `${path}.`) : [])];
  });
}

function schemaPaths(s: SchemaNode, prefix = "", leavesOnly = false): string[] {
  return Object.entries(s.properties ?? {}).flatMap(([k, child]) => [
    ...(leavesOnly && child.properties ? [] : [prefix + k]),
    ...schemaPaths(child, `${prefix}${k}.`, leavesOnly),
  ]);
}

describe("chart documentation", () => {
  let tmp: string | undefined;
  afterEach(() => {
    if (tmp) rmSync(tmp, { recursive: true, force: true });
    tmp = undefined;
  });

  it("chart/README.md is what scripts/chart-readme.mjs generates from values.yaml", () => {
    const r = readme(["--check"]);
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
  });

  it("the README lists every value with its default, the required ones marked", () => {
    const text = readFileSync(join(chartDir, "README.md"), "utf8");
    expect(text).toContain("| `schedule` | string | (required) |");
    expect(text).toContain("| `images.include` | list | (required) |");
    expect(text).toContain('| `cronJob.concurrencyPolicy` | string | `"Forbid"` |');
    expect(text).toContain("| `rbac.allowPodDeletion` | boolean | `true` |");
    for (const path of schemaPaths(schema, "", true).filter((p) => p !== "global")) {
      // A key is listed itself, or its parent is listed with the whole map as the default.
      const listed = path
        .split(".")
        .some((_, i, parts) => text.includes(`| \`${parts.slice(0, i + 1).join(".")}\` |`));
      expect(listed, path).toBe(true);
    }
  });

  it("the check notices a values.yaml change that the README does not have", () => {
    tmp = mkdtempSync(join(tmpdir(), "kic-readme-"));
    cpSync(chartDir, tmp, { recursive: true });
    const file = join(tmp, "values.yaml");
    writeFileSync(
      file,
      readFileSync(file, "utf8").replace("# -- Suspend the CronJob", "# -- Pause the CronJob"),
    );
    const r = readme(["--check", "--chart", tmp]);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain("README.md is out of date: run node scripts/chart-readme.mjs");
  });

  it("refuses a value without a # -- comment", () => {
    tmp = mkdtempSync(join(tmpdir(), "kic-readme-"));
    cpSync(chartDir, tmp, { recursive: true });
    appendFileSync(join(tmp, "values.yaml"), "\nundocumented:\n  inner: 1\n");
    const r = readme(["--chart", tmp]);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('values without a "# --" comment: undocumented.inner');
  });

  it("the permissions table has every rule helm renders: events in default and the report ConfigMap too", () => {
    const text = readFileSync(join(chartDir, "README.md"), "utf8");
    const table = text.slice(
      text.indexOf("## Permissions"),
      text.indexOf("### The service account"),
    );
    const rows = table.split("\n").filter((l) => /^\| (cluster|release|namespace)/.test(l));
    expect(rows.map((r) => r.split(" | ").slice(0, 3).join(" | "))).toEqual([
      "| cluster (ClusterRole) | `nodes` | list",
      "| cluster (ClusterRole) | `pods` | list, watch",
      "| namespace `default` (Role) | `events` | create",
      "| release namespace (Role) | `pods` | create, get, list, watch, delete",
      "| release namespace (Role) | `pods/log` | get",
      "| release namespace (Role) | `events` | list",
      "| release namespace (Role) | `secrets`, only those in `registryPullSecrets` | get",
      "| release namespace (Role) | `configmaps`, only `<fullname>-report` | get, update",
    ]);
    expect(table).toContain("no `delete` with `rbac.allowPodDeletion=false`");
    expect(table).toContain("not with `events.enabled=false`");
    expect(text).not.toMatch(/exactly (five|5)/);
  });

  it("the check notices a rule the chart grants that the permissions table does not explain", () => {
    tmp = mkdtempSync(join(tmpdir(), "kic-readme-"));
    cpSync(chartDir, tmp, { recursive: true });
    const role = join(tmp, "templates", "clusterrole.yaml");
    writeFileSync(
      role,
      readFileSync(role, "utf8").replace(
        'resources: ["nodes"]',
        'resources: ["nodes", "nodes/proxy"]',
      ),
    );
    const r = readme(["--check", "--chart", tmp]);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(
      "rules without a reason in scripts/chart-readme.mjs WHY: cluster|nodes/proxy",
    );
  });

  it("values.schema.json declares exactly the keys of values.yaml, plus the required ones that have no default", () => {
    const inValues = valuePaths(values, schema);
    const inSchema = schemaPaths(schema).filter((p) => p !== "global");
    expect(inSchema.filter((p) => !inValues.includes(p)).sort()).toEqual([
      "images.include",
      "schedule",
    ]);
    expect(inValues.filter((p) => !inSchema.includes(p))).toEqual([]);
    expect(schema.required).toEqual(["schedule", "images"]);
    expect(schema.properties?.images?.required).toEqual(["include"]);
  });
});
