// The opt-in PrometheusRule: rendered by the real helm, its PromQL checked by the real promtool
// (`promtool check rules`) and its two alerts run against series like the ones each run pushes
// (`promtool test rules`, Prometheus' own rule evaluation): the last success too old, and a node
// that failed N runs in a row. promtool comes from Debian's prometheus package
// (test/cluster/install-deps.sh).
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import yaml from "js-yaml";
import { afterAll, describe, expect, it } from "vitest";
import { cacheDir } from "../../support/cluster.js";
import { chartDir, helm, KUBE_VERSION, render, renderError, REQUIRED_VALUES } from "./helm.js";

const promtoolBin = join(cacheDir, "bin", "promtool");
const tmp = mkdtempSync(join(tmpdir(), "kic-prometheus-rule-"));
afterAll(() => {
  rmSync(tmp, { recursive: true, force: true });
});

const PUSH = { pushgateway: { url: "http://pushgateway.monitoring:9091" } };

interface PrometheusRule {
  kind: string;
  metadata: { name: string; namespace: string; labels: Record<string, string> };
  spec: {
    groups: {
      name: string;
      rules: { alert: string; expr: string; labels: Record<string, string> }[];
    }[];
  };
}

function ruleFor(rule: Record<string, unknown>, release = "kic"): PrometheusRule {
  const found = render({
    values: {
      ...REQUIRED_VALUES,
      metrics: { ...PUSH, prometheusRule: { enabled: true, ...rule } },
    },
    release,
  }).filter((o) => o.kind === "PrometheusRule");
  expect(found).toHaveLength(1);
  return found[0] as unknown as PrometheusRule;
}

function promtool(args: string[]): { status: number | null; out: string } {
  const r = spawnSync(promtoolBin, args, { encoding: "utf8", timeout: 60_000 });
  if (r.error)
    throw new Error(`cannot run ${promtoolBin} (test/cluster/install-deps.sh): ${r.error.message}`);
  return { status: r.status, out: r.stdout + r.stderr };
}

/** Writes the rule's groups as a Prometheus rules file; returns its path. */
function rulesFile(rule: PrometheusRule, name: string): string {
  const file = join(tmp, `${name}.rules.yaml`);
  writeFileSync(file, yaml.dump({ groups: rule.spec.groups }));
  return file;
}

/** Runs `promtool test rules` on one test case against `rules`. */
function testRules(rules: string, test: Record<string, unknown>, name: string) {
  const file = join(tmp, `${name}.test.yaml`);
  writeFileSync(
    file,
    yaml.dump({
      rule_files: [rules],
      evaluation_interval: "1m",
      tests: [{ interval: "1h", ...test }],
    }),
  );
  return promtool(["test", "rules", file]);
}

const job = 'job="kube-image-cleanup"';

