// What the Pushgateway holds for a release, read back before a push (its `GET /api/v1/metrics`):
// the failure streak of each node (each in its node's group), which node groups exist (a run over
// every node deletes those of nodes that are gone), the last success time (carried over, as the
// release's push replaces its whole group), and whether the release's group still holds per-node
// series from a version that pushed them there (the release's push replaces them, or the node
// groups' series would clash with them).
import { FAILURE_STREAK_METRIC, METRIC_PREFIX } from "./metrics-text.js";

export const PUSH_JOB = "kube-image-cleanup";

export interface PushedState {
  streaks: Map<string, number>;
  nodeGroups: Set<string>;
  /** Epoch ms. */
  lastSuccessAt: number | undefined;
  legacyNodeSeries: boolean;
}

/** The labels the Pushgateway keys a release's group by; with `node`, that node's group. */
export function groupingLabels(release: string, node?: string): Record<string, string> {
  return node === undefined ? { job: PUSH_JOB, release } : { job: PUSH_JOB, release, node };
}

type Group = Record<string, unknown> & { labels?: Record<string, unknown> };
type Sample = { labels?: Record<string, unknown>; value?: unknown };

const samplesOf = (g: Group, family: string): Sample[] => {
  const f = g[family] as { metrics?: unknown } | undefined;
  return Array.isArray(f?.metrics) ? (f.metrics as Sample[]) : [];
};
const count = (v: unknown): number | undefined => {
  const n = Number(v);
  return Number.isInteger(n) && n >= 0 ? n : undefined;
};

/** Exactly these labels: another release's group, or one keyed by other labels, is not ours. */
function keyedBy(g: Group, wanted: Record<string, string>): boolean {
  const labels = g.labels ?? {};
  const keys = Object.keys(labels).filter((k) => labels[k] !== "");
  return (
    keys.length === Object.keys(wanted).length &&
    Object.entries(wanted).every(([k, v]) => labels[k] === v)
  );
}

export function pushedState(answer: unknown, release: string): PushedState {
  const out: PushedState = {
    streaks: new Map(),
    nodeGroups: new Set(),
    lastSuccessAt: undefined,
    legacyNodeSeries: false,
  };
  const data = (answer as { data?: unknown } | null)?.data;
  if (!Array.isArray(data)) return out;
  const legacy = new Map<string, number>();
  for (const g of data as Group[]) {
    const node = g.labels?.node;
    if (typeof node === "string" && node !== "" && keyedBy(g, groupingLabels(release, node))) {
      out.nodeGroups.add(node);
      const value = count(samplesOf(g, FAILURE_STREAK_METRIC)[0]?.value);
      if (value !== undefined) out.streaks.set(node, value);
    } else if (keyedBy(g, groupingLabels(release))) {
      const last = Number(
        samplesOf(g, `${METRIC_PREFIX}_last_success_timestamp_seconds`)[0]?.value,
      );
      if (Number.isFinite(last) && last > 0) out.lastSuccessAt = Math.round(last * 1000);
      out.legacyNodeSeries = Object.keys(g).some((k) => k.startsWith(`${METRIC_PREFIX}_node_`));
      for (const m of samplesOf(g, FAILURE_STREAK_METRIC)) {
        const value = count(m.value);
        if (typeof m.labels?.node === "string" && value !== undefined)
          legacy.set(m.labels.node, value);
      }
    }
  }
  // Counts an older version kept in the release's group go on where no node group has one yet.
  for (const [node, value] of legacy) if (!out.streaks.has(node)) out.streaks.set(node, value);
  return out;
}
