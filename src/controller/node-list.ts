// Listing the nodes a run may clean, page by page (limit/continue). Real Node objects are 10-40 KB
// each (status.images, managedFields, labels): kept whole, ~1,500 of them exhaust the chart's 96 MB
// heap. Each page is reduced to the few facts selection needs (NodeFacts) before the next is asked
// for, so memory grows by ~200 bytes per node, not by the size of a Node.
import { ConfigError } from "../errors.js";
import type { Kube } from "../kube/api.js";
import { serverMessage, statusOf, toKubeApiError } from "../kube/errors.js";
import { nodeFacts, type NodeFacts } from "./node-selection.js";

/**
 * Nodes per page. 250 realistic nodes are ~4-10 MB of JSON, parsed once: large enough that 5,000
 * nodes take 20 requests, small enough for the heap.
 * @default 250
 */
export const NODE_PAGE_SIZE = 250;

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
): Promise<NodeListing> {
  let pages = 0;
  for (let attempt = 0; ; attempt++) {
    const nodes: NodeFacts[] = [];
    let cont: string | undefined;
    try {
      do {
        const page = await kube.core.listNode({
          limit: pageSize,
          ...(selector === "" ? {} : { labelSelector: selector }),
          ...(cont === undefined ? {} : { _continue: cont }),
        });
        pages++;
        for (const node of page.items) {
          const facts = nodeFacts(node);
          if (facts !== undefined) nodes.push(facts);
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
