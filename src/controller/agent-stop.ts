// Stopping an agent that is still running (the run was interrupted, or the node timed out) without
// losing its record: its batch records are read from the log before and while it stops.
import type { V1Pod } from "@kubernetes/client-node";
import { serverMessage, statusOf } from "../kube/errors.js";
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

/** What stopping an agent needs from the node's turn (a narrow slice, so it is tested alone). */
export type StopContext = Pick<NodeRunContext, "kube" | "cleanup" | "namespace" | "log" | "now"> & {
  /** Waits between reads; a test passes its own clock. */
  sleep?: (ms: number) => Promise<void>;
};

/**
 * Stops a running agent and keeps its batch records. The only way the controller has to stop an
 * agent is deleting its pod: the kubelet sends SIGTERM (the agent finishes the batch in flight,
 * starts no other and prints its result) and keeps the pod, and its log, until the container has
 * ended. So the log is read first, a follow of it is sent before the delete, and it is followed
 * until the container ends (a follow ends only then) or the pod is gone. A log only grows: the
 * longest read is the record. With deletion not allowed the agent is not stopped, and the log is
 * still followed, as long as the stop budget lasts.
 */
export async function stopAndRead(
  name: string,
  ctx: StopContext,
  quiet = false,
): Promise<PartialRecord | undefined> {
  const first = await readLog(name, ctx, false, quiet);
  const before = first.ok ? first.text : undefined;
  // Sent before the delete: the pod is there when it arrives, and the stream then holds every
  // line the agent writes until its container ends, whatever happens to the pod afterwards.
  const following = readLogUntilGone(name, ctx);
  await ctx.cleanup.remove(name, true);
  const text = longest(before, await following);
  return text === undefined ? undefined : partialRecord(text);
}

/** The longer text: a log only grows, so a shorter read (during teardown) is an older one. */
const longest = (a: string | undefined, b: string | undefined): string | undefined =>
  a === undefined ? b : b === undefined || a.length >= b.length ? a : b;

type LogRead = { ok: true; text: string } | { ok: false; gone: boolean };

async function readLog(
  name: string,
  ctx: StopContext,
  follow: boolean,
  quiet = true,
): Promise<LogRead> {
  try {
    const text = await ctx.kube.core.readNamespacedPodLog({
      name,
      namespace: ctx.namespace,
      container: AGENT_CONTAINER,
      ...(follow ? { follow: true } : {}),
    });
    return { ok: true, text };
  } catch (err) {
    // A pod that never started has no log; anything else is worth a line, not the node's result.
    if (!quiet)
      ctx.log.warn({ pod: name, err: serverMessage(err) }, "could not read the helper pod's log");
    return { ok: false, gone: statusOf(err) === 404 };
  }
}

/**
 * How long a stopping agent's log is followed: its grace period (10 s), the kubelet's check that
 * a followed container still runs (every few seconds), and slack for a loaded API server; well
 * inside the controller's own grace period (60 s by default), which the report sinks share.
 */
export const STOPPING_LOG_MS = 25_000;
/** Between attempts after a failed read. */
const RETRY_MS = 300;

/**
 * Follows the log until the container has ended (a follow that ends on its own) or the pod is gone
 * (404), retrying after any other error (a container not started yet, a reset connection, a
 * timeout), within STOPPING_LOG_MS; the longest text read, undefined when none was.
 */
export async function readLogUntilGone(
  name: string,
  ctx: StopContext,
  budgetMs = STOPPING_LOG_MS,
): Promise<string | undefined> {
  const sleep = ctx.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  let text: string | undefined;
  const end = ctx.now() + budgetMs;
  do {
    const read = await readLog(name, ctx, true);
    if (read.ok) {
      text = longest(text, read.text);
      return text;
    }
    if (read.gone) return text;
    await sleep(RETRY_MS);
  } while (ctx.now() < end);
  ctx.log.warn(
    { pod: name, budgetMs },
    "stopped following the helper pod's log before its container ended: what it wrote after this is not on record",
  );
  return text;
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
