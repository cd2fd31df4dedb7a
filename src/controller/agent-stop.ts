// Stopping an agent that is still running (the run was interrupted, or the node timed out) without
// losing its record: its batch records are read from the log before and while it stops.
import type { V1Pod } from "@kubernetes/client-node";
import { serverMessage } from "../kube/errors.js";
import type { PartialRecord } from "../run-model/node-result.js";
import { partialRecord } from "./agent-log.js";
import { AGENT_CONTAINER } from "./helper-pod.js";
import type { NodeRunContext } from "./node-context.js";

/** Whether the agent's container ran (a log exists); unknown pods count as started. */
export function agentStarted(pod: V1Pod | undefined): boolean {
  const status = pod?.status?.containerStatuses?.find((c) => c.name === AGENT_CONTAINER);
  if (pod === undefined) return true;
  return status?.state?.running !== undefined || status?.state?.terminated !== undefined;
}

/**
 * Stops a running agent and keeps its batch records. The log goes with the pod, so it is read
 * before the delete, and again while the agent stops (SIGTERM: it finishes the batch in flight and
 * starts no other) until the pod is gone; the last read is the most complete.
 */
export async function stopAndRead(
  name: string,
  ctx: NodeRunContext,
  quiet = false,
): Promise<PartialRecord | undefined> {
  const before = await readLog(name, ctx, quiet);
  await ctx.cleanup.remove(name, true);
  const last = ctx.cleanup.deletionAllowed ? await readLogUntilGone(name, ctx) : undefined;
  // A log only grows, so the longer read is the fuller record. The last read can come back shorter,
  // even empty, while the kubelet tears the container down: it must not hide what the first read saw
  // (seen once under load: "interrupted" with no records although the agent had logged a batch).
  const text = last !== undefined && last.length >= (before?.length ?? 0) ? last : before;
  return text === undefined ? undefined : partialRecord(text);
}

async function readLog(
  name: string,
  ctx: NodeRunContext,
  quiet = false,
): Promise<string | undefined> {
  try {
    return await ctx.kube.core.readNamespacedPodLog({
      name,
      namespace: ctx.namespace,
      container: AGENT_CONTAINER,
    });
  } catch (err) {
    // A pod that never started has no log; anything else is worth a line, not the node's result.
    if (!quiet)
      ctx.log.warn({ pod: name, err: serverMessage(err) }, "could not read the helper pod's log");
    return undefined;
  }
}

/** How long an interrupted run follows a stopping agent's log (its grace period is 10 s). */
const STOPPING_LOG_MS = 15_000;

/** Reads the log every 300 ms until it can no longer be read (the pod is gone); the last read. */
async function readLogUntilGone(name: string, ctx: NodeRunContext): Promise<string | undefined> {
  let last: string | undefined;
  const end = ctx.now() + STOPPING_LOG_MS;
  while (ctx.now() < end) {
    const text = await readLog(name, ctx, true);
    if (text === undefined) break;
    last = text;
    await new Promise((r) => setTimeout(r, 300));
  }
  return last;
}

/** `; its log records 12 images deleted, 1 whose removal was under way (partial record)`. */
export function partialText(partial: PartialRecord | undefined): string {
  if (partial === undefined) return "";
  const parts = [`${String(partial.deleted.length)} images deleted`];
  if (partial.failed.length > 0) parts.push(`${String(partial.failed.length)} failed`);
  if (partial.unknown.length > 0)
    parts.push(`${String(partial.unknown.length)} whose removal was under way (outcome unknown)`);
  return `; before that its log records ${parts.join(", ")} (partial record)`;
}
