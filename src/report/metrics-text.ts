// A run's metrics in the Prometheus text exposition format, for the Pushgateway. Pure: summary in,
// text out. The release (and a node's name) are not labels here: they are the push's grouping key,
// which the Pushgateway adds to every series (src/report/sinks/pushgateway.ts).
import type { NodeRow } from "../run-model/node-result.js";
import type { RunSummary } from "../run-model/run-summary.js";

export const METRIC_PREFIX = "kube_image_cleanup";
/** Per node, runs failed in a row: what the "node failing" alert reads. */
export const FAILURE_STREAK_METRIC = `${METRIC_PREFIX}_node_consecutive_failures`;

/** A label value as the text format wants it: backslash, double quote and newline escaped. */
export function labelValue(text: string): string {
  return text.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}

// HELP texts never change: the Pushgateway refuses a push whose HELP differs from the same family's
// in any other group (another release, not yet upgraded, pushing to the same Pushgateway).
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
  exitCode: number;
  /**
   * When the last run that cleaned every node finished (epoch ms): this run's time when it did (not
   * a dry run, not narrowed with --nodes, exit 0), else the value the Pushgateway held (carried
   * over, as a push replaces its group), else none: the family is left out.
   */
  lastSuccessAt?: number | undefined;
}

const seconds = (ms: number) => Math.round(ms) / 1000;

/**
 * The run's own families, pushed to the release's group. Per-node series are not here: each node
 * has a group of its own (nodeMetrics), so a run that visits some nodes (--nodes, a dry run) never
 * replaces what another run recorded for the others.
 */
export function runMetrics({
  summary,
  finishedAt,
  exitCode,
  lastSuccessAt,
}: RunMetricsInput): string {
  const p = METRIC_PREFIX;
  const count = (status: string) => summary.nodes.filter((n) => n.status === status).length;
  const families: Family[] = [
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
      samples: lastSuccessAt === undefined ? [] : [{ value: seconds(lastSuccessAt) }],
    },
  ];
  return render(families);
}

/**
 * One node's families, pushed to the node's own group (the grouping key adds the `node` label).
 * A dry run pushes none.
 */
export function nodeMetrics(row: NodeRow | undefined, failureStreak: number | undefined): string {
  const p = METRIC_PREFIX;
  // Without a row (a node this run did not visit, whose count an older version kept in the
  // release's group): its count alone.
  const families: Family[] =
    row === undefined
      ? []
      : [
          {
            name: `${p}_node_images_deleted`,
            help: "Images deleted from the node by the last run (0 in a dry run).",
            samples: [{ value: row.totals?.deleted ?? 0 }],
          },
          {
            name: `${p}_node_bytes_deleted`,
            help: "Sum of the sizes of the images deleted from the node by the last run (0 in a dry run).",
            samples: [{ value: row.totals?.bytesReclaimed ?? 0 }],
          },
          {
            name: `${p}_node_images_failed`,
            help: "Images whose deletion failed on the node in the last run.",
            samples: [{ value: row.totals?.failed ?? 0 }],
          },
          {
            name: `${p}_node_ok`,
            help: "1 if the node's cleanup succeeded in the last run, else 0.",
            samples: [{ value: row.status === "ok" ? 1 : 0 }],
          },
        ];
  families.push({
    name: FAILURE_STREAK_METRIC,
    help: "Runs in a row that failed on the node (0 after a run that cleaned it).",
    samples: failureStreak === undefined ? [] : [{ value: failureStreak }],
  });
  return render(families);
}
