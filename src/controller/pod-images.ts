// Which images the pods bound to a node need, as the API server sees them. The agent protects these
// (--protect) even when no container uses them right now: a crash-looping pod between restarts, an
// init container that already ran, a pod about to start.
import type { V1Pod } from "@kubernetes/client-node";
import { COMPONENT_LABEL, HELPER_COMPONENT, NAME_LABEL, APP_NAME } from "./labels.js";

/**
 * Every image reference of the pods: spec images of containers, init and ephemeral containers, and
 * the status `image` and `imageID` (the latter pins the exact content even when a tag moved).
 * Finished pods (Succeeded, Failed) need nothing; their exited containers, if still present, are
 * protected by the agent as in-use. Our own helper pods are skipped.
 */
export function imagesNeededByPods(pods: readonly V1Pod[]): string[] {
  const images = new Set<string>();
  const add = (ref: string | undefined) => {
    const r = ref?.trim();
    // The kubelet reports `docker-pullable://` / `docker://` prefixes with dockershim-era runtimes.
    if (r) images.add(r.replace(/^docker(-pullable)?:\/\//, ""));
  };
  for (const pod of pods) {
    const phase = pod.status?.phase;
    if (phase === "Succeeded" || phase === "Failed") continue;
    const labels = pod.metadata?.labels ?? {};
    if (labels[NAME_LABEL] === APP_NAME && labels[COMPONENT_LABEL] === HELPER_COMPONENT) continue;
    const spec = pod.spec;
    for (const c of [
      ...(spec?.containers ?? []),
      ...(spec?.initContainers ?? []),
      ...(spec?.ephemeralContainers ?? []),
    ]) {
      add(c.image);
    }
    const status = pod.status;
    for (const s of [
      ...(status?.containerStatuses ?? []),
      ...(status?.initContainerStatuses ?? []),
      ...(status?.ephemeralContainerStatuses ?? []),
    ]) {
      add(s.image);
      add(s.imageID);
    }
  }
  return [...images].sort();
}
