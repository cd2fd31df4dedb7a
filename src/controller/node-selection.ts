// Which nodes a run cleans, as a pure function of the nodes the label selector returned and the
// name lists and skip flags. Every node left out gets a reason, which the run header shows.
// Selection works on `NodeFacts`, not Node objects: a real Node is 10-40 KB (status.images,
// managedFields, labels) and a run keeps only the few facts it decides on (node-list.ts).
import type { V1Node } from "@kubernetes/client-node";
import type { SkippedNode } from "../run-model/run-header.js";

/** What selection needs to know about one node; everything else of the Node object is dropped. */
export interface NodeFacts {
  name: string;
  /** Windows by its kubernetes.io/os label or its nodeInfo. */
  windows: boolean;
  /** Has a deletionTimestamp. */
  deleting: boolean;
  ready: boolean;
  /** Why it is not ready (`Ready=False (reason: message)`); "" when ready. */
  notReady: string;
  /** Cordoned (spec.unschedulable). */
  unschedulable: boolean;
  /** Why the job's work cannot run here (a workload's placement, pre-pull --images-of). */
  unfit?: string;
}

export interface NodeFilter {
  names: readonly string[];
  exclude: readonly string[];
  skipNotReady: boolean;
  skipCordoned: boolean;
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

/** The facts selection needs, copied out of a Node object (undefined for a node without a name). */
export function nodeFacts(node: V1Node): NodeFacts | undefined {
  const name = node.metadata?.name;
  if (name === undefined) return undefined;
  const { ready, why } = readiness(node);
  return {
    name,
    windows: isWindows(node),
    deleting: node.metadata?.deletionTimestamp !== undefined,
    ready,
    notReady: why,
    unschedulable: node.spec?.unschedulable === true,
  };
}

export function selectNodes(nodes: readonly NodeFacts[], filter: NodeFilter): NodeSelection {
  const wanted = new Set(filter.names);
  const excluded = new Set(filter.exclude);
  const seen = new Set<string>();
  const selected: string[] = [];
  const skipped: SkippedNode[] = [];
  const sorted = [...nodes].sort((a, b) => a.name.localeCompare(b.name));
  for (const node of sorted) {
    const name = node.name;
    if (seen.has(name)) continue;
    seen.add(name);
    if (wanted.size > 0 && !wanted.has(name)) continue;
    const skip = (reason: string) => skipped.push({ node: name, reason });
    if (excluded.has(name)) {
      skip("excluded (--exclude-nodes)");
      continue;
    }
    // Never, whatever the selector says: the agent and nsenter exist only on Linux.
    if (node.windows) {
      skip("Windows node");
      continue;
    }
    if (node.deleting) {
      skip("being deleted");
      continue;
    }
    if (filter.skipNotReady && !node.ready) {
      skip(`not ready: ${node.notReady} (--skip-not-ready)`);
      continue;
    }
    if (node.unfit !== undefined) {
      skip(node.unfit);
      continue;
    }
    if (filter.skipCordoned && node.unschedulable) {
      skip("cordoned (--skip-cordoned)");
      continue;
    }
    selected.push(name);
  }
  const missing = filter.names.filter((n) => !seen.has(n) && !excluded.has(n));
  return { selected, skipped, missing };
}
