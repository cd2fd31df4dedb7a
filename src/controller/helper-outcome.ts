// How a node's helper pod ended, as the node's result: waited for to a terminal phase (or one that
// will not change, or --node-timeout), then explained from its status and events, or read from the
// agent's log.
import type { CoreV1Event, V1Pod } from "@kubernetes/client-node";
import { formatDuration } from "../config/duration.js";
import { isFatal, serverMessage, statusOf, toKubeApiError } from "../kube/errors.js";
import type { NodeResult } from "../run-model/node-result.js";
import { parseAgentLog, partialRecord } from "./agent-log.js";
import { agentStarted, partialText, stopAndRead } from "./agent-stop.js";
import { agentRunning, followAgentLog } from "./agent-follow.js";
import { AGENT_CONTAINER } from "./helper-pod.js";
import type { NodeRunContext } from "./node-context.js";
import { explainPod, podState } from "./pod-diagnosis.js";
import type { WatchedPod } from "./pod-watch.js";

class NodeTimeout extends Error {}

/**
 * The agent's container has ended: its log is complete. The kubelet reports that about a second
 * before the pod's terminal phase, which it sets only once the pod's sandbox is torn down; a phase
 * that ends the pod for other reasons (its deadline, an eviction) is set before its container is
 * killed, so waiting for the container loses no explanation.
 */
export const agentEnded = (pod: V1Pod): boolean =>
  pod.status?.containerStatuses?.some(
    (s) => s.name === AGENT_CONTAINER && s.state?.terminated !== undefined,
  ) === true;

/** Terminal, the agent's container ended, or Pending in a way that will not change: stop waiting. */
export const settled = (pod: V1Pod): boolean => {
  const kind = podState(pod).kind;
  return kind === "succeeded" || kind === "failed" || kind === "stuck" || agentEnded(pod);
};

/**
 * How the wait for a helper pod ended. `log`: the agent's log as followed up to its complete
 * result (the node settled on it, before its container's end was reported).
 */
export type Outcome = { watched: WatchedPod; timedOut: boolean; log?: string } | "interrupted";

/** A node that settled (or timed out) without a followed log. */
export type PodEnd = { watched: WatchedPod; timedOut: boolean };

/**
 * Waits for the helper pod's end (settled), or --node-timeout. With `arrived`, the agent's log is
 * followed once its container runs, and the node settles as soon as `arrived` finds the agent's
 * result complete in it; a follow that ends or breaks without it leaves the wait as it was.
 */
export async function waitForPod(
  name: string,
  ctx: NodeRunContext,
  arrived?: (text: string) => boolean,
): Promise<Outcome> {
  const timeout = new AbortController();
  const timer = setTimeout(() => {
    timeout.abort(new NodeTimeout());
  }, ctx.nodeTimeoutSeconds * 1000);
  const stop = AbortSignal.any([ctx.signal, timeout.signal]);
  try {
    if (arrived === undefined) {
      return { watched: await ctx.watch.waitFor(name, settled, stop), timedOut: false };
    }
    const first = await ctx.watch.waitFor(name, (p) => settled(p) || agentRunning(p), stop);
    if (first.deleted || first.pod === undefined || settled(first.pod)) {
      return { watched: first, timedOut: false };
    }
    return await followOrSettle(name, ctx, arrived, stop);
  } catch (err) {
    if (ctx.signal.aborted) return "interrupted";
    if (!(err instanceof NodeTimeout)) throw err;
    return await afterTimeout(name, ctx);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * The agent runs: its log followed and the pod watched at once. The result arriving whole settles
 * the node; the container's end reported first (the agent printed no result, or the stream lags)
 * or a follow that ended or broke without the result leaves the watch's outcome, and the log is
 * read once as before.
 */
async function followOrSettle(
  name: string,
  ctx: NodeRunContext,
  arrived: (text: string) => boolean,
  stop: AbortSignal,
): Promise<Outcome> {
  const quit = new AbortController();
  const either = AbortSignal.any([stop, quit.signal]);
  const following = followAgentLog(name, ctx, arrived, either);
  const ended = ctx.watch.waitFor(name, settled, either).then(
    (watched) => ({ watched }),
    (err: unknown) => ({ err }),
  );
  try {
    const first = await Promise.race([following.then((text) => ({ text })), ended]);
    if ("text" in first && first.text !== undefined) {
      ctx.log.debug({ pod: name }, "the agent's result arrived in its followed log");
      return { watched: latestOf(name, ctx), timedOut: false, log: first.text };
    }
    if ("watched" in first) {
      // Reported ended first: the stream may be a moment behind the watch (its last lines in
      // flight), so it gets FOLLOW_GRACE_MS to bring the result before it is cut and the log read
      // once more.
      const text = await Promise.race([following, delay(FOLLOW_GRACE_MS, stop)]);
      quit.abort();
      if (text !== undefined) return { watched: first.watched, timedOut: false, log: text };
      return { watched: first.watched, timedOut: false };
    }
    const end = await ended;
    if ("err" in end) throw end.err;
    return { watched: end.watched, timedOut: false };
  } finally {
    quit.abort();
  }
}

/**
 * How long a followed log may lag behind the watch's report of the container's end before it is
 * cut and the log read once more: a real kubelet ends a follow itself within about a second of
 * the container's end; kwok's never ends (its result is in it from the first read).
 * @default 1000 ms
 */
export const FOLLOW_GRACE_MS = 1000;

/** Resolves undefined after `ms`, or when `signal` aborts. */
function delay(ms: number, signal: AbortSignal): Promise<undefined> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve(undefined);
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
  });
}

