// Values that try to break out of their YAML scalar (a newline, then a key of their own, such as
// `hostIPC: true`): values.schema.json refuses them at `helm install`, naming the key; and with the
// schema skipped (--skip-schema-validation) every template still renders them as one inert string,
// so no value can add a key to a rendered object.
import type { KubernetesObject } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import { only, render, renderError, REQUIRED_VALUES, VAP_API } from "./helm.js";

const SCHEMA_FAILED = "values don't meet the specifications of the schema(s)";
/** A newline and a key: unquoted, this adds `hostIPC: true` to the object the value sits in. */
const INJECT = "x\nhostIPC: true";
/** Closes a double-quoted scalar first, for a template that quoted by hand. */
const BREAKOUT = 'x"\nhostIPC: true\n#';

/** Sets the dotted `path` (array indexes as numbers) in a copy of `base`. */
function withValue(base: Record<string, unknown>, path: string, value: unknown) {
  const root = structuredClone(base);
  const keys = path.split(".");
  let node: Record<string, unknown> = root;
  keys.slice(0, -1).forEach((k, i) => {
    const next = keys[i + 1] ?? "";
    node[k] ??= /^\d+$/.test(next) ? [] : {};
    node = node[k] as Record<string, unknown>;
  });
  node[keys[keys.length - 1] ?? ""] = value;
  return root;
}

/** Every string value the chart renders into YAML, as the key helm's schema error names. */
const stringValues = [
  "nameOverride",
  "fullnameOverride",
  "schedule",
  "timeZone",
  "images.include.0",
  "images.exclude.0",
  "images.minAge",
  "images.unusedFor",
  "limits.maxBytesPerNode",
  "runtime.socket",
  "runtime.nsenterTarget",
  "nodes.selector",
  "nodes.names.0",
  "nodes.exclude.0",
  "timeouts.node",
  "image.repository",
  "image.tag",
  "image.digest",
  "imagePullSecrets.0.name",
  "serviceAccount.name",
  "controller.nodeOptions",
  "controller.env.0.name",
  "controller.resources.limits.memory",
  "controller.nodeSelector.zone",
  "controller.podLabels.team",
  "cronJob.labels.team",
  "priorityClassName",
  "helper.priorityClassName",
  "helper.resources.requests.cpu",
];

describe("values.schema.json refuses values that would break out of their YAML scalar", () => {
  for (const key of stringValues) {
    it(`rejects a newline and a key in ${key}, naming it`, () => {
      const err = renderError({ values: withValue(REQUIRED_VALUES, key, INJECT) });
      expect(err).toContain(SCHEMA_FAILED);
      expect(err).toMatch(new RegExp(`- ${key.replace(/\./g, "\\.")}: `));
    });
  }

  it("rejects a label or annotation key with a newline, naming the map", () => {
    for (const key of ["controller.podAnnotations", "cronJob.annotations", "cronJob.labels"]) {
      const err = renderError({
        values: withValue(REQUIRED_VALUES, key, { [INJECT]: "a" }),
      });
      expect(err, key).toContain(SCHEMA_FAILED);
      expect(err, key).toContain(`${key}: `);
    }
  });

  const accepted: [string, unknown][] = [
    ["priorityClassName", "system-node-critical"],
    ["helper.priorityClassName", "kic.example.com"],
    ["image.repository", "localhost:5000/tools/kube-image-cleanup"],
    ["image.repository", "registry.example.com/a_b/c__d/e---f"],
    ["image.tag", "v0.1.0-rc.1_build"],
    ["timeZone", "America/Argentina/Buenos_Aires"],
    ["timeZone", "Etc/GMT+5"],
    ["runtime.socket", "unix:///run/containerd/containerd.sock"],
    ["nodes.selector", "role=worker,!spot,zone in (a,b),tier notin (x)"],
    ["nodes.names", ["ip-10-0-1-2.eu-west-1.compute.internal"]],
    ["serviceAccount.name", "image-cleaner"],
    ["controller.nodeOptions", "--max-old-space-size=96 --max-semi-space-size=1"],
    ["controller.resources.limits.memory", "256Mi"],
    ["helper.resources.requests.cpu", 0.5],
    ["controller.podLabels", { "example.com/team": "platform-1.2_x" }],
    ["images.include", ["**/pause:*", "sha256:abc", "docker.io/acme/{a,b}:[0-9]*"]],
  ];
  for (const [key, value] of accepted) {
    it(`accepts ${key}=${JSON.stringify(value)}`, () => {
      expect(() => render({ values: withValue(REQUIRED_VALUES, key, value) })).not.toThrow();
    });
  }
});

