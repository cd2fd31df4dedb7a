// Every object the chart renders, for every example in chart/ci, validated by the real API server
// (`kubectl apply --dry-run=server`: schema, defaulting, admission) without being created; and the
// NOTES helm prints after an install, rendered by helm against the same server.
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { kubectl } from "../../support/cluster.js";
import { chartDir, helmOk, kubectlResult, uniqueName } from "./release.js";

const ns = uniqueName("kic-chart-dry");
let kubeVersion = "";

/**
 * `helm template` needs the server's version: this helm's built-in default (v1.20) fails
 * kubeVersion. And it does not ask the server which APIs it serves: say that it serves
 * ValidatingAdmissionPolicy v1, as `helm install` finds out, so the policy is checked too.
 */
const template = (...args: string[]) =>
  helmOk([
    "template",
    "kic",
    chartDir,
    "--namespace",
    ns,
    "--kube-version",
    kubeVersion,
    "--api-versions",
    "admissionregistration.k8s.io/v1/ValidatingAdmissionPolicy",
    ...args,
  ]);
const ciFiles = readdirSync(join(chartDir, "ci")).filter((f) => f.endsWith(".yaml"));

describe("chart objects on the real API server", () => {
  beforeAll(async () => {
    await kubectl(["create", "namespace", ns]);
    // A dry run creates nothing, so the test pod's service account would not exist when admission
    // looks it up; at install time helm creates it before any hook pod. ci/08 names an existing one.
    for (const sa of ["kic-kube-image-cleanup", "image-cleaner"]) {
      await kubectl(["create", "serviceaccount", "-n", ns, sa]);
    }
    const version = JSON.parse(await kubectl(["version", "-o", "json"])) as {
      serverVersion: { gitVersion: string };
    };
    kubeVersion = version.serverVersion.gitVersion;
  });
  afterAll(async () => {
    await kubectl(["delete", "namespace", ns, "--wait=false"]);
  });

  for (const f of ciFiles) {
    it(`accepts every object rendered with ci/${f} (server-side dry run)`, async () => {
      const manifest = await template("-f", join(chartDir, "ci", f));
      const r = await kubectlResult(
        ["apply", "--dry-run=server", "-o", "name", "-f", "-"],
        manifest,
      );
      expect(r.stderr).toBe("");
      expect(r.code).toBe(0);
      const applied = r.stdout.trim().split("\n").sort();
      // Every rendered document reached the server (a dry run prints one name per object).
      const documents = manifest.split(/^---$/m).filter((d) => /^kind: /m.test(d)).length;
      expect(applied).toHaveLength(documents);
      expect(applied).toContain("cronjob.batch/kic-kube-image-cleanup");
      expect(applied).toContain(
        `validatingadmissionpolicy.admissionregistration.k8s.io/kic-kube-image-cleanup-${ns}`,
      );
      // The server checks the schedule's syntax, the time zone and the pod template, which the chart's
      // schema only approximates.
    });
  }

  it("rejects what the schema cannot see: a time zone the server does not know", async () => {
    const manifest = await template(
      "-f",
      join(chartDir, "ci", "01-default-values.yaml"),
      "--set",
      "timeZone=Mars/Olympus_Mons",
    );
    const r = await kubectlResult(["apply", "--dry-run=server", "-f", "-"], manifest);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain("spec.timeZone");
  });

  /** The NOTES of a server dry-run install of release `release` with ci/03 and `set`. */
  const notesFor = async (release: string, ...set: string[]) => {
    const out = await helmOk([
      "install",
      release,
      chartDir,
      "--namespace",
      ns,
      "--dry-run=server",
      "-f",
      join(chartDir, "ci", "03-keep-pods.yaml"),
      ...set.flatMap((s) => ["--set", s]),
    ]);
    return out.slice(out.indexOf("NOTES:"));
  };

  it("prints NOTES that say how to trigger a run, read its log and label the namespace", async () => {
    // Not "kic": that release's service account was created by hand above.
    const notes = await notesFor("notes");
    expect(notes).toContain(
      `kubectl label namespace ${ns} pod-security.kubernetes.io/enforce=privileged --overwrite`,
    );
    expect(notes).toContain(
      `kubectl create job -n ${ns} --from=cronjob/notes-kube-image-cleanup notes-kube-image-cleanup-manual-$(date +%s)`,
    );
    expect(notes).toContain(`kubectl logs -n ${ns} job/`);
    expect(notes).toContain(
      // The same selector the controller prints (src/run-model/labels.ts instanceLabels).
      `kubectl delete pods -n ${ns} -l app.kubernetes.io/name=kube-image-cleanup,app.kubernetes.io/instance=notes,app.kubernetes.io/component=agent`,
    );
    expect(notes).toContain(`helm test notes -n ${ns}`);
  });

  it("warns in the NOTES when the cluster's selected nodes cannot all be reached in one run", async () => {
    // The local cluster has one Linux node: at 5 s a node, a 4 s run cannot reach it.
    const tight = await notesFor("reach", "concurrency=1", "timeouts.runSeconds=4");
    expect(tight).toContain(
      'WARNING: one run cannot clean all 1 selected nodes (nodes in the cluster now that match nodes.selector "kubernetes.io/os=linux")',
    );
    expect(tight).toContain("or timeouts.runSeconds to at least 5");
    // The cluster's nodes are looked up and matched by the selector: none match, nothing to warn of.
    const none = await notesFor(
      "reach-none",
      "concurrency=1",
      "timeouts.runSeconds=4",
      "nodes.selector=kic-test/absent=yes",
    );
    expect(none).not.toContain("WARNING");
    expect(await notesFor("reach-default")).not.toContain("WARNING");
  });
});