/** The pod as last seen (the node settled on its log, the watch has it as it was then). */
function latestOf(name: string, ctx: NodeRunContext): WatchedPod {
  return ctx.watch.latest(name) ?? { pod: undefined, deleted: false };
}

/** --node-timeout passed: the watch may have been down, so the pod is read once before saying so. */
async function afterTimeout(name: string, ctx: NodeRunContext): Promise<PodEnd> {
  try {
    const pod = await ctx.kube.core.readNamespacedPod({ name, namespace: ctx.namespace });
    return { watched: { pod, deleted: false }, timedOut: !settled(pod) };
  } catch (readErr) {
    if (statusOf(readErr) === 404)
      return { watched: { pod: ctx.watch.latest(name)?.pod, deleted: true }, timedOut: false };
    if (isFatal(readErr))
      throw toKubeApiError(readErr, { verb: "get", resource: "pods", namespace: ctx.namespace });
    return {
      watched: ctx.watch.latest(name) ?? { pod: undefined, deleted: false },
      timedOut: true,
    };
  }
}

async function podEvents(name: string, ctx: NodeRunContext): Promise<CoreV1Event[]> {
  try {
    const list = await ctx.kube.core.listNamespacedEvent({
      namespace: ctx.namespace,
      fieldSelector: `involvedObject.kind=Pod,involvedObject.name=${name}`,
    });
    return list.items;
  } catch (err) {
    // Events only explain; without them (e.g. RBAC lacks `list events`) the pod status still does.
    ctx.log.warn({ pod: name, err: serverMessage(err) }, "could not list the helper pod's events");
    return [];
  }
}

/** How a helper pod ended without a log to read: the node's status and why. */
export type HelperFailure = Pick<NodeResult, "status" | "reason" | "partial">;

/** The agent's log of a helper pod that ran to its end, with how its container ended. */
export interface HelperLog {
  text: string;
  /** `the agent exited 3: ` when it exited non-zero (with OOMKilled's advice), else "". */
  exited: string;
  /**
   * The pod's phase is Failed (as last seen: when its agent's container ended before the phase was
   * set, the phase is still Running, and how the agent ended is in `exited` and its result).
   */
  podFailed: boolean;
  /** The pod's status explained (for a failed phase). */
  explain: () => string;
}

/**
 * How the helper pod ended, for every job alike: a failure with its explanation (timed out,
 * deleted, stuck, rejected by the kubelet, its log unreadable), or the agent's log to interpret.
 */
