// A pod cut down to what protection reads (pod-images.ts): node, phase, the images of containers,
// init and ephemeral containers, image volumes, the status image ids, the two labels that mark
// our own helper pods, and a mirror pod's static pod UID (known-pods.ts). Real pods are 5-30 KB of JSON (managedFields, env, probes, conditions); the
// shared pod view (pod-view.ts) holds every bound pod of the cluster for a whole run, so it keeps
// only this, a few hundred bytes each. The shape is a structural subset of V1Pod: a full pod is a
// SlimPod too.
import { slimListMiddleware } from "../kube/slim-list.js";
import { COMPONENT_LABEL, NAME_LABEL } from "../run-model/labels.js";

export interface SlimContainer {
  name: string;
  image?: string;
}

/** What the kubelet reports for a mounted image volume (KEP-4639 `ImageVolumeWithDigest`, 1.35+). */
export interface SlimVolumeMountStatus {
  name?: string;
  volumeStatus?: { image?: { imageRef?: unknown } };
}

export interface SlimContainerStatus {
  name: string;
  image?: string;
  imageID?: string;
  volumeMounts?: SlimVolumeMountStatus[];
}

export interface SlimPod {
  metadata?: {
    namespace?: string;
    name?: string;
    uid?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  spec?: {
    nodeName?: string;
    containers?: SlimContainer[];
    initContainers?: SlimContainer[];
    ephemeralContainers?: SlimContainer[];
    volumes?: { name: string; image?: { reference?: string } }[];
  };
  status?: {
    phase?: string;
    containerStatuses?: SlimContainerStatus[];
    initContainerStatuses?: SlimContainerStatus[];
    ephemeralContainerStatuses?: SlimContainerStatus[];
  };
}

/**
 * A mirror pod's annotation: the static pod's config hash, which is the UID the kubelet runs it
 * under (and labels its sandbox with), not the mirror's own `metadata.uid`.
 */
export const MIRROR_ANNOTATION = "kubernetes.io/config.mirror";

const containers = (list: readonly SlimContainer[] | undefined): SlimContainer[] | undefined =>
  list?.map((c) => (c.image === undefined ? { name: c.name } : { name: c.name, image: c.image }));

function statuses(
  list: readonly SlimContainerStatus[] | undefined,
): SlimContainerStatus[] | undefined {
  return list?.map((s) => {
    const out: SlimContainerStatus = { name: s.name };
    if (s.image !== undefined) out.image = s.image;
    if (s.imageID !== undefined) out.imageID = s.imageID;
    const mounts = s.volumeMounts
      ?.filter((m) => m.volumeStatus?.image?.imageRef !== undefined)
      .map((m) => ({
        ...(m.name === undefined ? {} : { name: m.name }),
        volumeStatus: { image: { imageRef: m.volumeStatus?.image?.imageRef } },
      }));
    if (mounts !== undefined && mounts.length > 0) out.volumeMounts = mounts;
    return out;
  });
}

/** Only the fields protection reads; everything else of the pod is dropped. */
export function slimPod(pod: SlimPod): SlimPod {
  const m = pod.metadata;
  const labels: Record<string, string> = {};
  for (const key of [NAME_LABEL, COMPONENT_LABEL]) {
    const v = m?.labels?.[key];
    if (v !== undefined) labels[key] = v;
  }
  const mirror = m?.annotations?.[MIRROR_ANNOTATION];
  const spec = pod.spec;
  const status = pod.status;
  const volumes = spec?.volumes
    ?.filter((v) => v.image !== undefined)
    .map((v) => ({
      name: v.name,
      image: { ...(v.image?.reference === undefined ? {} : { reference: v.image.reference }) },
    }));
  const drop = <T extends object>(o: T): T =>
    Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
  return {
    metadata: drop({
      namespace: m?.namespace,
      name: m?.name,
      uid: m?.uid,
      labels: Object.keys(labels).length > 0 ? labels : undefined,
      annotations: mirror === undefined ? undefined : { [MIRROR_ANNOTATION]: mirror },
    }),
    spec: drop({
      nodeName: spec?.nodeName,
      containers: containers(spec?.containers),
      initContainers: containers(spec?.initContainers),
      ephemeralContainers: containers(spec?.ephemeralContainers),
      volumes: volumes !== undefined && volumes.length > 0 ? volumes : undefined,
    }),
    status: drop({
      phase: status?.phase,
      containerStatuses: statuses(status?.containerStatuses),
      initContainerStatuses: statuses(status?.initContainerStatuses),
      ephemeralContainerStatuses: statuses(status?.ephemeralContainerStatuses),
    }),
  };
}

/**
 * Cuts each pod of a list page down to `slimPod` before client-node turns the page into model
 * objects (which would copy every field of every pod once more).
 */
export const slimPodList = slimListMiddleware(slimPod);
