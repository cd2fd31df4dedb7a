// values.schema.json rejects bad input at `helm install`, naming the key. Each case renders the chart
// with one bad value and asserts on helm's error text.
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { chartDir, helmTemplate, renderError, REQUIRED_VALUES } from "./helm.js";

const SCHEMA_FAILED = "values don't meet the specifications of the schema(s)";

const rejections: { what: string; values: Record<string, unknown>; error: string }[] = [
  {
    what: "report.runs above 50",
    values: { ...REQUIRED_VALUES, report: { runs: 51 } },
    error: "report.runs: Must be less than or equal to 50",
  },
  {
    what: "report.runs of 0",
    values: { ...REQUIRED_VALUES, report: { runs: 0 } },
    error: "report.runs: Must be greater than or equal to 1",
  },
  {
    what: "a Pushgateway URL without scheme",
    values: { ...REQUIRED_VALUES, metrics: { pushgateway: { url: "pushgateway:9091" } } },
    error: "metrics.pushgateway.url: Does not match pattern",
  },
  {
    what: "events.enabled given as a string",
    values: { ...REQUIRED_VALUES, events: { enabled: "yes" } },
    error: "events.enabled: Invalid type. Expected: boolean, given: string",
  },
  {
    what: "images.onlyIfPullable given as a string",
    values: { ...REQUIRED_VALUES, images: { ...REQUIRED_VALUES.images, onlyIfPullable: "yes" } },
    error: "images.onlyIfPullable: Invalid type. Expected: boolean, given: string",
  },
  {
    what: "an images.registryTimeout that is no duration",
    values: { ...REQUIRED_VALUES, images: { ...REQUIRED_VALUES.images, registryTimeout: "soon" } },
    error: "images.registryTimeout: Does not match pattern",
  },
  {
    what: "a registryPullSecrets name Kubernetes would refuse",
    values: { ...REQUIRED_VALUES, registryPullSecrets: ["Registry_Pull"] },
    error: "registryPullSecrets.0: Does not match pattern",
  },
  {
    what: "registryPullSecrets given as objects (as imagePullSecrets are)",
    values: { ...REQUIRED_VALUES, registryPullSecrets: [{ name: "registry-pull" }] },
    error: "registryPullSecrets.0: Invalid type. Expected: string, given: object",
  },
  {
    what: "a registryPullSecrets name twice",
    values: { ...REQUIRED_VALUES, registryPullSecrets: ["a", "a"] },
    error: "registryPullSecrets: array items[0,1] must be unique",
  },
  { what: "no values at all", values: {}, error: "(root): schedule is required" },
  {
    what: "a missing schedule",
    values: { images: REQUIRED_VALUES.images },
    error: "(root): schedule is required",
  },
  {
    what: "a missing include list",
    values: { schedule: "@daily" },
    error: "images: include is required",
  },
  {
    what: "an empty include list",
    values: { ...REQUIRED_VALUES, images: { include: [] } },
    error: "images.include: Array must have at least 1 items",
  },
  {
    what: "an empty include glob",
    values: { ...REQUIRED_VALUES, images: { include: [""] } },
    error: "images.include.0: String length must be greater than or equal to 1",
  },
  {
    what: "include given as a string",
    values: { ...REQUIRED_VALUES, images: { include: "docker.io/acme/*" } },
    error: "images.include: Invalid type. Expected: array, given: string",
  },
  {
    what: "a cron string with four fields",
    values: { ...REQUIRED_VALUES, schedule: "0 3 * *" },
    error: "schedule: Does not match pattern",
  },
  {
    what: "a cron string with six fields",
    values: { ...REQUIRED_VALUES, schedule: "0 0 3 * * *" },
    error: "schedule: Does not match pattern",
  },
  {
    what: "an unknown cron macro",
    values: { ...REQUIRED_VALUES, schedule: "@fortnightly" },
    error: "schedule: Does not match pattern",
  },
  {
    what: "a CRON_TZ prefix (use timeZone)",
    values: { ...REQUIRED_VALUES, schedule: "CRON_TZ=UTC 0 3 * * *" },
    error: "schedule: Does not match pattern",
  },
  {
    what: "a schedule given as a number",
    values: { ...REQUIRED_VALUES, schedule: 3 },
    error: "schedule: Invalid type. Expected: string, given: integer",
  },
  {
    what: "concurrency 0",
    values: { ...REQUIRED_VALUES, concurrency: 0 },
    error: "concurrency: Must be greater than or equal to 1",
  },
  {
    what: "negative concurrency",
    values: { ...REQUIRED_VALUES, concurrency: -2 },
    error: "concurrency: Must be greater than or equal to 1",
  },
  {
    what: "concurrency above 500",
    values: { ...REQUIRED_VALUES, concurrency: 501 },
    error: "concurrency: Must be less than or equal to 500",
  },
  {
    what: "concurrency as text",
    values: { ...REQUIRED_VALUES, concurrency: "two" },
    error: "concurrency: Invalid type. Expected: integer, given: string",
  },
  {
    what: "fractional concurrency",
    values: { ...REQUIRED_VALUES, concurrency: 1.5 },
    error: "concurrency: Invalid type. Expected: integer, given: number",
  },
  {
    what: "an unknown top-level key",
    values: { ...REQUIRED_VALUES, concurency: 2 },
    error: "(root): Additional property concurency is not allowed",
  },
  {
    what: "an unknown key under images",
    values: { ...REQUIRED_VALUES, images: { include: ["a"], includes: ["b"] } },
    error: "images: Additional property includes is not allowed",
  },
  {
    what: "dryRun as text",
    values: { ...REQUIRED_VALUES, dryRun: "yes" },
    error: "dryRun: Invalid type. Expected: boolean, given: string",
  },
  {
    what: "an unknown runtime client",
    values: { ...REQUIRED_VALUES, runtime: { client: "podman" } },
    error: "runtime.client: runtime.client must be one of the following",
  },
  {
    what: "an unknown helper mode",
    values: { ...REQUIRED_VALUES, helper: { mode: "hostpath" } },
    error: "helper.mode: helper.mode must be one of the following",
  },
  {
    what: "a negative socket group id",
    values: { ...REQUIRED_VALUES, helper: { mode: "socket", socket: { gid: -1 } } },
    error: "helper.socket.gid: Must be greater than or equal to 0",
  },
  {
    what: "a socket user given as a name",
    values: { ...REQUIRED_VALUES, helper: { mode: "socket", socket: { uid: "node" } } },
    error: "helper.socket.uid: Invalid type. Expected: integer, given: string",
  },
  {
    what: "an unknown key under helper.socket (a path belongs in runtime.socket)",
    values: { ...REQUIRED_VALUES, helper: { socket: { path: "/run/containerd/containerd.sock" } } },
    error: "Additional property path is not allowed",
  },
  {
    what: "a relative socket path",
    values: { ...REQUIRED_VALUES, runtime: { socket: "run/containerd.sock" } },
    error: "runtime.socket: Does not match pattern",
  },
  {
    what: "an nsenter target that is not a pid or process name",
    values: { ...REQUIRED_VALUES, runtime: { nsenterTarget: "1; reboot" } },
    error: "runtime.nsenterTarget: Does not match pattern",
  },
  {
    what: "minAge without a unit",
    values: { ...REQUIRED_VALUES, images: { include: ["a"], minAge: "30" } },
    error: "images.minAge: Does not match pattern",
  },
  {
    what: "unusedFor without a unit",
    values: { ...REQUIRED_VALUES, images: { include: ["a"], unusedFor: "14" } },
    error: "images.unusedFor: Does not match pattern",
  },
  {
    what: "protect.workloads that is not a boolean",
    values: { ...REQUIRED_VALUES, protect: { workloads: "yes" } },
    error: "protect.workloads: Invalid type. Expected: boolean, given: string",
  },
  {
    what: "a pattern starting with / that is not /re/ or /re/i",
    values: { ...REQUIRED_VALUES, images: { include: ["/acme/app:1/g"] } },
    error: "images.include.0: Does not match pattern '^[^/]'",
  },
  {
    what: "an exclude starting with / that is not /re/",
    values: { ...REQUIRED_VALUES, images: { include: ["a"], exclude: ["/acme"] } },
    error: "images.exclude.0: Must validate at least one schema (anyOf)",
  },
  {
    what: "a negative keepNewest",
    values: { ...REQUIRED_VALUES, images: { include: ["a"], keepNewest: -1 } },
    error: "images.keepNewest: Must be greater than or equal to 0",
  },
  {
    what: "keepNewest as text",
    values: { ...REQUIRED_VALUES, images: { include: ["a"], keepNewest: "2" } },
    error: "images.keepNewest: Invalid type. Expected: integer, given: string",
  },
  {
    what: "a fractional maxImagesPerNode",
    values: { ...REQUIRED_VALUES, limits: { maxImagesPerNode: 1.5 } },
    error: "limits.maxImagesPerNode: Invalid type. Expected: integer, given: number",
  },
  {
    what: "maxBytesPerNode with a unit of its own",
    values: { ...REQUIRED_VALUES, limits: { maxBytesPerNode: "10GB" } },
    error: "limits.maxBytesPerNode: Does not match pattern",
  },
  {
    what: "an unknown limits key",
    values: { ...REQUIRED_VALUES, limits: { maxImages: 3 } },
    error: "limits: Additional property maxImages is not allowed",
  },
  {
    what: "a node timeout without a unit",
    values: { ...REQUIRED_VALUES, timeouts: { node: "600" } },
    error: "timeouts.node: Does not match pattern",
  },
  {
    what: "a run deadline of 0",
    values: { ...REQUIRED_VALUES, timeouts: { runSeconds: 0 } },
    error: "timeouts.runSeconds: Must be greater than or equal to 1",
  },
  {
    what: "an unknown log format",
    values: { ...REQUIRED_VALUES, logFormat: "text" },
    error: "logFormat: logFormat must be one of the following",
  },
  {
    what: "an unknown output",
    values: { ...REQUIRED_VALUES, output: "yaml" },
    error: "output: output must be one of the following",
  },
  {
    what: "an unknown concurrency policy",
    values: { ...REQUIRED_VALUES, cronJob: { concurrencyPolicy: "Never" } },
    error: "cronJob.concurrencyPolicy: cronJob.concurrencyPolicy must be one of the following",
  },
  {
    what: "a negative backoff limit",
    values: { ...REQUIRED_VALUES, cronJob: { backoffLimit: -1 } },
    error: "cronJob.backoffLimit: Must be greater than or equal to 0",
  },
  {
    what: "a malformed digest",
    values: { ...REQUIRED_VALUES, image: { digest: "latest" } },
    error: "image.digest: Does not match pattern",
  },
  {
    what: "an unknown pull policy",
    values: { ...REQUIRED_VALUES, image: { pullPolicy: "Sometimes" } },
    error: "image.pullPolicy: image.pullPolicy must be one of the following",
  },
  {
    what: "allowPodDeletion as text",
    values: { ...REQUIRED_VALUES, rbac: { allowPodDeletion: "false" } },
    error: "rbac.allowPodDeletion: Invalid type. Expected: boolean, given: string",
  },
  {
    what: "a node selector given as a map (it is a label selector string)",
    values: { ...REQUIRED_VALUES, nodes: { selector: { zone: "a" } } },
    error: "nodes.selector: Invalid type. Expected: string, given: object",
  },
  {
    what: "an env entry without a name",
    values: { ...REQUIRED_VALUES, controller: { env: [{ value: "x" }] } },
    error: "controller.env.0: name is required",
  },
  {
    what: "an unknown resources key",
    values: { ...REQUIRED_VALUES, helper: { resources: { limit: { cpu: "1" } } } },
    error: "helper.resources: Additional property limit is not allowed",
  },
];

