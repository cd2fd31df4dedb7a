// One node of a run: which images its pods need, the helper pod, its outcome, its result, cleanup.
// Every failure here becomes the node's result; only errors no other node would escape (forbidden,
// credentials refused) are thrown, and they stop the run.
import type { CoreV1Event, V1Pod } from "@kubernetes/client-node";
import type { RunConfig } from "../config/run-options.js";
import { formatDuration } from "../config/duration.js";
import type { Logger } from "../log.js";
import type { Kube } from "../kube/api.js";
import { isFatal, serverMessage, statusOf, toKubeApiError } from "../kube/errors.js";
import { parseAgentLog, partialRecord } from "./agent-log.js";
import type { PartialRecord } from "../run-model/node-result.js";
import { AGENT_CONTAINER, buildHelperPod, protectListProblem } from "./helper-pod.js";
import type { ProtectEntry } from "../config/protect-entries.js";
import { RUN_ID_LABEL } from "../run-model/labels.js";
import type { PodCleanup } from "./pod-cleanup.js";
import { explainPod, podState } from "./pod-diagnosis.js";
import { imagesNeededByPods, protectList } from "./pod-images.js";
import type { HelperPodWatch, WatchedPod } from "./pod-watch.js";
import type { Limiter } from "./pool.js";
import type { NodeResult } from "../run-model/node-result.js";

export interface NodeRunContext {
  config: Readonly<RunConfig>;
  kube: Pick<Kube, "core">;
  watch: HelperPodWatch;
  cleanup: PodCleanup;
  namespace: string;
  runId: string;
  owner: { name: string; uid: string } | undefined;
  /** Bounds the pod lists in flight across all nodes (each can be a megabyte of JSON). */
  podLists: Limiter;
  log: Logger;
  /** Aborts when the run is interrupted (SIGTERM/SIGINT) or stopped by a fatal error. */
  signal: AbortSignal;
  now: () => number;
}

class NodeTimeout extends Error {}

/** Terminal, or Pending in a way that will not change: stop waiting. */
const settled = (pod: V1Pod): boolean => {
  const kind = podState(pod).kind;
  return kind === "succeeded" || kind === "failed" || kind === "stuck";
};

export async function cleanNode(node: string, ctx: NodeRunContext): Promise<NodeResult> {
  const started = ctx.now();
  const log = ctx.log.child({ node });
  const finish = (
    r: Omit<NodeResult, "node" | "durationMs" | "protectedImages">,
    protectedImages = 0,
  ): NodeResult => ({
    node,
    ...r,
    protectedImages,
    durationMs: ctx.now() - started,
  });

  // a. Images the pods bound to this node need (one list, all namespaces, by field selector).
  let protect: ProtectEntry[];
  try {
    // Reduced to image names inside the limiter, so no more than its limit of lists is alive.
    const needed = await ctx.podLists.run(async () => {
      const pods = await ctx.kube.core.listPodForAllNamespaces({
        fieldSelector: `spec.nodeName=${node}`,
      });
      return imagesNeededByPods(pods.items);
    });
    protect = protectList(needed, node);
    if (needed.rejected.length > 0) {
      // Not an image reference: it names nothing a runtime holds, so nothing is lost by dropping it.
      // The string itself is never logged (it may be huge or written to forge log lines).
      log.warn(
        { rejected: needed.rejected.slice(0, 20), count: needed.rejected.length },
        "pods on the node have image fields that are not image references; they protect nothing",
      );
    }
  } catch (err) {
    if (isFatal(err)) throw toKubeApiError(err, { verb: "list", resource: "pods" });
    if (ctx.signal.aborted) return finish({ status: "interrupted" });
    return finish({
      status: "failed",
      reason: `could not list the pods on the node: ${serverMessage(err)}`,
    });
  }
  if (ctx.signal.aborted) return finish({ status: "interrupted" }, protect.length);
  const tooMany = protectListProblem(protect, node);
  if (tooMany !== undefined) return finish({ status: "failed", reason: tooMany }, protect.length);

  // b. The helper pod. Tracked before it is created, so the watch misses none of its events.
  const body = buildHelperPod({
    config: ctx.config,
    namespace: ctx.namespace,
    runId: ctx.runId,
    node,
    protect,
    owner: ctx.owner,
  });
  const name = body.metadata?.name ?? "";
  ctx.watch.track(name);
  try {
    await ctx.kube.core.createNamespacedPod({ namespace: ctx.namespace, body });
  } catch (err) {
    if (isFatal(err)) {
      ctx.watch.forget(name);
      throw toKubeApiError(err, { verb: "create", resource: "pods", namespace: ctx.namespace });
    }
    if (!outcomeUnknown(err)) {
      ctx.watch.forget(name);
      return finish(
        { status: "failed", reason: `could not create the helper pod: ${serverMessage(err)}` },
        protect.length,
      );
    }
    // No answer, or a 5xx: the server may have created the pod, and its agent would then delete
    // images with nobody watching. Find out by name; observe it if it is there.
    const found = await findUnanswered(name, err, ctx);
    if (found !== "exists") {
      ctx.watch.forget(name);
      return finish(found, protect.length);
    }
    log.warn(
      { pod: name, err: serverMessage(err) },
      "the answer to the helper pod's create was lost, but the pod exists: observing it",
    );
  }
  log.debug({ pod: name, protect: protect.length }, "helper pod created");

  try {
    const outcome = await waitForPod(name, ctx);
    if (outcome === "interrupted") {
      // The agent's removals so far are in its log, which goes with the pod: read them first. Also
      // when the watch has not yet reported the agent running (its events lag on a busy API
      // server): a pod that never started just has no log to read.
      const started = agentStarted(ctx.watch.latest(name)?.pod);
      const partial = await stopAndRead(name, ctx, !started);
      return finish(
        {
          status: "interrupted",
          pod: name,
          reason: `the run was stopped while the agent ran${partialText(partial)}`,
          ...(partial === undefined ? {} : { partial }),
        },
        protect.length,
      );
    }
    const result = await collect(name, node, outcome, ctx);
    await ctx.cleanup.remove(name);
    return finish({ ...result, pod: name }, protect.length);
  } catch (err) {
    // Only fatal API errors get here (the rest became results); the pod must not outlive the run.
    await ctx.cleanup.remove(name, true);
    throw err;
  } finally {
    ctx.watch.forget(name);
  }
}