export async function readHelperLog(
  name: string,
  outcome: Exclude<Outcome, "interrupted">,
  ctx: NodeRunContext,
): Promise<{ failure: HelperFailure } | { log: HelperLog }> {
  const { watched, timedOut } = outcome;
  const pod = watched.pod;
  if (outcome.log !== undefined) {
    // Settled on the agent's complete result, followed as it was printed: the agent's own verdict.
    // Its exit code is not known yet and adds nothing (non-zero exactly when the result lists
    // failures or a stop); a phase already Failed (its deadline) is still said.
    return {
      log: {
        text: outcome.log,
        exited: "",
        podFailed: pod !== undefined && podState(pod).kind === "failed",
        explain: () => explainPod(pod, []),
      },
    };
  }
  if (timedOut) {
    const why = explainPod(pod, await podEvents(name, ctx), formatDuration(ctx.nodeTimeoutSeconds));
    // Still running, perhaps deleting: stopped now (no agent works on unobserved), and its log
    // followed until its container ended, so every batch it did is on record. Also when the pod
    // as last seen shows no agent running: the watch lags on a busy API server, and a pod that
    // never started just has no log.
    const partial = await stopAndRead(name, ctx, !agentStarted(pod));
    return {
      failure: {
        status: "failed",
        reason: `${why}${partialText(partial)}`,
        ...(partial === undefined ? {} : { partial }),
      },
    };
  }
  if (watched.deleted) {
    const why = explainPod(pod, await podEvents(name, ctx));
    return {
      failure: {
        status: "failed",
        reason: `the helper pod was deleted before it finished (by a person, the Job's garbage collection, or a NoExecute taint it does not tolerate); last seen: ${why}`,
      },
    };
  }
  const state = pod === undefined ? undefined : podState(pod);
  if (pod === undefined || state === undefined || state.kind === "stuck") {
    return { failure: { status: "failed", reason: explainPod(pod, await podEvents(name, ctx)) } };
  }
  const ran = pod.status?.containerStatuses?.some(
    (s) => s.name === AGENT_CONTAINER && s.state?.terminated !== undefined,
  );
  if (!ran) {
    const running = pod.status?.containerStatuses?.some(
      (s) => s.name === AGENT_CONTAINER && s.state?.running !== undefined,
    );
    if (running) {
      // Failed while its agent still runs: the kubelet ended the pod at its activeDeadlineSeconds
      // and the agent is finishing its batch. Its log is followed to the container's end.
      const partial = await stopAndRead(name, ctx);
      return {
        failure: {
          status: "failed",
          reason: `${explainPod(pod, [])}${partialText(partial)}`,
          ...(partial === undefined ? {} : { partial }),
        },
      };
    }
    // Rejected by the kubelet (OutOfcpu, OutOfmemory, ...) before the container existed: no log.
    return { failure: { status: "failed", reason: explainPod(pod, await podEvents(name, ctx)) } };
  }

  let text: string;
  try {
    text = await ctx.kube.core.readNamespacedPodLog({
      name,
      namespace: ctx.namespace,
      container: AGENT_CONTAINER,
    });
  } catch (err) {
    if (isFatal(err))
      throw toKubeApiError(err, { verb: "get", resource: "pods/log", namespace: ctx.namespace });
    if (ctx.signal.aborted)
      return {
        failure: {
          status: "interrupted",
          reason: "the run was stopped while the agent's log was read",
        },
      };
    return {
      failure: {
        status: "failed",
        reason: `could not read the helper pod's log: ${serverMessage(err)}; ${explainPod(pod, [])}`,
      },
    };
  }
  const terminated = pod.status?.containerStatuses?.find((s) => s.name === AGENT_CONTAINER)?.state
    ?.terminated;
  const exited =
    terminated === undefined || terminated.exitCode === 0
      ? ""
      : `the agent exited ${terminated.exitCode}${terminated.reason === "OOMKilled" ? " (OOMKilled: raise --helper-memory-limit)" : ""}: `;
  return {
    log: {
      text,
      exited,
      podFailed: state.kind === "failed",
      explain: () => explainPod(pod, []),
    },
  };
}

/** The clean job's node result from its helper pod: the agent's result, or why there is none. */
export async function collect(
  name: string,
  node: string,
  outcome: Exclude<Outcome, "interrupted">,
  ctx: NodeRunContext,
): Promise<Omit<NodeResult, "node" | "durationMs" | "protectedImages" | "pod">> {
  const read = await readHelperLog(name, outcome, ctx);
  if ("failure" in read) return read.failure;
  const { text, exited } = read.log;

  const parsed = parseAgentLog(text);
  if (!parsed.ok) {
    const partial = partialRecord(text);
    return {
      status: "failed",
      reason: `${exited}${parsed.reason}${partialText(partial)}`,
      ...(partial === undefined ? {} : { partial }),
    };
  }
  const result = parsed.result;
  if (result.node !== node) {
    ctx.log.warn({ pod: name, reported: result.node }, "the agent reported a different node name");
  }
  if (result.failed.length > 0) {
    const first = result.failed[0];
    return {
      status: "failed",
      result,
      reason: `${result.failed.length} of ${result.failed.length + result.deleted.length} deletions failed${first ? ` (first: ${first.names[0] ?? first.id}: ${first.error})` : ""}`,
    };
  }
  if (result.stopped !== undefined && result.stopped !== "pod-arrived") {
    const left = result.kept.filter((k) => k.reason === "not-attempted").length;
    return {
      status: "failed",
      result,
      reason:
        result.stopped === "deadline"
          ? `the agent stopped at its deadline with ${String(left)} planned images not attempted: raise --node-timeout (timeouts.node)`
          : `the agent was stopped (SIGTERM) with ${String(left)} planned images not attempted`,
    };
  }
  if (read.log.podFailed) {
    return { status: "failed", result, reason: read.log.explain() };
  }
  return { status: "ok", result };
}
