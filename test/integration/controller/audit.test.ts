// The audit that outlives the Job, on the real API server and kubelet: an Event about the Node that
// `kubectl describe node` shows, the run-report ConfigMap (also with 5,000 nodes), `report` printing
// it, a real Pushgateway scraped; each as the chart's service account with the chart's RBAC, and a
// missing permission is a note naming it while the run keeps its result.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { summaryExitCode } from "../../../src/run-model/run-summary.js";
import { REPORT_MAX_BYTES } from "../../../src/report/run-report/fit.js";
import { createRunSinks } from "../../../src/report/sinks/index.js";
import { createRunReportSink } from "../../../src/report/sinks/run-report.js";
import { ensureCluster, kubectl } from "../../support/cluster.js";
import { startPushgateway, type Pushgateway } from "../../support/pushgateway.js";
import { render, REQUIRED_VALUES } from "../../unit/chart/helm.js";
import { bigSummary } from "../../unit/report/audit-fixtures.js";
import {
  collectingReporter,
  execFileAsync,
  kubeFor,
  nodeImageNames,
  removeNodeImages,
  testRunConfig,
  controllerOnCluster,
  nodeFlags,
} from "../../support/controller-on-cluster.js";

const SA = "kic";
const BARE = "kic-bare";
const REPORT = `${SA}-report`;
const fixture = controllerOnCluster("audit", {
  accounts: {
    [SA]: { allowPodDeletion: true, events: true, report: true },
    // The chart's RBAC with events and the report turned off: the run must go on without them.
    [BARE]: { allowPodDeletion: true },
  },
  cli: true,
});
const { tok, ns, ref } = fixture;
let gateway: Pushgateway;

/** The report ConfigMap exactly as the chart renders it for a release named `release`. */
function chartReportConfigMap(release: string): string {
  const objects = render({
    release,
    namespace: ns,
    values: { ...REQUIRED_VALUES, fullnameOverride: release },
  }).filter((o) => o.kind === "ConfigMap" && o.metadata?.name === `${release}-report`);
  if (objects.length !== 1) throw new Error(`the chart rendered no ConfigMap ${release}-report`);
  return JSON.stringify(objects[0]);
}

interface EventList {
  items: {
    reason: string;
    type: string;
    message: string;
    involvedObject: { kind: string; name: string };
    source?: { component?: string };
    metadata: { labels?: Record<string, string> };
  }[];
}

async function nodeEvents(reason: string): Promise<EventList["items"]> {
  const out = await kubectl([
    "get",
    "events",
    "-n",
    "default",
    "--field-selector",
    `involvedObject.kind=Node,involvedObject.name=${fixture.nodeName},reason=${reason}`,
    "-o",
    "json",
  ]);
  return (JSON.parse(out) as EventList).items;
}

async function reportJson(): Promise<{ text: string; object: string }> {
  const object = await kubectl(["get", "configmap", REPORT, "-n", ns, "-o", "json"]);
  const cm = JSON.parse(object) as { data?: Record<string, string> };
  return { text: cm.data?.["runs.json"] ?? "", object };
}

async function canI(args: string[]): Promise<string> {
  const r = await execFileAsync(ensureCluster().binDir + "/kubectl", [
    "--kubeconfig",
    ensureCluster().kubeconfig,
    "auth",
    "can-i",
    ...args,
    `--as=system:serviceaccount:${ns}:${SA}`,
  ]).catch((err: unknown) => ({ stdout: (err as { stdout?: string }).stdout ?? "" }));
  return r.stdout.trim();
}