/**
 * A create whose outcome is unknown: no answer (connection reset after sending, client timeout, the
 * run interrupted while it was in flight) or a server error, after which the object may exist.
 * 4xx answers (invalid, forbidden, quota, too many requests) are refusals: nothing was created.
 * 409 means a pod of that name exists, which is ours only if a lost create made it.
 */
function outcomeUnknown(err: unknown): boolean {
  const status = statusOf(err);
  return status === undefined || status >= 500 || status === 409 || status === 408;
}

/**
 * After a create with no clear answer: "exists" when the pod is there and is this run's (watch it
 * like any other), else the node's result. When the run was interrupted, or the pod cannot be read,
 * it is deleted by name, so no agent runs unobserved; if even that fails, it is counted as left and
 * the summary prints the command that deletes it.
 */
async function findUnanswered(
  name: string,
  createErr: unknown,
  ctx: NodeRunContext,
): Promise<"exists" | Omit<NodeResult, "node" | "durationMs" | "protectedImages">> {
  const said = serverMessage(createErr);
  if (ctx.signal.aborted) {
    await ctx.cleanup.remove(name, true);
    return {
      status: "interrupted",
      reason: `the run was stopped while the helper pod was being created (${said}); deleted it by name in case it was`,
    };
  }
  try {
    const pod = await ctx.kube.core.readNamespacedPod({ name, namespace: ctx.namespace });
    if (pod.metadata?.labels?.[RUN_ID_LABEL] === ctx.runId) return "exists";
    return {
      status: "failed",
      reason: `could not create the helper pod (${said}): a pod named ${name} exists that this run did not make`,
    };
  } catch (readErr) {
    if (statusOf(readErr) === 404) {
      // A create still on its way inside the server could land after this read; its pod is then
      // ended by its activeDeadlineSeconds and swept by the next run (sweep.ts: its owner is gone).
      return {
        status: "failed",
        reason: `could not create the helper pod: ${said} (it does not exist: the create did not happen)`,
      };
    }
    await ctx.cleanup.remove(name, true);
    return {
      status: "failed",
      reason: `could not create the helper pod (${said}) nor find out whether it exists (${serverMessage(readErr)}); deleted it by name in case it does`,
    };
  }
}

type Outcome = { watched: WatchedPod; timedOut: boolean } | "interrupted";

