// Issue 26 item 3, what `helm template` can show: where the API server does not serve
// ValidatingAdmissionPolicy v1 the policy is not rendered, and then the CronJob tells the controller
// (ADMISSION_POLICY), NOTES.txt says so in plain words, and admissionPolicy.required=true makes the
// install fail instead; the policy requires the protect list, bounds priorityClassName and pins the
// termination message file. What the API server admits and refuses: test/integration/chart/admission-policy.test.ts.
import { cpSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { admissionPolicyNote } from "../../../src/controller/admission-note.js";
import { loadRunConfig } from "../../../src/config/run-options.js";
import { renderTemplateOfCopy } from "../support/template-of-copy.js";
import {
  chartDir,
  kinds,
  only,
  render,
  renderError,
  REQUIRED_VALUES,
  VAP_API,
} from "./helm.js";

function controllerEnv(extraArgs: string[], values: Record<string, unknown> = {}): string {
  const cronJob = only(render({ values: { ...REQUIRED_VALUES, ...values }, extraArgs }), "CronJob");
  const env = cronJob.spec?.jobTemplate.spec?.template.spec?.containers[0]?.env ?? [];
  return env.find((e) => e.name === "ADMISSION_POLICY")?.value ?? "(absent)";
}

// NOTES.txt is not rendered by `helm template`: a copy of the chart renders it into a ConfigMap.
const notesChart = mkdtempSync(join(tmpdir(), "kic-notes-chart-"));
cpSync(chartDir, notesChart, { recursive: true });
cpSync(join(chartDir, "templates", "NOTES.txt"), join(notesChart, "notes-source.txt"));
writeFileSync(
  join(notesChart, "templates", "notes-rendered.yaml"),
  'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: notes}\ndata:\n  notes: {{ tpl (.Files.Get "notes-source.txt") . | toJson }}\n',
);
afterAll(() => {
  rmSync(notesChart, { recursive: true, force: true });
});

function notes(extraArgs: string[], values: Record<string, unknown> = {}): string {
  const out = renderTemplateOfCopy(notesChart, "templates/notes-rendered.yaml", values, [
    "--namespace",
    "kic-system",
    ...extraArgs,
  ]);
  const json = /notes: (".*")\s*$/s.exec(out)?.[1] ?? '""';
  return JSON.parse(json) as string;
}

describe("where the API server does not serve ValidatingAdmissionPolicy v1", () => {
  it("renders no policy, and tells the controller so (ADMISSION_POLICY=not-served)", () => {
    expect(kinds(render({ values: REQUIRED_VALUES }))).not.toContain("ValidatingAdmissionPolicy");
    expect(controllerEnv([])).toBe("not-served");
    expect(controllerEnv(VAP_API)).toBe("installed");
    expect(controllerEnv(VAP_API, { admissionPolicy: { create: false } })).toBe("disabled");
  });

  it("says so in NOTES.txt in plain words, and not where the policy is installed", () => {
    const text = notes([]);
    expect(text).toContain("WARNING: NO ADMISSION POLICY guards the controller's service account");
    expect(text).toContain(
      "does not\nserve admissionregistration.k8s.io/v1 ValidatingAdmissionPolicy",
    );
    expect(text).toContain("which is root on every node");
    expect(text).toContain("admissionPolicy.required=true");
    expect(notes(VAP_API)).not.toContain("NO ADMISSION POLICY");
    expect(notes(VAP_API, { admissionPolicy: { create: false } })).toContain(
      "(admissionPolicy.create=false)",
    );
  });

  it("fails the install with admissionPolicy.required=true, saying why and what to do", () => {
    const err = renderError({
      values: { ...REQUIRED_VALUES, admissionPolicy: { create: true, required: true } },
    });
    expect(err).toContain(
      "admissionPolicy.required=true, but the API server does not serve admissionregistration.k8s.io/v1 ValidatingAdmissionPolicy",
    );
    expect(err).toContain("Install on a Kubernetes 1.30+ API server");
    // Served: installs as usual, with the policy.
    const objects = render({
      values: { ...REQUIRED_VALUES, admissionPolicy: { required: true } },
      extraArgs: VAP_API,
    });
    expect(kinds(objects)).toContain("ValidatingAdmissionPolicy");
    // A contradiction is refused too.
    expect(
      renderError({
        values: { ...REQUIRED_VALUES, admissionPolicy: { create: false, required: true } },
        extraArgs: VAP_API,
      }),
    ).toContain("admissionPolicy.required=true contradicts admissionPolicy.create=false");
  });

  it("refuses a non-boolean admissionPolicy.required in the schema", () => {
    expect(
      renderError({ values: { ...REQUIRED_VALUES, admissionPolicy: { required: "yes" } } }),
    ).toMatch(/admissionPolicy\.required|required: Invalid type/);
  });

  it("makes every run's log say so (the controller's note from ADMISSION_POLICY)", () => {
    const state = (value: string | undefined) =>
      loadRunConfig({ include: ["x/*"] }, value === undefined ? {} : { ADMISSION_POLICY: value })
        .admissionPolicy;
    expect(state("not-served")).toBe("not-served");
    expect(state(undefined)).toBeUndefined();
    expect(() => state("maybe")).toThrow(/ADMISSION_POLICY/);
    expect(admissionPolicyNote("not-served", "kic-system")).toBe(
      "WARNING: no admission policy limits the pods this service account may create (the API server does not serve admissionregistration.k8s.io/v1 ValidatingAdmissionPolicy (Kubernetes before 1.30), so the chart installed none): whoever holds its token can create any privileged pod in namespace kic-system, which is root on every node, and helper pods without the protect list. To close this, upgrade the API server and the release, or set admissionPolicy.required=true to make installs fail without it",
    );
    expect(admissionPolicyNote("disabled", "ns")).toContain("(admissionPolicy.create=false)");
    expect(admissionPolicyNote("installed", "ns")).toBeUndefined();
    expect(admissionPolicyNote(undefined, "ns")).toBeUndefined();
  });
});

describe("the policy's new checks", () => {
  const validations = (values: Record<string, unknown> = {}) =>
    only(
      render({ values: { ...REQUIRED_VALUES, ...values }, extraArgs: VAP_API }),
      "ValidatingAdmissionPolicy",
    ).spec?.validations ?? [];
  const expressionWith = (text: string, values: Record<string, unknown> = {}) =>
    validations(values)
      .map((v) => v.expression)
      .filter((e) => e.includes(text));

  it("requires the protect file flag, annotation, volume and mount (of every pod but a pull)", () => {
    expect(expressionWith('startsWith("--protect-file=")')).toEqual([
      'variables.pull || variables.args.filter(a, a.startsWith("--protect-file=")) == ["--protect-file=/etc/kube-image-cleanup/protect/images.json"]',
    ]);
    const [required] = expressionWith("in object.metadata.annotations");
    expect(required).toMatch(/^variables\.pull \|\|/);
    expect(required).toContain('"kube-image-cleanup.io/protect" in object.metadata.annotations');
    expect(required).toContain('variables.volumes.exists(v, v.name == "protect")');
    expect(required).toContain('variables.mounts.exists(m, m.name == "protect")');
  });

  it("bounds priorityClassName to helper.priorityClassName", () => {
    expect(expressionWith("priorityClassName")).toEqual([
      "!has(object.spec.priorityClassName) || object.spec.priorityClassName == ''",
    ]);
    expect(
      expressionWith("priorityClassName", { helper: { priorityClassName: "cleanup" } }),
    ).toEqual(['has(object.spec.priorityClassName) && object.spec.priorityClassName == "cleanup"']);
  });

  it("pins the termination message file and policy", () => {
    const [check] = expressionWith("terminationMessagePath");
    expect(check).toContain("variables.agent.terminationMessagePath == '/dev/termination-log'");
    expect(check).toContain("variables.agent.terminationMessagePolicy == 'FallbackToLogsOnError'");
  });
});
