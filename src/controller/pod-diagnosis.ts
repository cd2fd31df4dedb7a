// Why a helper pod did not give a result, in one line an operator can act on: from the pod's status
// (kubelet admission, container states, conditions) and its events. Pure, so every case is tested.
import type { CoreV1Event, V1Pod } from "@kubernetes/client-node";

/** Container waiting reasons that will not resolve by waiting longer. */
const HOPELESS_WAITING = new Set([
  "ImagePullBackOff",
  "ErrImageNeverPull",
  "InvalidImageName",
  "CreateContainerConfigError",
]);

export type PodState =
  | { kind: "pending" }
  | { kind: "running" }
  | { kind: "succeeded" }
  | { kind: "failed" }
  /** Still Pending, but it will never start: give up now rather than at the node timeout. */
  | { kind: "stuck"; why: string };

export function podState(pod: V1Pod): PodState {
  switch (pod.status?.phase) {
    case "Succeeded":
      return { kind: "succeeded" };
    case "Failed":
      return { kind: "failed" };
    case "Running":
      return { kind: "running" };
    default: {
      for (const s of pod.status?.containerStatuses ?? []) {
        const reason = s.state?.waiting?.reason;
        if (reason !== undefined && HOPELESS_WAITING.has(reason)) {
          return { kind: "stuck", why: waitingText(s.name, reason, s.state?.waiting?.message) };
        }
      }
      return { kind: "pending" };
    }
  }
}

const waitingText = (container: string, reason: string, message: string | undefined) =>
  `container ${container} cannot start: ${reason}${message ? `: ${oneLine(message)}` : ""}`;

const oneLine = (text: string, max = 300) => {
  const flat = text.replace(/\s+/g, " ").trim();
  return flat.length > max ? `${flat.slice(0, max - 3)}...` : flat;
};

const KUBELET_REJECTIONS: Record<string, string> = {
  OutOfcpu:
    "the node has no CPU left for the helper's request: lower --helper-cpu-request or free the node",
  OutOfmemory:
    "the node has no memory left for the helper's request: lower --helper-memory-request or free the node",
  OutOfpods: "the node runs its maximum number of pods",
  OutOfephemeral: "the node has no ephemeral storage left",
};

/**
 * Why the pod failed or never ran. `timedOutAfter` is set when the controller gave up waiting
 * (--node-timeout); `events` are the pod's events, newest last.
 */
export function explainPod(
  pod: V1Pod | undefined,
  events: readonly CoreV1Event[],
  timedOutAfter?: string,
): string {
  const parts: string[] = [];
  const status = pod?.status;
  const phase = status?.phase ?? "Pending";
  const node = pod?.spec?.nodeName ?? "the node";

  if (
    phase === "Failed" &&
    status?.reason !== undefined &&
    status.containerStatuses === undefined
  ) {
    // Rejected at kubelet admission: a pod pinned by nodeName skips the scheduler, so a full node
    // shows up here (OutOfcpu, OutOfmemory) instead of as "Insufficient cpu" from the scheduler.
    const hint = KUBELET_REJECTIONS[status.reason];
    parts.push(
      `kubelet rejected the pod: ${status.reason}${status.message ? ` (${oneLine(status.message)})` : ""}${hint ? `; ${hint}` : ""}`,
    );
  } else if (phase === "Failed" && status?.reason === "DeadlineExceeded") {
    parts.push("the pod ran past its activeDeadlineSeconds (--node-timeout)");
  } else if (phase === "Failed" && status?.reason !== undefined) {
    parts.push(
      `pod failed: ${status.reason}${status.message ? ` (${oneLine(status.message)})` : ""}`,
    );
  }

  for (const s of status?.containerStatuses ?? []) {
    const waiting = s.state?.waiting;
    const terminated = s.state?.terminated;
    if (waiting?.reason !== undefined && waiting.reason !== "ContainerCreating") {
      parts.push(waitingText(s.name, waiting.reason, waiting.message));
    } else if (terminated !== undefined && terminated.exitCode !== 0) {
      const msg = terminated.message ? `: ${oneLine(terminated.message)}` : "";
      parts.push(
        `container ${s.name} exited ${terminated.exitCode}${terminated.reason ? ` (${terminated.reason})` : ""}${msg}`,
      );
    }
  }

  if (parts.length === 0 && phase === "Pending") {
    const conditions = status?.conditions ?? [];
    const bad = conditions.filter(
      (c) => c.status !== "True" && (c.reason !== undefined || c.message !== undefined),
    );
    for (const c of bad)
      parts.push(
        `${c.type}=${c.status}${c.reason ? ` ${c.reason}` : ""}${c.message ? `: ${oneLine(c.message)}` : ""}`,
      );
    if (conditions.length === 0 && status?.containerStatuses === undefined) {
      parts.push(`the kubelet on ${node} has not taken the pod up (is the node up and Ready?)`);
    } else if (bad.length === 0) {
      parts.push("the pod is still starting (pulling the image or creating the sandbox)");
    }
  }

  const warnings = latestWarnings(events);
  if (warnings.length > 0) parts.push(`events: ${warnings.join("; ")}`);

  const what = parts.join("; ") || `phase ${phase}`;
  if (timedOutAfter === undefined) return what;
  const stage = phase === "Running" ? "the agent was still running" : `the pod was still ${phase}`;
  return `${stage} after ${timedOutAfter} (--node-timeout): ${what}`;
}

/** The last few Warning events, one per reason, newest last, as `Reason: message`. */
export function latestWarnings(events: readonly CoreV1Event[], max = 3): string[] {
  const byReason = new Map<string, { at: number; text: string }>();
  for (const e of events) {
    if (e.type !== "Warning") continue;
    const at = new Date(e.lastTimestamp ?? e.eventTime ?? e.firstTimestamp ?? 0).getTime();
    const reason = e.reason ?? "Warning";
    const previous = byReason.get(reason);
    if (previous === undefined || previous.at <= at) {
      const count = e.count !== undefined && e.count > 1 ? ` (x${e.count})` : "";
      byReason.set(reason, { at, text: `${reason}: ${oneLine(e.message ?? "", 200)}${count}` });
    }
  }
  return [...byReason.values()]
    .sort((a, b) => a.at - b.at)
    .slice(-max)
    .map((w) => w.text);
}
