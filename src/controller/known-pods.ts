// The pods the controller knew bound to a node when it read the node's protect list, as the agent
// compares them with the node's pod sandboxes (agent/arrived-pods.ts), and the check after the
// agent's result: a deleted image that a pod bound since then names (the agent's re-check cannot
// see a pod before its sandbox runs) is said in the node's section, never hidden.
import type { KnownPods } from "../config/protect-entries.js";
import { normaliseReference } from "../config/patterns.js";
import type { DeletedImage } from "../run-model/agent-result.js";
import { helperPodName } from "../run-model/labels.js";
import { imagesNeededByPods } from "./pod-images.js";
import { MIRROR_ANNOTATION, type SlimPod } from "./pod-slim.js";

/**
 * The UIDs the kubelet gives the sandboxes of `pods`: each pod's `metadata.uid` and, for a mirror
 * pod, its static pod's (the `kubernetes.io/config.mirror` annotation); the helper pod by name
 * (it is created after the list is read).
 */
export function knownPods(
  pods: readonly SlimPod[],
  helper: { namespace: string; runId: string; node: string },
): KnownPods {
  const uids = new Set<string>();
  for (const p of pods) {
    const uid = p.metadata?.uid;
    if (uid !== undefined && uid !== "") uids.add(uid);
    const mirror = p.metadata?.annotations?.[MIRROR_ANNOTATION];
    if (mirror !== undefined && mirror !== "") uids.add(mirror);
  }
  return {
    uids: [...uids].sort(),
    helper: `${helper.namespace}/${helperPodName(helper.runId, helper.node)}`,
  };
}

/** A deleted image that a pod bound after the protect list was read names. */
export interface LateNeed {
  /** `namespace/name` of the first such pod (sorted). */
  pod: string;
  /** The deleted image's first name (or its id). */
  image: string;
}

/**
 * Which deleted images pods not in `known` (bound since the list was read) name: spec images,
 * status images and image ids, normalised as the agent compares them. The helper pod is left out,
 * as are our own helper pods of other runs (imagesNeededByPods skips them).
 */
export function lateNeeds(
  podsNow: readonly SlimPod[],
  known: KnownPods,
  deleted: readonly DeletedImage[],
): LateNeed[] {
  const uids = new Set(known.uids);
  const late = podsNow.filter((p) => {
    const uid = p.metadata?.uid;
    const mirror = p.metadata?.annotations?.[MIRROR_ANNOTATION];
    if (uid !== undefined && uids.has(uid)) return false;
    if (mirror !== undefined && uids.has(mirror)) return false;
    return `${p.metadata?.namespace ?? ""}/${p.metadata?.name ?? ""}` !== known.helper;
  });
  if (late.length === 0 || deleted.length === 0) return [];
  const needed = imagesNeededByPods(late);
  const byKey = new Map<string, string>(); // normalised reference -> first pod naming it
  for (const ref of needed.images) {
    const pod = needed.neededBy.get(ref)?.pod;
    if (pod !== undefined) byKey.set(normaliseReference(ref), pod);
  }
  const out: LateNeed[] = [];
  for (const d of deleted) {
    // By every name the agent deleted, its repo digests and its id (a status imageID may be either).
    const keys = [d.id, ...d.names].map(normaliseReference);
    const pod = keys.map((k) => byKey.get(k)).find((p) => p !== undefined);
    if (pod !== undefined) out.push({ pod, image: d.names[0] ?? d.id });
  }
  return out.sort((a, b) => a.pod.localeCompare(b.pod) || a.image.localeCompare(b.image));
}

/** The node section's note for `needs`; the reporter escapes it. */
export function lateNeedsNote(needs: readonly LateNeed[]): string {
  const shown = needs.slice(0, 5).map((n) => `${n.image} (pod ${n.pod})`);
  const more =
    needs.length > shown.length ? ` and ${String(needs.length - shown.length)} more` : "";
  return (
    `deleted ${needs.length === 1 ? "an image" : `${String(needs.length)} images`} that ` +
    `${needs.length === 1 ? "a pod" : "pods"} bound to the node after its protect list was read ` +
    `need${needs.length === 1 ? "s" : ""}: ${shown.join(", ")}${more}; the kubelet will pull ` +
    `${needs.length === 1 ? "it" : "them"} again`
  );
}
