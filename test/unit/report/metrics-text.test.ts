import { describe, expect, it } from "vitest";
import { labelValue, runMetrics } from "../../../src/report/metrics-text.js";
import { bigSummary } from "./audit-fixtures.js";

describe("Pushgateway metrics text", () => {
  const summary = bigSummary({ nodes: 2, failed: 1, nameLength: 8 });
  const text = runMetrics({ summary, finishedAt: 1_764_558_000_000, exitCode: 1 });

  it("has images and bytes deleted and ok per node, nodes by result, the run's duration and time", () => {
    const lines = text.split("\n");
    for (const l of [
      'kube_image_cleanup_node_images_deleted{node="nn-00000"} 2',
      `kube_image_cleanup_node_bytes_deleted{node="nn-00001"} ${2 * 1024 ** 3}`,
      'kube_image_cleanup_node_ok{node="nn-00000"} 0',
      'kube_image_cleanup_node_ok{node="nn-00001"} 1',
      'kube_image_cleanup_nodes{result="ok"} 1',
      'kube_image_cleanup_nodes{result="failed"} 1',
      "kube_image_cleanup_run_duration_seconds 3600",
      "kube_image_cleanup_run_exit_code 1",
      "kube_image_cleanup_last_run_timestamp_seconds 1764558000",
      "# TYPE kube_image_cleanup_nodes gauge",
    ])
      expect(lines).toContain(l);
  });

  it("pushes the runs failed in a row per node when given, and leaves the family out when not", () => {
    expect(text).not.toContain("consecutive_failures");
    const withStreaks = runMetrics({
      summary,
      finishedAt: 0,
      exitCode: 1,
      failureStreaks: new Map([
        ["nn-00001", 0],
        ["nn-00000", 3],
      ]),
    });
    expect(withStreaks).toContain(
      '# TYPE kube_image_cleanup_node_consecutive_failures gauge\nkube_image_cleanup_node_consecutive_failures{node="nn-00000"} 3\nkube_image_cleanup_node_consecutive_failures{node="nn-00001"} 0\n',
    );
  });

  it("pushes the last-success time only for a run where every node was ok", () => {
    expect(text).not.toContain("last_success");
    const good = runMetrics({ summary, finishedAt: 1_764_558_000_000, exitCode: 0 });
    expect(good).toContain("kube_image_cleanup_last_success_timestamp_seconds 1764558000\n");
  });

  it("pushes 0 deleted in a dry run", () => {
    const dry = runMetrics({
      summary: { ...summary, dryRun: true },
      finishedAt: 0,
      exitCode: 0,
    });
    expect(dry).toContain('kube_image_cleanup_node_images_deleted{node="nn-00001"} 0');
    expect(dry).toContain("kube_image_cleanup_run_dry_run 1");
  });

  it("escapes label values as the text format requires", () => {
    expect(labelValue('a"b\\c\nd')).toBe('a\\"b\\\\c\\nd');
  });
});
