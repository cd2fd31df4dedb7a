// Workload protection: the images the cluster will need again. A CronJob that runs at 03:00, a
// Deployment scaled to zero, a StatefulSet waiting for its next rollout: no container uses their
// images now, yet deleting them makes the next start pull again, from a registry that may no longer
// have the tag. Every image a workload template names (containers, init containers, image volumes;
// ephemeral containers are never in a template) is kept on every node, with the workload named.
//
// Read once per run, kind by kind, in pages: each page is cut to its image references at once, so
// the controller holds one page of objects and the (much smaller) map of references at a time.
import type { V1ObjectMeta, V1PodSpec } from "@kubernetes/client-node";
import { checkImageReference } from "../config/image-reference.js";
import { firstMatch, normaliseReference, type ImagePattern } from "../config/patterns.js";
import type { ProtectedRef } from "../config/protect-entries.js";
import type { WorkloadApi } from "../kube/api.js";
import { toKubeApiError } from "../kube/errors.js";

/** Objects per list request: a page of Deployments is a few hundred KiB of JSON. */
export const WORKLOAD_PAGE_SIZE = 500;

/** What this module reads of a workload: its name and where its pod template is. */
interface Workload {
  metadata?: V1ObjectMeta;
  spec?: {
    template?: { spec?: V1PodSpec };
    jobTemplate?: { spec?: { template?: { spec?: V1PodSpec } } };
  };
}

interface ListPage {
  items: Workload[];
  metadata?: { _continue?: string };
}

/**
 * The workload kinds, lower case as a reason names them (`needed by cronjob ns/name`; the resource
 * is the plural), each with the call that lists it across namespaces.
 */
const KINDS = [
  ["deployment", "listDeploymentForAllNamespaces"],
  ["statefulset", "listStatefulSetForAllNamespaces"],
  ["daemonset", "listDaemonSetForAllNamespaces"],
  ["replicaset", "listReplicaSetForAllNamespaces"],
  ["job", "listJobForAllNamespaces"],
  ["cronjob", "listCronJobForAllNamespaces"],
] as const satisfies readonly (readonly [string, keyof WorkloadApi])[];

/** Where a workload's pod template is: a CronJob's is in its job template. */
const podSpec = (kind: string, w: Workload) =>
  kind === "cronjob" ? w.spec?.jobTemplate?.spec?.template?.spec : w.spec?.template?.spec;

export interface WorkloadImages {
  /** One entry per image name, sorted by reference, each with the first workload naming it. */
  protect: ProtectedRef[];
  /** Workloads read, and list requests made. */
  workloads: number;
  requests: number;
}

/** The image references of a pod template: containers, init containers, image volumes. */
export function templateImages(spec: V1PodSpec | undefined): string[] {
  if (spec === undefined) return [];
  return [
    ...spec.containers.map((c) => c.image),
    ...(spec.initContainers ?? []).map((c) => c.image),
    ...(spec.volumes ?? []).map((v) => v.image?.reference),
  ].filter((r): r is string => typeof r === "string" && r !== "");
}

/**
 * Every image a workload template in the cluster names, with the first workload (by kind, then
 * namespace/name) naming it and how many do. References that are no image reference protect
 * nothing and are dropped; so are those an --exclude pattern matches (an image with that name is
 * never deleted anyway). --include is not applied: a node's image may be matched through another
 * of its names than the one the template uses.
 */
export async function readWorkloadImages(
  api: WorkloadApi,
  exclude: readonly ImagePattern[],
  pageSize = WORKLOAD_PAGE_SIZE,
): Promise<WorkloadImages> {
  const byKey = new Map<string, { ref: string; first: string; count: number }>();
  let workloads = 0;
  let requests = 0;
  for (const [kind, call] of KINDS) {
    let next: string | undefined;
    do {
      let page: ListPage;
      try {
        page = await api[call]({
          limit: pageSize,
          ...(next === undefined ? {} : { _continue: next }),
        });
      } catch (err) {
        // Without every workload the protection would have holes: the run stops (403 says which
        // chart value grants the list).
        throw toKubeApiError(
          err,
          { verb: "list", resource: `${kind}s` },
          `the chart grants it with protect.workloads=true and rbac.create=true; or turn workload protection off: --protect-workloads=false, protect.workloads=false`,
        );
      }
      requests++;
      for (const item of page.items) {
        workloads++;
        const who = `${kind} ${item.metadata?.namespace ?? ""}/${item.metadata?.name ?? ""}`;
        for (const ref of new Set(templateImages(podSpec(kind, item)))) {
          if (checkImageReference(ref) !== undefined) continue;
          if (firstMatch(exclude, [ref], "") !== undefined) continue;
          const key = normaliseReference(ref);
          const seen = byKey.get(key);
          if (seen === undefined) byKey.set(key, { ref, first: who, count: 1 });
          else {
            seen.count++;
            if (ref.length < seen.ref.length) seen.ref = ref;
          }
        }
      }
      next = page.metadata?._continue || undefined;
    } while (next !== undefined);
  }
  const protect = [...byKey.values()]
    .sort((a, b) => (a.ref < b.ref ? -1 : a.ref > b.ref ? 1 : 0))
    .map(({ ref, first, count }) => ({ ref, neededBy: { workload: first, workloads: count } }));
  return { protect, workloads, requests };
}
