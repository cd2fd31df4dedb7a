// Which nodes a workload's pods could run on, as far as its pod template says: the nodeSelector,
// the required node affinity and the tolerations against each node's NoSchedule/NoExecute taints,
// as the scheduler reads them. Pure: pre-pull (`pull --images-of`) skips the other nodes with the
// reason. Not evaluated (a node passing here may still refuse the pod): preferred affinity (it only
// ranks), inter-pod affinity and anti-affinity, topology spread constraints, the node's free
// resources and pod count, volume topology, and PreferNoSchedule taints (only a preference).
import type { V1Node, V1PodSpec, V1Taint, V1Toleration } from "@kubernetes/client-node";

/** A toleration as a plain object (client-node's classes only carry serializer metadata). */
export type Toleration = Pick<V1Toleration, "key" | "operator" | "value" | "effect">;
/** What placement reads of a pod template's spec. */
export type PlacementSpec = Pick<V1PodSpec, "nodeSelector" | "affinity" | "tolerations">;

/** What `placement` leaves out, for the run header. */
export const NOT_EVALUATED =
  "preferred affinity, pod affinity/anti-affinity, topology spread, free resources";

type Requirement = { key: string; operator: string; values?: string[] };

function matches(req: Requirement, value: string | undefined): boolean {
  const values = req.values ?? [];
  switch (req.operator) {
    case "In":
      return value !== undefined && values.includes(value);
    case "NotIn":
      return value === undefined || !values.includes(value);
    case "Exists":
      return value !== undefined;
    case "DoesNotExist":
      return value === undefined;
    case "Gt":
    case "Lt": {
      // The scheduler compares integers; a value that is not one does not match.
      const n = Number(value);
      const bound = Number(values[0]);
      if (value === undefined || !Number.isInteger(n) || !Number.isInteger(bound)) return false;
      return req.operator === "Gt" ? n > bound : n < bound;
    }
    default:
      return false;
  }
}

const requirementText = (r: Requirement) =>
  `${r.key} ${r.operator}${r.values === undefined || r.values.length === 0 ? "" : ` (${r.values.join(", ")})`}`;

/** Whether a toleration tolerates a taint (k8s.io/api/core/v1 Toleration.ToleratesTaint). */
export function tolerates(t: Toleration, taint: V1Taint): boolean {
  if (t.effect !== undefined && t.effect !== "" && t.effect !== taint.effect) return false;
  if (t.key !== undefined && t.key !== "" && t.key !== taint.key) return false;
  // An empty key with Exists tolerates everything.
  if (t.operator === "Exists") return true;
  return (t.value ?? "") === (taint.value ?? "");
}

/**
 * The tolerations the DaemonSet controller adds to every DaemonSet pod (pkg/controller/daemon/util):
 * a DaemonSet runs on nodes that are not ready, unreachable, under pressure or cordoned.
 */
export const DAEMONSET_TOLERATIONS: readonly Toleration[] = [
  { key: "node.kubernetes.io/not-ready", operator: "Exists", effect: "NoExecute" },
  { key: "node.kubernetes.io/unreachable", operator: "Exists", effect: "NoExecute" },
  { key: "node.kubernetes.io/disk-pressure", operator: "Exists", effect: "NoSchedule" },
  { key: "node.kubernetes.io/memory-pressure", operator: "Exists", effect: "NoSchedule" },
  { key: "node.kubernetes.io/pid-pressure", operator: "Exists", effect: "NoSchedule" },
  { key: "node.kubernetes.io/unschedulable", operator: "Exists", effect: "NoSchedule" },
];

/**
 * Why a pod with `spec` could not be placed on `node` by what this module evaluates, or undefined
 * when it could. `extraTolerations`: those a controller adds (DAEMONSET_TOLERATIONS).
 */
export function placementProblem(
  spec: PlacementSpec,
  node: V1Node,
  extraTolerations: readonly Toleration[] = [],
): string | undefined {
  const labels = node.metadata?.labels ?? {};
  for (const [key, value] of Object.entries(spec.nodeSelector ?? {})) {
    if (labels[key] !== value) return `the workload's nodeSelector ${key}=${value} does not match`;
  }
  const terms =
    spec.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms;
  if (terms !== undefined && terms.length > 0) {
    // Terms are ORed, the requirements within one ANDed; a term with no requirement matches nothing.
    const failed: string[] = [];
    const fits = terms.some((term) => {
      const exprs = term.matchExpressions ?? [];
      const fields = term.matchFields ?? [];
      if (exprs.length === 0 && fields.length === 0) return false;
      const bad =
        exprs.find((r) => !matches(r, labels[r.key])) ??
        // metadata.name is the only field the scheduler supports.
        fields.find(
          (r) => !matches(r, r.key === "metadata.name" ? node.metadata?.name : undefined),
        );
      if (bad !== undefined) failed.push(requirementText(bad));
      return bad === undefined;
    });
    if (!fits)
      return `the workload's required node affinity does not match${failed.length > 0 ? ` (${failed.join("; ")})` : ""}`;
  }
  const tolerations: Toleration[] = [...(spec.tolerations ?? []), ...extraTolerations];
  for (const taint of node.spec?.taints ?? []) {
    if (taint.effect !== "NoSchedule" && taint.effect !== "NoExecute") continue;
    if (!tolerations.some((t) => tolerates(t, taint)))
      return `the workload does not tolerate the taint ${taint.key}${taint.value ? `=${taint.value}` : ""}:${taint.effect}`;
  }
  return undefined;
}