describe("audit: Events on Nodes, run report, Pushgateway (real API server)", () => {
  beforeAll(async () => {
    gateway = await startPushgateway();
    await kubectl(["apply", "-f", "-"], { input: chartReportConfigMap(SA) });
  });

  afterAll(async () => {
    await gateway.stop();
  });

  it("grants create on events only in default, and get/update only on the report ConfigMap", async () => {
    expect(await canI(["create", "events", "-n", "default"])).toBe("yes");
    expect(await canI(["list", "events", "-n", "default"])).toBe("no");
    expect(await canI(["create", "events", "-n", "kube-system"])).toBe("no");
    expect(await canI(["get", `configmap/${REPORT}`, "-n", ns])).toBe("yes");
    expect(await canI(["update", `configmap/${REPORT}`, "-n", ns])).toBe("yes");
    expect(await canI(["delete", `configmap/${REPORT}`, "-n", ns])).toBe("no");
    expect(await canI(["get", "configmap/kube-root-ca.crt", "-n", ns])).toBe("no");
    expect(await canI(["create", "configmaps", "-n", ns])).toBe("no");
    expect(await canI(["list", "configmaps", "-n", ns])).toBe("no");
  });

  it("list: a read-only sweep prints one table of the images the patterns match, and deletes nothing", async () => {
    fixture.images([ref("app:v1"), ref("app:v2")]);
    const args = [
      ...fixture.cliArgs("list", "kic", {
        instance: `list-${tok}`,
        include: ref("app:*"),
        nodes: fixture.nodeName,
      }),
      ...nodeFlags(),
    ];
    const table = await execFileAsync(process.execPath, args);
    console.log(`kube-image-cleanup list:\n${table.stdout}`);
    const lines = table.stdout.split("\n");
    expect(lines[0]).toBe("2 images matched on 1 node (dry run: nothing was deleted)");
    expect(lines[1]).toMatch(/^IMAGE +NODES +USED ON +SIZE +WOULD CLEAN ON +KEPT BECAUSE$/);
    for (const name of ["app:v1", "app:v2"])
      expect(lines).toContainEqual(
        expect.stringMatching(
          new RegExp(
            `^${ref(name).replace(/[.]/g, "\\.")} +1 +- +\\d+\\.\\d [KM]iB +${fixture.nodeName} +-$`,
          ),
        ),
      );
    expect(nodeImageNames()).toEqual(expect.arrayContaining([ref("app:v1"), ref("app:v2")]));
    const csv = await execFileAsync(process.execPath, [...args, "--output", "csv"]);
    expect(csv.stdout.split("\r\n")[0]).toBe(
      "image,id,nodes,used_on,size_bytes,would_clean_on,kept",
    );
    const json = await execFileAsync(process.execPath, [...args, "--output", "json"]);
    const doc = JSON.parse(json.stdout) as { nodes: number; images: { image: string }[] };
    expect(doc.nodes).toBe(1);
    expect(doc.images.map((i) => i.image).sort()).toEqual([ref("app:v1"), ref("app:v2")]);
    removeNodeImages([ref("app:v2")]);
  });

  it("records an Event on the Node that kubectl describe node shows, writes the report, prints it, and pushes metrics", async () => {
    fixture.images([ref("app:v1")]);
    const instance = `audit-${tok}`;
    const config = testRunConfig(ns, instance, {
      include: [ref("app:*")],
      nodes: [fixture.nodeName],
      "report-configmap": REPORT,
      "pushgateway-url": gateway.url,
    });
    const kube = kubeFor(fixture.account("kic"), "sa");
    const { lines, reporter } = collectingReporter();
    const { summary } = await fixture.run(kube, config, {
      report: reporter,
      sinks: createRunSinks(config.audit, kube),
    });
    expect(lines.filter((l) => l.startsWith("note:"))).toEqual([]);
    expect(summaryExitCode(summary)).toBe(0);
    const runId = summary.runId;

    // 1. The Event, as kubectl describe node shows it.
    const described = await kubectl(["describe", "node", fixture.nodeName]);
    const eventLine = described
      .split("\n")
      .find((l) => l.includes("ImagesCleaned") && l.includes(runId));
    expect(eventLine).toMatch(
      new RegExp(
        `Normal +ImagesCleaned +\\S+ +kube-image-cleanup +deleted 1 image \\(\\d+\\.\\d [KM]iB\\), kept 0, 0 failed; run ${runId}, \\d+\\.\\d s`,
      ),
    );
    const events = (await nodeEvents("ImagesCleaned")).filter(
      (e) => e.metadata.labels?.["kube-image-cleanup.io/run-id"] === runId,
    );
    expect(events).toHaveLength(1);
    expect(events[0]?.type).toBe("Normal");

    // 2. The run report.
    const { text } = await reportJson();
    const report = JSON.parse(text) as {
      runs: { runId: string; exitCode: number; nodes: { node: string; deleted?: number }[] }[];
    };
    expect(report.runs[0]?.runId).toBe(runId);
    expect(report.runs[0]?.exitCode).toBe(0);
    expect(report.runs[0]?.nodes).toEqual([
      expect.objectContaining({ node: fixture.nodeName, status: "ok", deleted: 1, failed: 0 }),
    ]);

    // 3. `kube-image-cleanup report` prints it as the run's tables.
    const printed = await execFileAsync(process.execPath, [
      fixture.cli,
      "report",
      "--kubeconfig",
      ensureCluster().kubeconfig,
      "--namespace",
      ns,
    ]);
    const out = printed.stdout.split("\n");
    // What docs/audit.md and docs/workstation.md show, from this real run.
    console.log(
      `kubectl describe node:\n${eventLine ?? ""}\n\nkube-image-cleanup report:\n${printed.stdout}`,
    );
    expect(out[0]).toBe(`run report ${ns}/${REPORT}: 1 run, newest first`);
    expect(
      out.some((l) => new RegExp(`^  ${runId} .* ok +1 +1 +0 +1 +\\d+\\.\\d [KM]iB`).test(l)),
    ).toBe(true);
    expect(out).toContainEqual(
      expect.stringMatching(
        new RegExp(`^run ${runId}, started .*: 1 node: 1 ok, 0 failed; deleted 1 image`),
      ),
    );
    expect(out).toContainEqual(
      expect.stringMatching(
        new RegExp(`^  ${fixture.nodeName} +ok +1 +\\d+\\.\\d [KM]iB +0 +0 +\\d+\\.\\d s$`),
      ),
    );

    // 4. The metrics, scraped from the real Pushgateway.
    const scraped = (await gateway.scrape()).split("\n");
    const series = (name: string, ...labels: string[]) =>
      scraped.find((l) => l.startsWith(`${name}{`) && labels.every((x) => l.includes(x)));
    const release = `release="${instance}"`;
    expect(
      series("kube_image_cleanup_node_images_deleted", `node="${fixture.nodeName}"`, release),
    ).toMatch(/ 1$/);
    expect(series("kube_image_cleanup_nodes", 'result="ok"', release)).toMatch(/ 1$/);
    expect(series("kube_image_cleanup_last_success_timestamp_seconds", release)).toMatch(
      / \d+(\.\d+)?(e\+\d+)?$/,
    );
  });

  it("goes on with its own result when Events and the report are forbidden, and says which permission is missing", async () => {
    const config = testRunConfig(ns, `bare-${tok}`, {
      include: [ref("nothing:*")],
      nodes: [fixture.nodeName],
      "dry-run": true,
      "report-configmap": REPORT,
    });
    const kube = kubeFor(fixture.account("kic-bare"), "sa");
    const { lines, reporter } = collectingReporter();
    const { summary } = await fixture.run(kube, config, {
      report: reporter,
      sinks: createRunSinks(config.audit, kube),
    });
    expect(summaryExitCode(summary)).toBe(0);
    const notes = lines.filter((l) => l.startsWith("note:"));
    expect(notes).toHaveLength(2);
    expect(notes[0]).toMatch(
      new RegExp(
        `^note: events: no Event for node ${fixture.nodeName}: forbidden: create events in namespace default: .* \\(granted by the chart's events Role in namespace default \\(events.enabled=true, rbac.create=true\\)\\); no more Events are recorded in this run \\(or set events.enabled=false\\) \\(the run's result is unaffected\\)$`,
      ),
    );
    expect(notes[1]).toMatch(
      /^note: run report: ConfigMap kic-report not written: forbidden: get configmaps in namespace kic-audit-\w+: .* \(granted by the chart's Role on its report ConfigMap \(report.enabled=true, rbac.create=true\)\) \(the run's result is unaffected\)$/,
    );
  });

  it("writes 5,000-node runs to the real ConfigMap and keeps it far below 1 MiB", async () => {
    const sink = createRunReportSink(kubeFor(fixture.account("kic"), "sa").audit, REPORT, 10);
    for (let i = 0; i < 11; i++) {
      const summary = bigSummary({ nodes: 5000, failed: 100, runId: `big-${tok}-${i}` });
      await sink.summary?.(summary, {
        runId: summary.runId,
        namespace: ns,
        instance: SA,
        dryRun: false,
        startedAt: Date.now() - 3_600_000,
        finishedAt: Date.now(),
        exitCode: 1,
      });
    }
    const { text, object } = await reportJson();
    const report = JSON.parse(text) as {
      runs: { runId: string; totals: { nodes: number }; omittedNodes?: number }[];
    };
    expect(report.runs).toHaveLength(10);
    expect(report.runs[0]?.runId).toBe(`big-${tok}-10`);
    expect(report.runs.every((r) => r.totals.nodes === 5000)).toBe(true);
    expect(Buffer.byteLength(text)).toBeLessThanOrEqual(REPORT_MAX_BYTES);
    // The whole object as the API server stores it (metadata and managedFields included).
    expect(Buffer.byteLength(object)).toBeLessThan(300 * 1024);
    console.log(
      `report ConfigMap with 10 runs of 5,000 nodes: runs.json ${Buffer.byteLength(text)} bytes, object ${Buffer.byteLength(object)} bytes`,
    );
  });

  it("report: a namespace without a report is exit 2 and one line naming the flag", async () => {
    const r = await execFileAsync(process.execPath, [
      fixture.cli,
      "report",
      "--kubeconfig",
      ensureCluster().kubeconfig,
      "--namespace",
      "default",
    ]).catch((err: unknown) => err);
    expect((r as { code?: number }).code).toBe(2);
    const stderr = ((r as { stderr?: string }).stderr ?? "").trim().split("\n");
    expect(stderr[0]).toMatch(
      /^error: invalid --report-configmap: nothing was given; no run report \(ConfigMap labelled app.kubernetes.io\/component=run-report\) in namespace default; give -n, the release's namespace \(the chart keeps a report unless report\.enabled=false\)$/,
    );
  });
});