// A JSON schema cannot compile an expression: the chart's template does, with Go's regexp (RE2, as
// re2js in the controller), and fails the install naming the key and the value.
const badExpressions: [string, string][] = [
  ["include", "/(a/"],
  ["include", "/a)|(b/"],
  ["include", "/[a/"],
  ["include", "/a\\/"],
  ["include", "/(?=a)b/"],
  ["exclude", "/(a)\\1/"],
];

describe("regular expressions in images.include and images.exclude", () => {
  for (const [key, pattern] of badExpressions) {
    it(`refuses images.${key} ${pattern} at install, naming the key and the value`, () => {
      const images =
        key === "include" ? { include: [pattern] } : { include: ["a"], exclude: ["b", pattern] };
      const err = renderError({ values: { ...REQUIRED_VALUES, images } });
      const index = key === "include" ? 0 : 1;
      expect(err).toContain(
        `images.${key}[${index}]: ${JSON.stringify(pattern)} is not a regular expression RE2 accepts`,
      );
    });
  }

  it("accepts the ancestor's ECR account-id pattern and /re/i, and passes them on unchanged", () => {
    const r = helmTemplate({
      values: {
        ...REQUIRED_VALUES,
        images: { include: ["/123456789012\\.dkr\\.ecr\\./"], exclude: ["/-RC[0-9]+$/i"] },
      },
    });
    expect(r.stderr).toBe("");
    expect(r.stdout).toContain("- --include=/123456789012\\.dkr\\.ecr\\./");
    expect(r.stdout).toContain("- --exclude=/-RC[0-9]+$/i");
  });
});

