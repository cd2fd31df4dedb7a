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

/**
 * A slim pod as the shared view holds it for a whole run: one JSON array of its values, in a fixed
 * order, without the keys. Measured on the bench's pods (bench/heap-summary.ts): the view's 25,000
 * pods took ~1 KB each as objects, which with the chart's 96 MB heap left too little for the run.
 * `unpackPod(packPod(p))` equals `slimPod(p)`.
 */
export type PackedPod = string & { readonly packed: true };

type Row = (string | Row | null)[];

const orNull = <T>(v: T | undefined): T | null => (v === undefined ? null : v);
const rows = <T>(list: readonly T[] | undefined, row: (t: T) => Row): Row | null =>
  list === undefined ? null : list.map(row);
const defined = <T>(v: T | null | undefined): T | undefined => (v === null ? undefined : v);

export function packPod(pod: SlimPod): PackedPod {
  const s = slimPod(pod);
  const m = s.metadata;
  const container = (c: SlimContainer): Row =>
    c.image === undefined ? [c.name] : [c.name, c.image];
  const status = (c: SlimContainerStatus): Row => [
    c.name,
    orNull(c.image),
    orNull(c.imageID),
    rows(c.volumeMounts, (v) => [
      orNull(v.name),
      // imageRef is whatever the kubelet sent (checked later as an image reference): kept as text.
      JSON.stringify(v.volumeStatus?.image?.imageRef ?? null),
    ]),
  ];
  const packed: Row = [
    orNull(m?.namespace),
    orNull(m?.name),
    orNull(m?.uid),
    orNull(m?.labels?.[NAME_LABEL]),
    orNull(m?.labels?.[COMPONENT_LABEL]),
    orNull(m?.annotations?.[MIRROR_ANNOTATION]),
    orNull(s.spec?.nodeName),
    rows(s.spec?.containers, container),
    rows(s.spec?.initContainers, container),
    rows(s.spec?.ephemeralContainers, container),
    rows(s.spec?.volumes, (v) =>
      v.image?.reference === undefined ? [v.name] : [v.name, v.image.reference],
    ),
    orNull(s.status?.phase),
    rows(s.status?.containerStatuses, status),
    rows(s.status?.initContainerStatuses, status),
    rows(s.status?.ephemeralContainerStatuses, status),
  ];
  return JSON.stringify(packed) as PackedPod;
}

export function unpackPod(text: PackedPod): SlimPod {
  const [ns, name, uid, appName, component, mirror, node, c, i, e, v, phase, cs, is, es] =
    JSON.parse(text) as Packed;
  const containers = (list: ContainerRow[] | null): SlimContainer[] | undefined =>
    list?.map(([n, image]) => (image === undefined ? { name: n } : { name: n, image })) ??
    undefined;
  const statuses = (list: StatusRow[] | null): SlimContainerStatus[] | undefined =>
    list?.map(([n, image, imageID, mounts]) => {
      const out: SlimContainerStatus = { name: n };
      if (image !== null) out.image = image;
      if (imageID !== null) out.imageID = imageID;
      if (mounts !== null)
        out.volumeMounts = mounts.map(([mount, ref]) => ({
          ...(mount === null ? {} : { name: mount }),
          volumeStatus: { image: { imageRef: JSON.parse(ref) as unknown } },
        }));
      return out;
    }) ?? undefined;
  const labels: Record<string, string> = {};
  if (appName !== null) labels[NAME_LABEL] = appName;
  if (component !== null) labels[COMPONENT_LABEL] = component;
  const drop = <T extends object>(o: T): T =>
    Object.fromEntries(Object.entries(o).filter(([, x]) => x !== undefined)) as T;
  return {
    metadata: drop({
      namespace: defined(ns),
      name: defined(name),
      uid: defined(uid),
      labels: Object.keys(labels).length > 0 ? labels : undefined,
      annotations: mirror === null ? undefined : { [MIRROR_ANNOTATION]: mirror },
    }),
    spec: drop({
      nodeName: defined(node),
      containers: containers(c),
      initContainers: containers(i),
      ephemeralContainers: containers(e),
      volumes: v?.map(([n, reference]) => ({
        name: n,
        image: reference === undefined ? {} : { reference },
      })),
    }),
    status: drop({
      phase: defined(phase),
      containerStatuses: statuses(cs),
      initContainerStatuses: statuses(is),
      ephemeralContainerStatuses: statuses(es),
    }),
  };
}

type StatusRow = [string, string | null, string | null, [string | null, string][] | null];
type ContainerRow = [string, string?];
/** packPod's array: metadata, node, spec's lists, phase, status's lists. */
type Packed = [
  ...[string | null, string | null, string | null, string | null, string | null, string | null],
  string | null,
  ContainerRow[] | null,
  ContainerRow[] | null,
  ContainerRow[] | null,
  ContainerRow[] | null,
  string | null,
  StatusRow[] | null,
  StatusRow[] | null,
  StatusRow[] | null,
];