describe("metrics.prometheusRule", () => {
  it("renders nothing by default", () => {
    expect(
      render({ values: { ...REQUIRED_VALUES, metrics: PUSH } }).map((o) => o.kind),
    ).not.toContain("PrometheusRule");
  });

  it("needs metrics.pushgateway.url: the schema and, without it, the template say so", () => {
    const values = { ...REQUIRED_VALUES, metrics: { prometheusRule: { enabled: true } } };
    expect(renderError({ values })).toMatch(/metrics.*(pushgateway|url)/);
    expect(renderError({ values, extraArgs: ["--skip-schema-validation"] })).toContain(
      "metrics.prometheusRule.enabled needs metrics.pushgateway.url",
    );
  });

  it("refuses a max age that is not a Prometheus duration", () => {
    const values = (age: string) => ({
      ...REQUIRED_VALUES,
      metrics: { ...PUSH, prometheusRule: { enabled: true, lastSuccessMaxAge: age } },
    });
    expect(renderError({ values: values("1 day") })).toMatch(/lastSuccessMaxAge/);
    expect(
      renderError({ values: values("30s"), extraArgs: ["--skip-schema-validation"] }),
    ).toContain('metrics.prometheusRule.lastSuccessMaxAge: "30s" is not a duration of at least 1m');
  });

  it("selects this release's series, carries its labels and passes helm lint --strict", () => {
    const rule = ruleFor(
      { labels: { release: "kube-prometheus-stack" }, severity: "critical" },
      "nightly",
    );
    expect(rule.metadata.name).toBe("nightly-kube-image-cleanup");
    expect(rule.metadata.labels.release).toBe("kube-prometheus-stack");
    const rules = rule.spec.groups.flatMap((g) => g.rules);
    expect(rules.map((r) => r.alert)).toEqual([
      "KubeImageCleanupNoRecentSuccess",
      "KubeImageCleanupNodeFailing",
    ]);
    for (const r of rules) {
      expect(r.expr).toContain(`{${job}, release="nightly"}`);
      expect(r.labels.severity).toBe("critical");
    }
    const file = join(tmp, "lint-values.json");
    writeFileSync(
      file,
      JSON.stringify({
        ...REQUIRED_VALUES,
        metrics: { ...PUSH, prometheusRule: { enabled: true } },
      }),
    );
    const lint = helm(["lint", chartDir, "--strict", "--kube-version", KUBE_VERSION, "-f", file]);
    expect(lint.stdout + lint.stderr).toContain("1 chart(s) linted, 0 chart(s) failed");
  });

  it("is valid PromQL and a valid rules file (promtool check rules)", () => {
    const r = promtool(["check", "rules", rulesFile(ruleFor({}), "check")]);
    expect(r.out).toContain("SUCCESS: 2 rules found");
    expect(r.status).toBe(0);
  });

  it("check rules can fail: a broken expression is refused", () => {
    const broken = ruleFor({});
    const first = broken.spec.groups[0]?.rules[0];
    if (first) first.expr = "time() - max by (job (x)";
    const r = promtool(["check", "rules", rulesFile(broken, "broken")]);
    expect(r.status).not.toBe(0);
  });

  describe("the alerts, evaluated by promtool test rules", () => {
    // lastSuccessMaxAge 26h, nodeFailedRuns 3 (the defaults), release kic.
    const rules = () => rulesFile(ruleFor({}), "defaults");
    const lastSuccess = (release: string) =>
      `kube_image_cleanup_last_success_timestamp_seconds{${job}, release="${release}", instance=""}`;
    const streak = (node: string, release = "kic") =>
      `kube_image_cleanup_node_consecutive_failures{${job}, release="${release}", node="${node}", instance=""}`;

    /** The labels of an alert of release kic, and `more`. */
    const labels = (more: Record<string, string> = {}) => ({
      severity: "warning",
      job: "kube-image-cleanup",
      release: "kic",
      ...more,
    });
    /** promtool's tests of `alertname`: at each evaluation time, the alerts expected then. */
    const alertsAt = (alertname: string, at: Record<string, Record<string, unknown>[]>) =>
      Object.entries(at).map(([eval_time, exp_alerts]) => ({ eval_time, alertname, exp_alerts }));
    /** promtool test rules over `series`: run against `file`, with its status and output. */
    const run = (file: string, name: string, series: unknown[], tests: unknown[]) =>
      testRules(file, { input_series: series, alert_rule_test: tests }, name);

    it("KubeImageCleanupNoRecentSuccess fires once the last success is older than 26h, for this release only", () => {
      const r = run(
        rules(),
        "no-recent-success",
        [
          // Succeeded at t=0 and never again.
          { series: lastSuccess("kic"), values: "0x40" },
          // Another release's old success is not this rule's business.
          { series: lastSuccess("other"), values: "0x40" },
          // A release that succeeded at 20h: 7h old at 27h.
          { series: lastSuccess("kic-fresh"), values: "0x20 72000x20" },
        ],
        alertsAt("KubeImageCleanupNoRecentSuccess", {
          "25h": [],
          "27h": [
            {
              exp_labels: labels(),
              exp_annotations: {
                summary:
                  "kube-image-cleanup release kic has not cleaned every node for more than 26h",
                description:
                  "The last run of release kic (namespace kic-system) that cleaned every selected node finished 1d 3h 0m 0s ago. Read the last Job's log (kubectl logs -n kic-system job/<name>) or kube-image-cleanup report -n kic-system.",
              },
            },
          ],
        }),
      );
      expect(r.out).toContain("SUCCESS");
      expect(r.status).toBe(0);
    });

    it("KubeImageCleanupNodeFailing fires for a node that failed 3 runs in a row, not 2, and not after a clean run", () => {
      const r = run(
        rules(),
        "node-failing",
        [
          // One push per hour: node a fails 1, 2, 3, 4 runs in a row, then is cleaned.
          { series: streak("a"), values: "1 2 3 4 0" },
          { series: streak("b"), values: "0 0 0 0 0" },
          { series: streak("c"), values: "1 2 2 2 2" },
          { series: streak("a", "other"), values: "9 9 9 9 9" },
        ],
        alertsAt("KubeImageCleanupNodeFailing", {
          "1h": [],
          "2h": [
            {
              exp_labels: labels({ node: "a" }),
              exp_annotations: {
                summary: "kube-image-cleanup failed 3 runs in a row on a node",
                description:
                  "Node a failed the last 3 runs of release kic (namespace kic-system); each run's Job log names the reason, and so does kube-image-cleanup report -n kic-system.",
              },
            },
          ],
          "4h": [],
        }),
      );
      expect(r.out).toContain("SUCCESS");
      expect(r.status).toBe(0);
    });

    it("follows nodeFailedRuns, and promtool test rules fails when an expected alert does not fire", () => {
      const five = rulesFile(ruleFor({ nodeFailedRuns: 5 }), "five");
      const r = run(
        five,
        "five",
        [{ series: streak("a"), values: "1 2 3 4" }],
        alertsAt("KubeImageCleanupNodeFailing", { "3h": [{ exp_labels: labels({ node: "a" }) }] }),
      );
      expect(r.status).not.toBe(0);
      expect(r.out).toMatch(/FAILED/);
    });
  });
});
