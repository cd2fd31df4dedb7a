// The install notes warn when the nodes a release selects cannot all be cleaned in one run with its
// concurrency and timeouts.runSeconds (chart/templates/_sizing.tpl). `helm template` does not
// render NOTES.txt, so a copy of the chart gets one more template that renders the same named
// templates NOTES.txt includes into a ConfigMap; the test reads that.
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import yaml from "js-yaml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { renderTemplateOfCopy } from "../support/template-of-copy.js";
import { chartDir } from "./helm.js";

let copy: string;
const FAKE_NODES = [
  { metadata: { name: "a", labels: { "kubernetes.io/os": "linux", pool: "web" } } },
  { metadata: { name: "b", labels: { "kubernetes.io/os": "linux", pool: "db" } } },
  { metadata: { name: "c", labels: { "kubernetes.io/os": "linux", gpu: "true" } } },
  { metadata: { name: "w", labels: { "kubernetes.io/os": "windows" } } },
  { metadata: { name: "bare" } },
];

beforeAll(() => {
  copy = join(mkdtempSync(join(tmpdir(), "kic-notes-")), "chart");
  cpSync(chartDir, copy, { recursive: true });
  writeFileSync(
    join(copy, "templates", "zz-probe.yaml"),
    `apiVersion: v1
kind: ConfigMap
metadata:
  name: probe
data:
  warning: {{ include "kube-image-cleanup.reachWarning" . | toJson }}
  selected: {{ include "kube-image-cleanup.selectedNodes" . | toJson }}
{{- $nodes := ${JSON.stringify(JSON.stringify(FAKE_NODES))} | fromJsonArray }}
{{- range $i, $sel := .Values.probeSelectors | default list }}
  match-{{ $i }}: {{ include "kube-image-cleanup.countMatching" (dict "items" $nodes "selector" $sel "exclude" (list "b")) | quote }}
{{- end }}
`,
  );
  // The probe's own value: the real schema rejects keys it does not declare.
  const schemaFile = join(copy, "values.schema.json");
  const schema = JSON.parse(readFileSync(schemaFile, "utf8")) as {
    properties: Record<string, unknown>;
  };
  schema.properties.probeSelectors = { type: "array", items: { type: "string" } };
  writeFileSync(schemaFile, JSON.stringify(schema));
});
afterAll(() => {
  rmSync(join(copy, ".."), { recursive: true, force: true });
});

function probe(values: Record<string, unknown>): Record<string, string> {
  const out = renderTemplateOfCopy(copy, "templates/zz-probe.yaml", values);
  return (yaml.load(out) as { data: Record<string, string> }).data;
}

const names = (n: number) => Array.from({ length: n }, (_, i) => `node-${String(i)}`);
const chartDefaults = yaml.load(readFileSync(join(chartDir, "values.yaml"), "utf8")) as {
  concurrency: number;
  timeouts: { runSeconds: number };
};

describe("the install notes' warning that one run cannot reach every selected node", () => {
  it("warns for 1,000 named nodes at concurrency 1 with the numbers and what to raise", () => {
    const { warning } = probe({ nodes: { names: names(1000) }, concurrency: 1 });
    expect(warning).toContain(
      "WARNING: one run cannot clean all 1000 selected nodes (nodes.names)",
    );
    expect(warning).toContain("about 5000 s");
    expect(warning).toContain("timeouts.runSeconds=3600 ends the run first: about 720 nodes");
    expect(warning).toContain(
      "Raise concurrency to at least 2, or timeouts.runSeconds to at least 5000",
    );
  });

  it("stays quiet for 1,000 nodes at the chart's defaults", () => {
    expect(chartDefaults.concurrency).toBeGreaterThan(1);
    expect(probe({ nodes: { names: names(1000) } }).warning).toBe("");
  });

  it("counts the named nodes minus the excluded ones", () => {
    const all = names(200);
    const r = probe({
      nodes: { names: all, exclude: all.slice(0, 50) },
      concurrency: 1,
      timeouts: { runSeconds: 600 },
    });
    expect(JSON.parse(r.selected ?? "")).toEqual({ count: 150, from: "nodes.names" });
    expect(r.warning).toContain("all 150 selected nodes");
    // 150 x 5 s = 750 s > 600 s; 600 / 5 = 120 nodes reached; ceil(750 / 600) = 2.
    expect(r.warning).toContain("about 750 s");
    expect(r.warning).toContain("about 120 nodes are reached");
    expect(r.warning).toContain("concurrency to at least 2,");
  });

  it("says the most concurrency cannot do it when even 500 at a time is not enough", () => {
    const { warning } = probe({
      nodes: { names: names(600) },
      concurrency: 500,
      timeouts: { runSeconds: 5 },
    });
    expect(warning).toContain("Raise concurrency to 500 (the most)");
    expect(warning).toContain("split the nodes across releases");
  });

  it("does not warn when the run has no deadline", () => {
    const r = probe({
      nodes: { names: names(5000) },
      concurrency: 1,
      timeouts: { runSeconds: null },
    });
    expect(r.warning).toBe("");
  });

  it("does not guess without a node count: helm template sees no cluster to look up", () => {
    const r = probe({ concurrency: 1 });
    expect(JSON.parse(r.selected ?? "")).toEqual({ count: -1, from: "" });
    expect(r.warning).toBe("");
  });

  it("counts looked-up nodes by the selector's simple terms, minus nodes.exclude", () => {
    const selectors = [
      "kubernetes.io/os=linux", // a, c (b excluded)
      "kubernetes.io/os==linux,pool!=web", // c
      "pool", // a (b excluded)
      "!pool", // c, w, bare
      "kubernetes.io/os!=linux", // w, bare
      "", // all but b
    ];
    const r = probe({ probeSelectors: selectors });
    expect(selectors.map((_, i) => Number(r[`match-${String(i)}`]))).toEqual([2, 1, 1, 3, 2, 4]);
  });

  it("is what NOTES.txt prints", () => {
    const notes = readFileSync(join(chartDir, "templates", "NOTES.txt"), "utf8");
    expect(notes).toMatch(/include "kube-image-cleanup\.reachWarning" \./);
  });
});
