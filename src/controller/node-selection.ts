// Which nodes a run cleans, as a pure function of the nodes the label selector returned and the
// name lists and skip flags. Every node left out gets a reason, which the run header shows.
import type { V1Node } from "@kubernetes/client-node";

export interface NodeFilter {
  names: readonly string[];
  exclude: readonly string[];
  skipNotReady: boolean;
  skipCordoned: boolean;
}

export interface SkippedNode {
  node: string;
  reason: string;
}

export interface NodeSelection {
  /** Sorted by name: the order nodes are cleaned in. */
  selected: string[];
  skipped: SkippedNode[];
  /** Names given with --nodes that the selector did not return. */
  missing: string[];
}

function readiness(node: V1Node): { ready: boolean; why: string } {
  const cond = node.status?.conditions?.find((c) => c.type === "Ready");
  if (cond === undefined) return { ready: false, why: "no Ready condition yet" };
  if (cond.status === "True") return { ready: true, why: "" };
  const detail = [cond.reason, cond.message].filter((s) => s !== undefined && s !== "").join(": ");
  return { ready: false, why: `Ready=${cond.status}${detail ? ` (${detail})` : ""}` };
}

function isWindows(node: V1Node): boolean {
  return (
    node.metadata?.labels?.["kubernetes.io/os"] === "windows" ||
    node.status?.nodeInfo?.operatingSystem === "windows"
  );
}

export function selectNodes(nodes: readonly V1Node[], filter: NodeFilter): NodeSelection {
  const wanted = new Set(filter.names);
  const excluded = new Set(filter.exclude);
  const seen = new Set<string>();
  const selected: string[] = [];
  const skipped: SkippedNode[] = [];
  const sorted = [...nodes].sort((a, b) =>
    (a.metadata?.name ?? "").localeCompare(b.metadata?.name ?? ""),
  );
  for (const node of sorted) {
    const name = node.metadata?.name;
    if (name === undefined || seen.has(name)) continue;
    seen.add(name);
    if (wanted.size > 0 && !wanted.has(name)) continue;
    const skip = (reason: string) => skipped.push({ node: name, reason });
    if (excluded.has(name)) {
      skip("excluded (--exclude-nodes)");
      continue;
    }
    // Never, whatever the selector says: the agent and nsenter exist only on Linux.
    if (isWindows(node)) {
      skip("Windows node");
      continue;
    }
    if (node.metadata?.deletionTimestamp !== undefined) {
      skip("being deleted");
      continue;
    }
    const { ready, why } = readiness(node);
    if (filter.skipNotReady && !ready) {
      skip(`not ready: ${why} (--skip-not-ready)`);
      continue;
    }
    if (filter.skipCordoned && node.spec?.unschedulable === true) {
      skip("cordoned (--skip-cordoned)");
      continue;
    }
    selected.push(name);
  }
  const missing = filter.names.filter((n) => !seen.has(n) && !excluded.has(n));
  return { selected, skipped, missing };
}
