// Which images the pods bound to a node need, as the API server sees them. The agent protects these
// even when no container uses them right now: a crash-looping pod between restarts, an init
// container that already ran, a pod about to start, an image mounted as a volume.
//
// Pod authors write these fields: the API server accepts any `image` without leading or trailing
// whitespace, newlines and 200 KiB strings included. Only valid image references are passed on (a
// string that is none names no image a runtime could hold, so it protects nothing); the others are
// counted per pod and never copied anywhere.
import { checkImageReference } from "../config/image-reference.js";
import { normaliseReference } from "../config/patterns.js";
import {
  toProtectEntry,
  type NeededBy,
  type ProtectedRef,
  type ProtectEntry,
} from "../config/protect-entries.js";
import { protectListProblem } from "./helper-pod.js";
import { COMPONENT_LABEL, HELPER_COMPONENT, NAME_LABEL, APP_NAME } from "../run-model/labels.js";
import type { SlimPod } from "./pod-slim.js";

/** A field that held something other than an image reference. The string itself is not kept. */
export interface RejectedReference {
  /** `namespace/name`. */
  pod: string;
  /** e.g. `spec.containers[app].image`. */
  field: string;
  why: string;
}

export interface NeededImages {
  /**
   * Valid image references, sorted, one per image name: of `nginx:1.25` (spec) and
   * `docker.io/library/nginx:1.25` (status) only the shorter, since the agent normalises both to
   * the same name. The list travels in a 256 KiB annotation; this keeps it about a third smaller.
   */
  images: string[];
  /** Per entry of `images`: the first pod (by namespace/name) that needs it, and how many do. */
  neededBy: Map<string, NeededBy>;
  rejected: RejectedReference[];
}

/**
 * Every image reference of the pods: spec images of containers, init and ephemeral containers, image
 * volumes (`spec.volumes[].image.reference`, beta since 1.33), and the status `image`, `imageID`
 * (the latter pins the exact content even when a tag moved) and an image volume's `imageRef`.
 * Finished pods (Succeeded, Failed) need nothing; their exited containers, if still present, are
 * protected by the agent as in-use. Our own helper pods are skipped.
 */
export function imagesNeededByPods(pods: readonly SlimPod[]): NeededImages {
  const images = new Map<string, string>(); // normalised -> shortest spelling
  const needers = new Map<string, { first: string; phase: string | undefined; all: Set<string> }>();
  const rejected: RejectedReference[] = [];
  for (const pod of pods) {
    const phase = pod.status?.phase;
    if (phase === "Succeeded" || phase === "Failed") continue;
    const labels = pod.metadata?.labels ?? {};
    if (labels[NAME_LABEL] === APP_NAME && labels[COMPONENT_LABEL] === HELPER_COMPONENT) continue;
    const podName = `${pod.metadata?.namespace ?? ""}/${pod.metadata?.name ?? ""}`;
    const add = (ref: unknown, field: string) => {
      if (typeof ref !== "string") return;
      // The kubelet reports `docker-pullable://` / `docker://` prefixes with dockershim-era runtimes.
      const r = ref.replace(/^docker(-pullable)?:\/\//, "");
      if (r === "") return;
      const why = checkImageReference(r);
      if (why !== undefined) {
        rejected.push({ pod: podName, field, why });
        return;
      }
      const key = normaliseReference(r);
      const by = needers.get(key);
      if (by === undefined) needers.set(key, { first: podName, phase, all: new Set([podName]) });
      else {
        by.all.add(podName);
        if (podName < by.first) Object.assign(by, { first: podName, phase });
      }
      const seen = images.get(key);
      if (seen === undefined || r.length < seen.length || (r.length === seen.length && r < seen))
        images.set(key, r);
    };
    const spec = pod.spec;
    for (const kind of ["containers", "initContainers", "ephemeralContainers"] as const) {
      for (const c of spec?.[kind] ?? []) add(c.image, `spec.${kind}[${c.name}].image`);
    }
    for (const v of spec?.volumes ?? []) {
      add(v.image?.reference, `spec.volumes[${v.name}].image.reference`);
    }
    const status = pod.status;
    for (const kind of [
      "containerStatuses",
      "initContainerStatuses",
      "ephemeralContainerStatuses",
    ] as const) {
      for (const s of status?.[kind] ?? []) {
        add(s.image, `status.${kind}[${s.name}].image`);
        add(s.imageID, `status.${kind}[${s.name}].imageID`);
        for (const m of s.volumeMounts ?? []) {
          add(
            m.volumeStatus?.image?.imageRef,
            `status.${kind}[${s.name}].volumeMounts[${m.name ?? ""}].volumeStatus.image.imageRef`,
          );
        }
      }
    }
  }
  const neededBy = new Map<string, NeededBy>();
  for (const [key, ref] of images) {
    const by = needers.get(key);
    if (by === undefined) continue;
    const n: NeededBy = { pod: by.first, pods: by.all.size };
    if (by.phase !== undefined) n.phase = by.phase;
    neededBy.set(ref, n);
  }
  return { images: [...images.values()].sort(), neededBy, rejected };
}

/**
 * What the helper pod is told to keep: each reference with the pod that needs it, so the agent can
 * say why it keeps the image. The pods make the list about twice as long; where that no longer fits
 * in the helper's annotations, the references alone still protect everything (the reasons then
 * name the reference, not the pod). Whether even those fit is `protectListProblem`'s to say.
 */
export function protectList(
  needed: NeededImages,
  node: string,
  workloads: readonly ProtectedRef[] = [],
): ProtectEntry[] {
  const detailed = needed.images.map((ref) => {
    const neededBy = needed.neededBy.get(ref);
    return toProtectEntry(neededBy === undefined ? { ref } : { ref, neededBy });
  });
  // A pod on the node that needs an image says more than a template naming it (the image is in
  // use: its --unused-for clock stops); a workload's entry is added only for the other images.
  const onNode = new Set(needed.images.map(normaliseReference));
  const fromWorkloads = workloads
    .filter((w) => !onNode.has(normaliseReference(w.ref)))
    .map(toProtectEntry);
  const full = [...detailed, ...fromWorkloads];
  return protectListProblem(full, node) === undefined ? full : [...needed.images, ...fromWorkloads];
}
