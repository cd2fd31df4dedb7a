// `pull --images-of KIND/NAMESPACE/NAME`: the workload's pod template, read once before any node
// starts. Its images (containers and init containers) are pulled, and the nodes its pods could run
// on (placement.ts) are the ones that get them.
import type { V1Node, V1PodSpec } from "@kubernetes/client-node";
import type { WorkloadRef } from "../config/pull-options.js";
import { ConfigError } from "../errors.js";
import type { Kube } from "../kube/api.js";
import { statusOf, toKubeApiError } from "../kube/errors.js";
import { isImageReference } from "../config/image-reference.js";
import { DAEMONSET_TOLERATIONS, placementProblem, type PlacementSpec } from "./placement.js";

export interface WorkloadImages {
  /** The template's images, in order, deduplicated; only valid references. */
  images: string[];
  /** Why a node cannot run the workload's pods, or undefined when it can. */
  placement: (node: V1Node) => string | undefined;
}

async function readTemplate(
  kube: Pick<Kube, "apps" | "jobs">,
  ref: WorkloadRef,
): Promise<V1PodSpec | undefined> {
  const { name, namespace } = ref;
  switch (ref.kind) {
    case "deployment":
      return (await kube.apps.readNamespacedDeployment({ name, namespace })).spec?.template.spec;
    case "statefulset":
      return (await kube.apps.readNamespacedStatefulSet({ name, namespace })).spec?.template.spec;
    case "daemonset":
      return (await kube.apps.readNamespacedDaemonSet({ name, namespace })).spec?.template.spec;
    case "job":
      return (await kube.jobs.readNamespacedJob({ name, namespace })).spec?.template.spec;
    case "cronjob":
      return (await kube.jobs.readNamespacedCronJob({ name, namespace })).spec?.jobTemplate.spec
        ?.template.spec;
  }
}

const RESOURCES = {
  deployment: "deployments",
  statefulset: "statefulsets",
  daemonset: "daemonsets",
  job: "jobs",
  cronjob: "cronjobs",
} as const;

export async function workloadImages(
  kube: Pick<Kube, "apps" | "jobs">,
  ref: WorkloadRef,
): Promise<WorkloadImages> {
  const given = `${ref.kind}/${ref.namespace}/${ref.name}`;
  let spec: V1PodSpec | undefined;
  try {
    spec = await readTemplate(kube, ref);
  } catch (err) {
    if (statusOf(err) === 404)
      throw new ConfigError(
        "--images-of",
        given,
        `there is no ${ref.kind} ${ref.name} in namespace ${ref.namespace}: check with kubectl get ${ref.kind} -n ${ref.namespace}`,
      );
    throw toKubeApiError(
      err,
      { verb: "get", resource: RESOURCES[ref.kind], namespace: ref.namespace },
      `grant get on ${RESOURCES[ref.kind]} ${ref.name} in namespace ${ref.namespace}`,
    );
  }
  const containers = [...(spec?.initContainers ?? []), ...(spec?.containers ?? [])];
  const images = [
    ...new Set(containers.map((c) => c.image).filter((i): i is string => i !== undefined)),
  ]
    // A pod author's string that names no pullable image (not a reference, or a bare image id)
    // cannot be pre-pulled: left out, as the protect list leaves such strings out.
    .filter((i) => isImageReference(i) && !/^(sha256:)?[0-9a-f]{64}$/.test(i));
  if (images.length === 0)
    throw new ConfigError("--images-of", given, "its pod template names no image to pull");
  const template: PlacementSpec = spec ?? {};
  const extra = ref.kind === "daemonset" ? DAEMONSET_TOLERATIONS : [];
  return {
    images,
    placement: (node) => {
      const why = placementProblem(template, node, extra);
      return why === undefined ? undefined : `cannot run ${given}: ${why}`;
    },
  };
}
