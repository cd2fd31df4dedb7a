// A run's metrics in the Prometheus text exposition format, for the Pushgateway. Pure: summary in,
// text out. The release is not a label here: it is part of the push's grouping key, which the
// Pushgateway adds to every series (src/report/sinks/pushgateway.ts).
import type { RunSummary } from "../run-model/run-summary.js";

export const METRIC_PREFIX = "kube_image_cleanup";
/** Per node, runs failed in a row: what the "node failing" alert reads. */
export const FAILURE_STREAK_METRIC = `${METRIC_PREFIX}_node_consecutive_failures`;

/** A label value as the text format wants it: backslash, double quote and newline escaped. */
export function labelValue(text: string): string {
  return text.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}

interface Family {
  name: string;
  help: string;
  samples: { labels?: Record<string, string>; value: number }[];
}

function render(families: readonly Family[]): string {
  const lines: string[] = [];
  for (const f of families) {
    if (f.samples.length === 0) continue;
    lines.push(`# HELP ${f.name} ${f.help}`, `# TYPE ${f.name} gauge`);
    for (const s of f.samples) {
      const labels = Object.entries(s.labels ?? {})
        .map(([k, v]) => `${k}="${labelValue(v)}"`)
        .join(",");
      lines.push(`${f.name}${labels === "" ? "" : `{${labels}}`} ${s.value}`);
    }
  }
  return `${lines.join("\n")}\n`;
}

export interface RunMetricsInput {
  summary: RunSummary;
  /** Epoch milliseconds. */
  finishedAt: number;
  /** 0: every selected node ok. Only then is the last-success time pushed. */
  exitCode: number;
  /** Per node, runs failed in a row (src/report/failure-streaks.ts); none: the family is left out. */
  failureStreaks?: ReadonlyMap<string, number>;
}

/**
 * Every family the run pushes. A push replaces the families it names (POST), so the per-node
 * series of a node that is gone disappear with the next run, and `last_success_timestamp_seconds`,
 * pushed only by a run that succeeded, keeps its value through failed runs.
 */
export function runMetrics({
  summary,
  finishedAt,
  exitCode,
  failureStreaks,
}: RunMetricsInput): string {
  const p = METRIC_PREFIX;
  const nodes = [...summary.nodes].sort((a, b) => a.node.localeCompare(b.node));
  const count = (status: string) => summary.nodes.filter((n) => n.status === status).length;
  const seconds = (ms: number) => Math.round(ms) / 1000;
  const families: Family[] = [
    {
      name: `${p}_node_images_deleted`,
      help: "Images deleted from the node by the last run (0 in a dry run).",
      samples: nodes.map((n) => ({
        labels: { node: n.node },
        value: summary.dryRun ? 0 : (n.totals?.deleted ?? 0),
      })),
    },
    {
      name: `${p}_node_bytes_deleted`,
      help: "Sum of the sizes of the images deleted from the node by the last run (0 in a dry run).",
      samples: nodes.map((n) => ({
        labels: { node: n.node },
        value: summary.dryRun ? 0 : (n.totals?.bytesReclaimed ?? 0),
      })),
    },
    {
      name: `${p}_node_images_failed`,
      help: "Images whose deletion failed on the node in the last run.",
      samples: nodes.map((n) => ({ labels: { node: n.node }, value: n.totals?.failed ?? 0 })),
    },
    {
      name: `${p}_node_ok`,
      help: "1 if the node's cleanup succeeded in the last run, else 0.",
      samples: nodes.map((n) => ({ labels: { node: n.node }, value: n.status === "ok" ? 1 : 0 })),
    },
    {
      name: FAILURE_STREAK_METRIC,
      help: "Runs in a row that failed on the node (0 after a run that cleaned it).",
      samples: [...(failureStreaks ?? [])]
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([node, value]) => ({ labels: { node }, value })),
    },
    {
      name: `${p}_nodes`,
      help: "Selected nodes of the last run by result.",
      samples: [
        { labels: { result: "ok" }, value: count("ok") },
        { labels: { result: "failed" }, value: count("failed") },
        { labels: { result: "interrupted" }, value: count("interrupted") },
        { labels: { result: "not_reached" }, value: summary.notStarted.length },
        { labels: { result: "not_found" }, value: summary.missing.length },
      ],
    },
    {
      name: `${p}_run_duration_seconds`,
      help: "How long the last run took.",
      samples: [{ value: seconds(summary.durationMs) }],
    },
    {
      name: `${p}_run_dry_run`,
      help: "1 if the last run was a dry run (nothing deleted).",
      samples: [{ value: summary.dryRun ? 1 : 0 }],
    },
    {
      name: `${p}_run_exit_code`,
      help: "Exit code of the last run: 0 every node ok, 1 some node not, 2 stopped by an error.",
      samples: [{ value: exitCode }],
    },
    {
      name: `${p}_last_run_timestamp_seconds`,
      help: "When the last run finished (Unix time).",
      samples: [{ value: seconds(finishedAt) }],
    },
    {
      name: `${p}_last_success_timestamp_seconds`,
      help: "When the last run that cleaned every selected node finished (Unix time).",
      samples: exitCode === 0 ? [{ value: seconds(finishedAt) }] : [],
    },
  ];
  return render(families);
}