describe("values.schema.json", () => {
  for (const r of rejections) {
    it(`rejects ${r.what}`, () => {
      const err = renderError({ values: r.values });
      expect(err).toContain(SCHEMA_FAILED);
      expect(err).toContain(r.error);
    });
  }

  it("accepts every example in chart/ci", () => {
    const files = readdirSync(join(chartDir, "ci")).filter((f) => f.endsWith(".yaml"));
    expect(files.length).toBeGreaterThanOrEqual(10);
    for (const f of files) {
      const r = helmTemplate({ files: [join(chartDir, "ci", f)] });
      expect(r.stderr, f).toBe("");
      expect(r.status, f).toBe(0);
    }
  });

  it("accepts cron macros and ranges, steps and names", () => {
    for (const schedule of [
      "@daily",
      "@hourly",
      "*/15 * * * *",
      "0 3 * * mon-fri",
      "0 0 1,15 * *",
      "0 3 ? * SUN",
    ]) {
      expect(helmTemplate({ values: { ...REQUIRED_VALUES, schedule } }).status, schedule).toBe(0);
    }
  });
});

describe("required values without the schema (--skip-schema-validation)", () => {
  it("still fails on a missing schedule, saying how to set it", () => {
    expect(
      renderError({
        values: { images: REQUIRED_VALUES.images },
        extraArgs: ["--skip-schema-validation"],
      }),
    ).toContain("schedule is required: set a cron schedule, e.g. --set schedule='0 3 * * *'");
  });

  it("still fails on a missing or empty include list, saying how to set it", () => {
    for (const images of [undefined, { include: [] }]) {
      expect(
        renderError({
          values: { schedule: "@daily", images },
          extraArgs: ["--skip-schema-validation"],
        }),
      ).toContain("images.include is required: give at least one image glob");
    }
  });
});
