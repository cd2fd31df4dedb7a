// Pods bound to the node after the controller read its protect list. The kubelet creates a pod's
// sandbox before it checks or pulls any of its images (init containers included), so between the
// sandbox and the first container such a pod needs images the agent was not told about and no
// container uses yet. The agent cannot ask the API server which (it has no credentials), so a
// running sandbox of a pod the controller did not know means: delete nothing more.
import type { KnownPods } from "../config/protect-entries.js";
import type { SandboxRecord } from "./inventory.js";

/**
 * The running sandboxes whose pod the controller did not know: none of the known UIDs and not the
 * helper pod itself. A stopped sandbox is a finished pod's (the kubelet keeps it until the pod is
 * deleted; the pod view leaves finished pods out); a sandbox without a pod UID was not made by a
 * kubelet. Sorted by pod, one per pod.
 */
export function arrivedPods(
  sandboxes: readonly SandboxRecord[],
  known: KnownPods,
): SandboxRecord[] {
  const uids = new Set(known.uids);
  const byUid = new Map<string, SandboxRecord>();
  for (const s of sandboxes) {
    if (s.ready !== true || s.uid === undefined || uids.has(s.uid)) continue;
    if (s.pod === known.helper) continue;
    if (!byUid.has(s.uid)) byUid.set(s.uid, s);
  }
  return [...byUid.values()].sort((a, b) => a.pod.localeCompare(b.pod));
}

/** Why the images left are not deleted, naming the pods; the caller escapes it. */
export function arrivedDetail(pods: readonly SandboxRecord[]): string {
  const first = pods[0]?.pod ?? "?";
  const others = pods.length - 1;
  return (
    `pod ${first}${others > 0 ? ` and ${String(others)} other pod${others === 1 ? "" : "s"}` : ""} ` +
    `${others > 0 ? "were" : "was"} bound to the node after the protect list was read (${others > 0 ? "their sandboxes" : "its sandbox"} appeared during the run; ` +
    "which images it will pull is not known here): left for the next run"
  );
}
