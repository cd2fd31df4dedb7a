// The metrics sink against a real Prometheus Pushgateway on loopback: pushed, scraped back and
// checked; a failed run keeps the last success time; a push that fails is a note, not a failure.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createPushgatewaySink } from "../../../src/report/sinks/pushgateway.js";
import { createSinkRunner } from "../../../src/controller/sink-runner.js";
import { bigSummary } from "../../unit/report/audit-fixtures.js";
import { freePort, startPushgateway, type Pushgateway } from "../../support/pushgateway.js";

let gateway: Pushgateway;
const ctx = { runId: "r1", namespace: "kic", instance: "kic-prod", dryRun: false, startedAt: 0 };

/** The value of the series `name{labels}` in a scrape, with the labels in any order. */
function sample(text: string, name: string, labels: Record<string, string>): number | undefined {
  for (const line of text.split("\n")) {
    const m = /^([a-z_]+)\{(.*)\} (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const got: Record<string, string | undefined> = Object.fromEntries(
      [...(m[2] ?? "").matchAll(/([a-z_]+)="((?:[^"\\]|\\.)*)"/g)].map((x): [string, string] => [
        x[1] ?? "",
        x[2] ?? "",
      ]),
    );
    if (Object.entries(labels).every(([k, v]) => got[k] === v)) return Number(m[3]);
  }
  return undefined;
}

const group = { job: "kube-image-cleanup", release: "kic-prod" };

/**
 * Pushes `summary` as a run that ended with `exitCode` at `finishedAt` (context `runCtx`; the
 * sink's scope `narrowed` when given), checks that the push left no note, and returns the
 * Pushgateway's scrape.
 */
async function pushRun(
  summary: ReturnType<typeof bigSummary>,
  exitCode: number,
  finishedAt: number,
  runCtx: typeof ctx = ctx,
  narrowed?: boolean,
): Promise<string> {
  const notes: string[] = [];
  const sink =
    narrowed === undefined
      ? createPushgatewaySink(gateway.url)
      : createPushgatewaySink(gateway.url, { scope: { narrowed } });
  const runner = createSinkRunner([sink], runCtx, (m) => notes.push(m));
  await runner.finish(summary, exitCode, finishedAt);
  expect(notes).toEqual([]);
  return gateway.scrape();
}

