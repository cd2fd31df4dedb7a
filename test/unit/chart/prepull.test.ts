// prePull.*: the chart's pre-pull Job (per revision) and CronJob run `kube-image-cleanup pull` with
// flags the CLI's own option table and loader accept, the Role reads only the named Secrets, and
// the schema and template refuse what cannot work.
import { describe, expect, it } from "vitest";
import { parseCommand } from "../support/parse-command.js";
import { pullCommand } from "../../../src/commands/pull.js";
import { loadPullConfig } from "../../../src/config/pull-options.js";
import { buildPullPod } from "../../../src/controller/pull-job.js";
import { join } from "node:path";
import { chartDir, kinds, only, render, renderError, REQUIRED_VALUES } from "./helm.js";

const prePull = (over: Record<string, unknown> = {}) => ({
  ...REQUIRED_VALUES,
  registryPullSecrets: ["team-registry"],
  prePull: { enabled: true, images: ["registry.example.com/team/app:v1", "nginx:1.25"], ...over },
});

describe("prePull", () => {
  it("renders nothing by default", () => {
    const objects = render({ values: REQUIRED_VALUES });
    expect(kinds(objects).filter((k) => k === "Job")).toEqual([]);
    expect(objects.filter((o) => o.kind === "CronJob")).toHaveLength(1);
  });

  it("a Job per revision runs `pull` with the images, the Secrets and the release's sweep settings", () => {
    const objects = render({
      values: prePull({ retries: 1, backoff: "10s" }),
      extraArgs: ["--set", "concurrency=3"],
    });
    const job = only(objects, "Job");
    expect(job.metadata?.name).toBe("kic-kube-image-cleanup-pre-pull-1");
    expect(job.spec?.backoffLimit).toBe(0);
    const pod = job.spec?.template.spec;
    expect(pod?.serviceAccountName).toBe("kic-kube-image-cleanup");
    const args = pod?.containers[0]?.args ?? [];
    const config = loadPullConfig(parseCommand(pullCommand, args), {
      POD_NAME: "p",
      POD_UID: "u",
      POD_NAMESPACE: "kic-system",
    });
    expect(config).toMatchObject({
      images: ["registry.example.com/team/app:v1", "nginx:1.25"],
      registryPullSecrets: ["team-registry"],
      retries: 1,
      backoff: "10s",
      concurrency: 3,
      namespace: "kic-system",
      instance: "kic",
    });
    // The helper pod this config makes carries only the Secret's name, never its content.
    const helper = buildPullPod(
      config,
      config.images,
      { namespace: "kic-system", runId: "r", owner: undefined },
      "n",
      Date.now(),
    );
    expect(JSON.stringify(helper)).toContain('"secretName":"team-registry"');
    // No second cleaning CronJob, no pre-pull CronJob without a schedule.
    expect(objects.filter((o) => o.kind === "CronJob")).toHaveLength(1);
  });

  it("prePull.schedule adds a CronJob with the same command line; onInstall=false drops the Job", () => {
    const objects = render({ values: prePull({ schedule: "0 * * * *", onInstall: false }) });
    expect(objects.filter((o) => o.kind === "Job")).toHaveLength(0);
    const cron = only(objects, "CronJob", "kic-kube-image-cleanup-pre-pull");
    expect(cron.spec?.schedule).toBe("0 * * * *");
    expect(cron.spec?.concurrencyPolicy).toBe("Forbid");
    const args = cron.spec?.jobTemplate.spec?.template.spec?.containers[0]?.args ?? [];
    expect(args.slice(0, 3)).toEqual(["pull", "registry.example.com/team/app:v1", "nginx:1.25"]);
  });

  it("ci/13: a digest reference, the schedule and the retry policy reach the CLI unchanged", () => {
    const objects = render({ files: [join(chartDir, "ci", "13-pre-pull.yaml")] });
    const cron = only(objects, "CronJob", "kic-kube-image-cleanup-pre-pull");
    const args = cron.spec?.jobTemplate.spec?.template.spec?.containers[0]?.args ?? [];
    const config = loadPullConfig(parseCommand(pullCommand, args), {});
    expect(config.images).toEqual([
      "registry.example.com/team/app:v2",
      `registry.example.com/team/worker@sha256:${"0123456789abcdef".repeat(4)}`,
    ]);
    expect(config).toMatchObject({
      retries: 3,
      backoff: "10s",
      registryPullSecrets: ["team-registry"],
    });
    expect(only(objects, "Job").spec?.template.spec?.containers[0]?.args).toEqual(args);
  });

  it("the Role may get exactly the named pull Secrets, and nothing of Secrets without prePull or onlyIfPullable", () => {
    const rules = only(render({ values: prePull() }), "Role", "kic-kube-image-cleanup").rules ?? [];
    expect(rules.filter((r) => r.resources?.includes("secrets"))).toEqual([
      { apiGroups: [""], resources: ["secrets"], resourceNames: ["team-registry"], verbs: ["get"] },
    ]);
    const without =
      only(
        render({ values: { ...REQUIRED_VALUES, registryPullSecrets: ["team-registry"] } }),
        "Role",
        "kic-kube-image-cleanup",
      ).rules ?? [];
    expect(without.filter((r) => r.resources?.includes("secrets"))).toEqual([]);
  });

  it.each([
    [{ prePull: { enabled: true } }, "prePull.images: Array must have at least 1 items"],
    [{ prePull: { enabled: true, images: ["-x"] } }, "prePull.images.0: Does not match pattern"],
    [
      { prePull: { enabled: true, images: ["a:1"], schedule: "hourly" } },
      "prePull.schedule: Does not match pattern",
    ],
    [
      { prePull: { enabled: true, images: ["a:1"], retries: 11 } },
      "prePull.retries: Must be less than or equal to 10",
    ],
    [
      { prePull: { enabled: true, images: ["a:1"], backoff: "5" } },
      "prePull.backoff: Does not match pattern",
    ],
  ])("the schema refuses %j", (values, error) => {
    expect(renderError({ values: { ...REQUIRED_VALUES, ...values } })).toContain(error);
  });

  it("refuses a runtime client that cannot pull", () => {
    expect(renderError({ values: { ...prePull(), runtime: { client: "ctr" } } })).toContain(
      "prePull: runtime.client ctr cannot pull",
    );
  });
});
