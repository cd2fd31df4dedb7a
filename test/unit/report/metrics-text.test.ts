import { describe, expect, it } from "vitest";
import { labelValue, nodeMetrics, runMetrics } from "../../../src/report/metrics-text.js";
import { bigSummary } from "./audit-fixtures.js";

describe("Pushgateway metrics text", () => {
  const summary = bigSummary({ nodes: 2, failed: 1, nameLength: 8 });
  const text = runMetrics({ summary, finishedAt: 1_764_558_000_000, exitCode: 1 });
  const [failed, ok] = summary.nodes;

  it("has nodes by result, the run's duration and time in the release's group", () => {
    const lines = text.split("\n");
    for (const l of [
      'kube_image_cleanup_nodes{result="ok"} 1',
      'kube_image_cleanup_nodes{result="failed"} 1',
      "kube_image_cleanup_run_duration_seconds 3600",
      "kube_image_cleanup_run_exit_code 1",
      "kube_image_cleanup_last_run_timestamp_seconds 1764558000",
      "# TYPE kube_image_cleanup_nodes gauge",
    ])
      expect(lines).toContain(l);
    // Per-node series go to each node's own group.
    expect(text).not.toContain("node_");
  });

  it("has images and bytes deleted, ok and the failure count in a node's group, without a node label", () => {
    expect(failed?.node).toBe("nn-00000");
    const lines = nodeMetrics(failed, 3).split("\n");
    for (const l of [
      "kube_image_cleanup_node_images_deleted 2",
      "kube_image_cleanup_node_ok 0",
      "kube_image_cleanup_node_consecutive_failures 3",
    ])
      expect(lines).toContain(l);
    expect(nodeMetrics(ok, undefined)).toContain(
      `kube_image_cleanup_node_bytes_deleted ${2 * 1024 ** 3}\n`,
    );
    expect(nodeMetrics(ok, undefined)).not.toContain("consecutive_failures");
    expect(nodeMetrics(undefined, 2)).toBe(
      "# HELP kube_image_cleanup_node_consecutive_failures Runs in a row that failed on the node (0 after a run that cleaned it).\n# TYPE kube_image_cleanup_node_consecutive_failures gauge\nkube_image_cleanup_node_consecutive_failures 2\n",
    );
  });

  it("has the last-success time only when given (a run that cleaned every node, or carried over)", () => {
    expect(text).not.toContain("last_success");
    const good = runMetrics({
      summary,
      finishedAt: 0,
      exitCode: 0,
      lastSuccessAt: 1_764_558_000_000,
    });
    expect(good).toContain("kube_image_cleanup_last_success_timestamp_seconds 1764558000\n");
  });

  it("says a dry run is one", () => {
    const dry = runMetrics({ summary: { ...summary, dryRun: true }, finishedAt: 0, exitCode: 0 });
    expect(dry).toContain("kube_image_cleanup_run_dry_run 1");
  });

  it("escapes label values as the text format requires", () => {
    expect(labelValue('a"b\\c\nd')).toBe('a\\"b\\\\c\\nd');
  });
});