describe("metrics pushed to a real Pushgateway", () => {
  beforeAll(async () => {
    gateway = await startPushgateway();
  });
  afterAll(async () => {
    await gateway.stop();
  });

  it("pushes images and bytes deleted per node, nodes by result, duration and times, grouped by release", async () => {
    const summary = bigSummary({ nodes: 3, failed: 0, nameLength: 8 });
    const text = await pushRun(summary, 0, 1_764_558_000_000);
    expect(
      sample(text, "kube_image_cleanup_node_images_deleted", { ...group, node: "nn-00001" }),
    ).toBe(2);
    expect(
      sample(text, "kube_image_cleanup_node_bytes_deleted", { ...group, node: "nn-00002" }),
    ).toBe(2 * 1024 ** 3);
    expect(sample(text, "kube_image_cleanup_nodes", { ...group, result: "ok" })).toBe(3);
    expect(sample(text, "kube_image_cleanup_nodes", { ...group, result: "failed" })).toBe(0);
    expect(sample(text, "kube_image_cleanup_run_duration_seconds", group)).toBe(3600);
    expect(sample(text, "kube_image_cleanup_last_success_timestamp_seconds", group)).toBe(
      1764558000,
    );
    expect(sample(text, "push_failure_time_seconds", group)).toBe(0);
  });

  it("keeps the last success time through a failed run and drops series of nodes that are gone", async () => {
    const runner = createSinkRunner([createPushgatewaySink(gateway.url)], ctx, () => undefined);
    const failedRun = bigSummary({ nodes: 2, failed: 1, nameLength: 8 });
    await runner.finish(failedRun, 1, 1_764_561_600_000);
    const text = await gateway.scrape();
    expect(sample(text, "kube_image_cleanup_last_success_timestamp_seconds", group)).toBe(
      1764558000,
    );
    expect(sample(text, "kube_image_cleanup_last_run_timestamp_seconds", group)).toBe(1764561600);
    expect(sample(text, "kube_image_cleanup_nodes", { ...group, result: "failed" })).toBe(1);
    expect(sample(text, "kube_image_cleanup_node_ok", { ...group, node: "nn-00000" })).toBe(0);
    // nn-00002 was in the first run only.
    expect(
      sample(text, "kube_image_cleanup_node_images_deleted", { ...group, node: "nn-00002" }),
    ).toBeUndefined();
  });

  it("logs a push that fails and lets the run finish with its own result", async () => {
    const closed = `http://127.0.0.1:${await freePort()}`;
    const notes: string[] = [];
    const runner = createSinkRunner([createPushgatewaySink(closed)], ctx, (m) => notes.push(m));
    await expect(runner.finish(bigSummary({ nodes: 1 }), 0, Date.now())).resolves.toBeUndefined();
    expect(notes).toEqual([
      `metrics: push to the Pushgateway ${closed}/metrics/job/kube-image-cleanup/release/kic-prod failed: ECONNREFUSED (the run's result is unaffected)`,
    ]);
  });

  it("names the HTTP status when the Pushgateway refuses the push", async () => {
    const notes: string[] = [];
    // A path the Pushgateway does not serve: 404.
    const runner = createSinkRunner([createPushgatewaySink(`${gateway.url}/not-here`)], ctx, (m) =>
      notes.push(m),
    );
    await runner.finish(bigSummary({ nodes: 1 }), 0, Date.now());
    expect(notes[0]).toMatch(/^metrics: push to the Pushgateway .* failed: HTTP 404/);
  });

  it("counts the runs a node failed in a row across pushes, from what the Pushgateway kept", async () => {
    const streakCtx = { ...ctx, instance: "kic-streaks" };
    const streakGroup = { job: "kube-image-cleanup", release: "kic-streaks" };
    const push = (failed: number, scope = { narrowed: false }, nodes = 2) =>
      pushRun(
        bigSummary({ nodes, failed, nameLength: 8 }),
        failed > 0 ? 1 : 0,
        Date.now(),
        streakCtx,
        scope.narrowed,
      );
    const streak = (text: string, node: string) =>
      sample(text, "kube_image_cleanup_node_consecutive_failures", { ...streakGroup, node });
    // nn-00000 fails three runs in a row; nn-00001 is cleaned every time.
    await push(1);
    await push(1);
    let text = await push(1);
    expect(streak(text, "nn-00000")).toBe(3);
    expect(streak(text, "nn-00001")).toBe(0);
    // A run narrowed to one node (--nodes nn-00000... here the first node only) keeps the other's count.
    text = await push(1, { narrowed: true }, 1);
    expect(streak(text, "nn-00000")).toBe(4);
    expect(streak(text, "nn-00001")).toBe(0);
    // Another release's group counts on its own: kic-prod's nn-00000 failed once (the test above).
    expect(
      sample(text, "kube_image_cleanup_node_consecutive_failures", { ...group, node: "nn-00000" }),
    ).toBe(1);
    // A run that cleans the node sets it back to 0.
    text = await push(0);
    expect(streak(text, "nn-00000")).toBe(0);
  });

  describe("runs that visit only some nodes, or delete nothing", () => {
    const release = "kic-partial-runs";
    const g = { job: "kube-image-cleanup", release };
    const push = (
      summary: ReturnType<typeof bigSummary>,
      exitCode: number,
      finishedAt: number,
      narrowed = false,
    ) =>
      pushRun(
        summary,
        exitCode,
        finishedAt,
        { ...ctx, instance: release, dryRun: summary.dryRun },
        narrowed,
      );
    const deleted = (text: string, node: string) =>
      sample(text, "kube_image_cleanup_node_images_deleted", { ...g, node });

    it("a dry run sets no last success time and leaves every node's series as the last real run left them", async () => {
      await push(bigSummary({ nodes: 3, nameLength: 8 }), 0, 1_764_558_000_000);
      const dry = { ...bigSummary({ nodes: 3, nameLength: 8 }), dryRun: true };
      const text = await push(dry, 0, 1_764_561_600_000);
      expect(sample(text, "kube_image_cleanup_last_success_timestamp_seconds", g)).toBe(1764558000);
      expect(sample(text, "kube_image_cleanup_run_dry_run", g)).toBe(1);
      for (const node of ["nn-00000", "nn-00001", "nn-00002"]) expect(deleted(text, node)).toBe(2);
    });

    it("a run narrowed with --nodes sets no last success time and keeps the other nodes' series", async () => {
      // nn-00000 only, and it failed: its own series change, nn-00001 and nn-00002 keep theirs.
      const one = bigSummary({ nodes: 1, failed: 1, nameLength: 8 });
      const narrowedRow = one.nodes[0];
      if (narrowedRow?.totals) narrowedRow.totals.deleted = 7;
      let text = await push(one, 1, 1_764_565_200_000, true);
      expect(deleted(text, "nn-00000")).toBe(7);
      expect(deleted(text, "nn-00001")).toBe(2);
      expect(deleted(text, "nn-00002")).toBe(2);
      expect(sample(text, "kube_image_cleanup_node_ok", { ...g, node: "nn-00000" })).toBe(0);
      expect(sample(text, "kube_image_cleanup_node_ok", { ...g, node: "nn-00001" })).toBe(1);
      // Even when the narrowed run succeeds, it is not a run that cleaned every node.
      text = await push(bigSummary({ nodes: 1, nameLength: 8 }), 0, 1_764_568_800_000, true);
      expect(sample(text, "kube_image_cleanup_last_success_timestamp_seconds", g)).toBe(1764558000);
      expect(sample(text, "kube_image_cleanup_last_run_timestamp_seconds", g)).toBe(1764568800);
      expect(deleted(text, "nn-00002")).toBe(2);
    });
  });

  it("replaces per-node series an older version pushed into the release's group, keeping their failure counts", async () => {
    const release = "kic-upgraded";
    const g = { job: "kube-image-cleanup", release };
    // As a release before per-node groups pushed it.
    const old = await fetch(`${gateway.url}/metrics/job/kube-image-cleanup/release/${release}`, {
      method: "POST",
      body:
        "# HELP kube_image_cleanup_node_images_deleted Images deleted from the node by the last run (0 in a dry run).\n" +
        "# TYPE kube_image_cleanup_node_images_deleted gauge\n" +
        'kube_image_cleanup_node_images_deleted{node="nn-00000"} 5\n' +
        "# HELP kube_image_cleanup_node_consecutive_failures Runs in a row that failed on the node (0 after a run that cleaned it).\n" +
        "# TYPE kube_image_cleanup_node_consecutive_failures gauge\n" +
        'kube_image_cleanup_node_consecutive_failures{node="nn-00000"} 4\n' +
        'kube_image_cleanup_node_consecutive_failures{node="gone"} 1\n' +
        "# HELP kube_image_cleanup_last_success_timestamp_seconds When the last run that cleaned every selected node finished (Unix time).\n" +
        "# TYPE kube_image_cleanup_last_success_timestamp_seconds gauge\n" +
        "kube_image_cleanup_last_success_timestamp_seconds 1764000000\n",
    });
    expect(old.ok, await old.text()).toBe(true);
    const summary = bigSummary({ nodes: 2, failed: 1, nameLength: 8 });
    const text = await pushRun(summary, 1, 1_764_558_000_000, { ...ctx, instance: release });
    expect(
      sample(text, "kube_image_cleanup_node_consecutive_failures", { ...g, node: "nn-00000" }),
    ).toBe(5);
    expect(
      sample(text, "kube_image_cleanup_node_consecutive_failures", { ...g, node: "gone" }),
    ).toBeUndefined();
    expect(sample(text, "kube_image_cleanup_node_images_deleted", { ...g, node: "nn-00000" })).toBe(
      2,
    );
    expect(sample(text, "kube_image_cleanup_last_success_timestamp_seconds", g)).toBe(1764000000);
    // One series per node: none left in the release's own group.
    const series = text
      .split("\n")
      .filter(
        (l) => l.startsWith("kube_image_cleanup_node_images_deleted{") && l.includes(release),
      );
    expect(series).toHaveLength(2);
  });
});