/** Every key of every object, at any depth. */
function keysOf(node: unknown, out = new Set<string>()): Set<string> {
  if (Array.isArray(node)) for (const v of node) keysOf(v, out);
  else if (node !== null && typeof node === "object")
    for (const [k, v] of Object.entries(node)) {
      out.add(k);
      keysOf(v, out);
    }
  return out;
}

/** Every string, at any depth. */
function stringsOf(node: unknown, out: string[] = []): string[] {
  if (typeof node === "string") out.push(node);
  else if (Array.isArray(node)) for (const v of node) stringsOf(v, out);
  else if (node !== null && typeof node === "object")
    for (const v of Object.values(node)) stringsOf(v, out);
  return out;
}

describe("templates render every value as one inert string, even without the schema", () => {
  const skip = ["--skip-schema-validation", ...VAP_API];

  for (const payload of [INJECT, BREAKOUT]) {
    it(`adds no key for ${JSON.stringify(payload)} in any string value`, () => {
      let values: Record<string, unknown> = structuredClone(REQUIRED_VALUES);
      for (const key of stringValues) {
        // Kept valid: a schedule and a name the templates must be able to use.
        if (key === "schedule") continue;
        values = withValue(values, key, payload);
      }
      const objects: KubernetesObject[] = render({ values, extraArgs: skip });
      expect(keysOf(objects).has("hostIPC")).toBe(false);
      const job = only(objects, "CronJob");
      const pod = job.spec?.jobTemplate.spec?.template.spec;
      expect(pod?.priorityClassName).toBe(payload);
      expect(job.spec?.timeZone).toBe(payload);
      expect(pod?.serviceAccountName).toBe(payload);
      expect(pod?.containers[0]?.image).toBe(`${payload}@${payload}`);
      expect(pod?.containers[0]?.args).toContain(`--priority-class=${payload}`);
      expect(only(objects, "ServiceAccount").metadata?.name).toBe(payload);
      // The policy holds the image as a CEL string literal: the payload is text there too.
      const policy = only(objects, "ValidatingAdmissionPolicy");
      expect(policy.spec?.validations?.[1]?.expression).toContain(
        `variables.agent.image == ${JSON.stringify(`${payload}@${payload}`)}`,
      );
      expect(stringsOf(objects).some((s) => s.includes(payload))).toBe(true);
    });
  }

  it("renders numbers and booleans given as text as strings the API server refuses, not as keys", () => {
    const values = {
      ...REQUIRED_VALUES,
      suspend: `false\nhostIPC: true`,
      timeouts: { runSeconds: `60\nhostIPC: true` },
      controller: { terminationGracePeriodSeconds: `1\nhostIPC: true` },
      cronJob: {
        startingDeadlineSeconds: `1\nhostIPC: true`,
        successfulJobsHistoryLimit: `1\nhostIPC: true`,
        failedJobsHistoryLimit: `1\nhostIPC: true`,
        backoffLimit: `1\nhostIPC: true`,
        ttlSecondsAfterFinished: `1\nhostIPC: true`,
      },
    };
    const objects = render({ values, extraArgs: skip });
    expect(keysOf(objects).has("hostIPC")).toBe(false);
    const job = only(objects, "CronJob");
    expect(job.spec?.suspend).toBe("false\nhostIPC: true");
    expect(job.spec?.jobTemplate.spec?.activeDeadlineSeconds).toBe("60\nhostIPC: true");
    expect(job.spec?.jobTemplate.spec?.template.spec?.terminationGracePeriodSeconds).toBe(
      "1\nhostIPC: true",
    );
  });

  it("keeps numbers and booleans typed as they are", () => {
    const job = only(render({ values: REQUIRED_VALUES }), "CronJob");
    expect(job.spec?.suspend).toBe(false);
    expect(job.spec?.startingDeadlineSeconds).toBe(300);
    expect(job.spec?.jobTemplate.spec?.activeDeadlineSeconds).toBe(3600);
    expect(job.spec?.jobTemplate.spec?.template.spec?.terminationGracePeriodSeconds).toBe(60);
  });
});