async function waitForPod(name: string, ctx: NodeRunContext): Promise<Outcome> {
  const timeout = new AbortController();
  const timer = setTimeout(() => {
    timeout.abort(new NodeTimeout());
  }, ctx.config.nodeTimeoutSeconds * 1000);
  try {
    const watched = await ctx.watch.waitFor(
      name,
      settled,
      AbortSignal.any([ctx.signal, timeout.signal]),
    );
    return { watched, timedOut: false };
  } catch (err) {
    if (ctx.signal.aborted) return "interrupted";
    if (!(err instanceof NodeTimeout)) throw err;
    // The watch may have been down: read the pod once before calling it a timeout.
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
  } finally {
    clearTimeout(timer);
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

async function collect(
  name: string,
  node: string,
  outcome: { watched: WatchedPod; timedOut: boolean },
  ctx: NodeRunContext,
): Promise<Omit<NodeResult, "node" | "durationMs" | "protectedImages" | "pod">> {
  const { watched, timedOut } = outcome;
  const pod = watched.pod;
  if (timedOut) {
    const why = explainPod(
      pod,
      await podEvents(name, ctx),
      formatDuration(ctx.config.nodeTimeoutSeconds),
    );
    // Still running, perhaps deleting: stopped now (no agent works on unobserved), and its log
    // followed until the pod is gone, so every batch it did is on record.
    const partial = agentStarted(pod) ? await stopAndRead(name, ctx) : undefined;
    return {
      status: "failed",
      reason: `${why}${partialText(partial)}`,
      ...(partial === undefined ? {} : { partial }),
    };
  }
  if (watched.deleted) {
    const why = explainPod(pod, await podEvents(name, ctx));
    return {
      status: "failed",
      reason: `the helper pod was deleted before it finished (by a person, the Job's garbage collection, or a NoExecute taint it does not tolerate); last seen: ${why}`,
    };
  }
  const state = pod === undefined ? undefined : podState(pod);
  if (pod === undefined || state === undefined || state.kind === "stuck") {
    return { status: "failed", reason: explainPod(pod, await podEvents(name, ctx)) };
  }
  const ran = pod.status?.containerStatuses?.some(
    (s) => s.name === AGENT_CONTAINER && s.state?.terminated !== undefined,
  );
  if (!ran) {
    // Rejected by the kubelet (OutOfcpu, OutOfmemory, ...) before the container existed: no log.
    return { status: "failed", reason: explainPod(pod, await podEvents(name, ctx)) };
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
        status: "interrupted",
        reason: "the run was stopped while the agent's log was read",
      };
    return {
      status: "failed",
      reason: `could not read the helper pod's log: ${serverMessage(err)}; ${explainPod(pod, [])}`,
    };
  }
  const parsed = parseAgentLog(text);
  if (!parsed.ok) {
    const terminated = pod.status?.containerStatuses?.find((s) => s.name === AGENT_CONTAINER)?.state
      ?.terminated;
    const exited =
      terminated === undefined || terminated.exitCode === 0
        ? ""
        : `the agent exited ${terminated.exitCode}${terminated.reason === "OOMKilled" ? " (OOMKilled: raise --helper-memory-limit)" : ""}: `;
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
  if (result.stopped !== undefined) {
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
  if (state.kind === "failed") {
    return { status: "failed", result, reason: explainPod(pod, []) };
  }
  return { status: "ok", result };
}

/** Whether the agent's container ran (a log exists); unknown pods count as started. */
function agentStarted(pod: V1Pod | undefined): boolean {
  const status = pod?.status?.containerStatuses?.find((c) => c.name === AGENT_CONTAINER);
  if (pod === undefined) return true;
  return status?.state?.running !== undefined || status?.state?.terminated !== undefined;
}

/**
 * Stops a running agent and keeps its batch records. The log goes with the pod, so it is read
 * before the delete, and again while the agent stops (SIGTERM: it finishes the batch in flight and
 * starts no other) until the pod is gone; the last read is the most complete.
 */
async function stopAndRead(
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
function partialText(partial: PartialRecord | undefined): string {
  if (partial === undefined) return "";
  const parts = [`${String(partial.deleted.length)} images deleted`];
  if (partial.failed.length > 0) parts.push(`${String(partial.failed.length)} failed`);
  if (partial.unknown.length > 0)
    parts.push(`${String(partial.unknown.length)} whose removal was under way (outcome unknown)`);
  return `; before that its log records ${parts.join(", ")} (partial record)`;
}
