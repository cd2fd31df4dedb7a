// Listing the nodes a run may clean, page by page (limit/continue). Real Node objects are 10-40 KB
// each (status.images, managedFields, labels): kept whole, ~1,500 of them exhaust the chart's 96 MB
// heap. Each page is reduced to the few facts selection needs (NodeFacts) before the next is asked
// for, so memory grows by ~200 bytes per node, not by the size of a Node.
import type { V1Node } from "@kubernetes/client-node";
import { slimListMiddleware } from "../kube/slim-list.js";
import { ConfigError } from "../errors.js";
import type { Kube } from "../kube/api.js";
import { serverMessage, statusOf, toKubeApiError } from "../kube/errors.js";
import { nodeFacts, type NodeFacts } from "./node-selection.js";

/**
 * Nodes per page. 50 realistic nodes are ~1 MB of JSON: 5,000 nodes take 100 requests (0.02 per
 * node), and the one page parsed at a time is a small part of the 96 MB heap. Measured with 5,000
 * nodes of 15-21 KB under the chart's heap flags: 250 per page cost ~30 MiB more peak RSS than 50.
 * @default 50
 */
export const NODE_PAGE_SIZE = 50;

/** The fields `nodeFacts` reads, and nothing else of a Node. */
interface SlimNode {
  metadata?: { name?: string; labels?: Record<string, string>; deletionTimestamp?: string };
  spec?: { unschedulable?: boolean; taints?: unknown[] };
  status?: {
    conditions?: { type?: string }[];
    nodeInfo?: { operatingSystem?: string };
  };
}

/**
 * With a placement to judge (a workload's nodeSelector, affinity, tolerations), every label and
 * taint too: only runs that pre-warm a workload's nodes pay for them.
 */
function slim(node: SlimNode, placement: boolean): SlimNode {
  const os = node.metadata?.labels?.["kubernetes.io/os"];
  if (placement) {
    const s = slim(node, false);
    return {
      ...s,
      metadata: {
        ...s.metadata,
        ...(node.metadata?.labels === undefined ? {} : { labels: node.metadata.labels }),
      },
      spec: {
        ...s.spec,
        ...(node.spec?.taints === undefined ? {} : { taints: node.spec.taints }),
      },
    };
  }
  const ready = node.status?.conditions?.find((c) => c.type === "Ready");
  const osInfo = node.status?.nodeInfo?.operatingSystem;
  return {
    metadata: {
      ...(node.metadata?.name === undefined ? {} : { name: node.metadata.name }),
      ...(os === undefined ? {} : { labels: { "kubernetes.io/os": os } }),
      ...(node.metadata?.deletionTimestamp === undefined
        ? {}
        : { deletionTimestamp: node.metadata.deletionTimestamp }),
    },
    spec: node.spec?.unschedulable === true ? { unschedulable: true } : {},
    status: {
      ...(ready === undefined ? {} : { conditions: [ready] }),
      ...(osInfo === undefined ? {} : { nodeInfo: { operatingSystem: osInfo } }),
    },
  };
}

/**
 * Cuts each Node of a page down to what selection reads before client-node turns the page into
 * model objects (which would copy every status.images entry and managedFields once more).
 */
const slimNodeList = (placement: boolean) =>
  slimListMiddleware((n: SlimNode) => slim(n, placement));

/** How often a list is restarted when its continue token expired (410) part-way. */
const EXPIRED_RESTARTS = 3;

export interface NodeListing {
  nodes: NodeFacts[];
  /** Requests it took (pages, including restarted ones). */
  pages: number;
}

export async function listNodeFacts(
  kube: Pick<Kube, "core">,
  selector: string,
  pageSize = NODE_PAGE_SIZE,
  /** Why a node cannot take the job's work (node-sweep.ts NodeJob.placement). */
  placement?: (node: V1Node) => string | undefined,
): Promise<NodeListing> {
  let pages = 0;
  for (let attempt = 0; ; attempt++) {
    const nodes: NodeFacts[] = [];
    let cont: string | undefined;
    try {
      do {
        const page = await kube.core.listNode(
          {
            limit: pageSize,
            ...(selector === "" ? {} : { labelSelector: selector }),
            ...(cont === undefined ? {} : { _continue: cont }),
          },
          {
            middleware: [slimNodeList(placement !== undefined)],
            middlewareMergeStrategy: "append",
          },
        );
        pages++;
        for (const node of page.items) {
          const facts = nodeFacts(node);
          if (facts === undefined) continue;
          const unfit = placement?.(node);
          nodes.push(unfit === undefined ? facts : { ...facts, unfit });
        }
        cont = page.metadata?._continue || undefined;
      } while (cont !== undefined);
      return { nodes, pages };
    } catch (err) {
      const status = statusOf(err);
      // 410: the snapshot the continue token points at is gone (a list that took longer than the
      // server keeps it, ~5 min): a consistent list has to start again.
      if (status === 410 && cont !== undefined && attempt < EXPIRED_RESTARTS) continue;
      if (status === 400) {
        throw new ConfigError(
          "--node-selector",
          selector,
          `the API server rejected it: ${serverMessage(err)}`,
        );
      }
      throw toKubeApiError(err, { verb: "list", resource: "nodes" });
    }
  }
}
