// "A node has failed N runs in a row" needs a count that outlives the run: the Pushgateway keeps
// only each group's last push, and a run is one short Job. So each push carries, per node, how many
// runs in a row have failed on it, counted on from the value the previous push left in the
// Pushgateway (read back before pushing, src/report/pushed-state.ts). The alert compares it
// with a threshold (chart/templates/prometheus-rule.yaml). Pure: previous counts and a summary in,
// next counts out.
import type { RunSummary } from "../run-model/run-summary.js";

export interface StreakScope {
  /**
   * The run visited only some nodes on purpose (`--nodes`): the others keep their counts. A run
   * over every selected node drops the nodes it did not visit (removed, excluded, skipped), so an
   * alert about a node that is gone ends.
   */
  narrowed: boolean;
}

/**
 * Per node: 0 after a run where it was cleaned, one more after a run where it failed. A node the
 * run did not finish (interrupted, not reached) keeps its count: nothing was learnt about it. So
 * does every node when the run was stopped before or during its sweep (a fatal error, a signal).
 */
export function nextFailureStreaks(
  previous: ReadonlyMap<string, number>,
  summary: Pick<RunSummary, "nodes" | "notStarted" | "fatal" | "interruptedBy">,
  scope: StreakScope,
): Map<string, number> {
  const next = new Map<string, number>();
  for (const n of summary.nodes) {
    if (n.status === "ok") next.set(n.node, 0);
    else if (n.status === "failed") next.set(n.node, (previous.get(n.node) ?? 0) + 1);
    else next.set(n.node, previous.get(n.node) ?? 0);
  }
  const cutShort = summary.fatal !== undefined || summary.interruptedBy !== undefined;
  for (const [node, count] of previous) {
    if (next.has(node)) continue;
    if (scope.narrowed || cutShort || summary.notStarted.includes(node)) next.set(node, count);
  }
  return next;
}
