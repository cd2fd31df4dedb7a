// One node of a run: which images its pods need, the helper pod, its outcome, its result, cleanup.
// Every failure here becomes the node's result; only errors no other node would escape (forbidden,
// credentials refused) are thrown, and they stop the run. How the helper pod ended is read in
// helper-outcome.ts; an agent still running is stopped, keeping its record, in agent-stop.ts.
import { KubeApiError } from "../errors.js";
import { isFatal, serverMessage, statusOf, toKubeApiError } from "../kube/errors.js";
import { identityOnly } from "../kube/slim-list.js";
import { RUN_ID_LABEL } from "../run-model/labels.js";
import type { NodeResult } from "../run-model/node-result.js";
import type { ProtectEntry } from "../config/protect-entries.js";
import type { RunConfig } from "../config/run-options.js";
import { agentResultArrived } from "./agent-log.js";
import { agentStarted, partialText, stopAndRead } from "./agent-stop.js";
import { buildHelperPod, protectListProblem } from "./helper-pod.js";
import { collect, waitForPod, type Outcome } from "./helper-outcome.js";
import type { V1Pod } from "@kubernetes/client-node";
import type { Logger } from "../log.js";
import type { CleanNodeContext, NodeRunContext } from "./node-context.js";
import { imagesNeededByPods, protectList } from "./pod-images.js";
import { knownPods, lateNeeds, lateNeedsNote } from "./known-pods.js";
import type { PodView } from "./pod-view.js";
import type { KnownPods } from "../config/protect-entries.js";

export async function cleanNode(
  node: string,
  ctx: CleanNodeContext,
  config: Readonly<RunConfig>,
): Promise<NodeResult> {
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

  // a. Images the pods bound to this node need, from the run's shared pod view, fresh to a
  //    resourceVersion read now (pod-view.ts says how).
  const view = ctx.pods;
  if (view === undefined)
    throw new Error("cleanNode needs the shared pod view (NodeJob.protectsPods)");
  let protect: ProtectEntry[];
  let known: KnownPods;
  try {
    const { pods, from } = await view.podsOn(node, ctx.signal);
    const needed = imagesNeededByPods(pods);
    known = knownPods(pods, { namespace: ctx.namespace, runId: ctx.runId, node });
    log.debug({ pods: pods.length, from }, "pods bound to the node");
    protect = protectList(needed, node, ctx.workloadProtect);
    if (needed.rejected.length > 0) {
      // Not an image reference: it names nothing a runtime holds, so nothing is lost by dropping it.
      // The string itself is never logged (it may be huge or written to forge log lines).
      log.warn(
        { rejected: needed.rejected.slice(0, 20), count: needed.rejected.length },
        "pods on the node have image fields that are not image references; they protect nothing",
      );
    }
  } catch (err) {
    // The view itself could not start (forbidden, server gone): no node can go on.
    if (err instanceof KubeApiError) throw err;
    if (isFatal(err)) throw toKubeApiError(err, { verb: "list", resource: "pods" });
    if (ctx.signal.aborted) return finish({ status: "interrupted" });
    return finish({
      status: "failed",
      reason: `could not list the pods on the node: ${serverMessage(err)}`,
    });
  }
  // Only the count is kept past this point: the list (with workload protection, 1,000 entries or
  // more) and the pod body carrying it are not held while the helper runs, at any concurrency.
  const protectedImages = protect.length;
  if (ctx.signal.aborted) return finish({ status: "interrupted" }, protectedImages);
  const tooMany = protectListProblem(protect, node, known);
  if (tooMany !== undefined) return finish({ status: "failed", reason: tooMany }, protectedImages);

  // b. The helper pod, observed to its end and read (helper-outcome.ts).
  const body = buildHelperPod({
    config,
    namespace: ctx.namespace,
    runId: ctx.runId,
    node,
    protect,
    knownPods: known,
    owner: ctx.owner,
    createdAt: ctx.now(),
  });
  const end = await runHelperPod(
    body,
    ctx,
    log,
    (name, outcome) => collect(name, node, outcome, ctx),
    agentResultArrived,
  );
  const notes =
    "result" in end ? deletedForLatePods(end.result, known, node, view, ctx.signal) : [];
  return finish(notes.length === 0 ? end : { ...end, notes }, protectedImages);
}

/**
 * c. A pod bound after the protect list was read whose sandbox the agent's re-check did not see
 *    yet (binding to sandbox) may have lost an image: looked up in the view as it stands once the
 *    agent deleted something, and said in the node's section. No fresh read: the note is an audit
 *    line, not a guard (the agent's sandbox check is), and a read per node would add a request and
 *    up to the view's fresh wait to every node that deleted anything.
 */
function deletedForLatePods(
  result: NodeResult["result"],
  known: KnownPods,
  node: string,
  view: Pick<PodView, "podsOnNode">,
  signal: AbortSignal,
): string[] {
  if (result === undefined || result.dryRun || result.deleted.length === 0) return [];
  if (signal.aborted) return [];
  const needs = lateNeeds(view.podsOnNode(node), known, result.deleted);
  return needs.length === 0 ? [] : [lateNeedsNote(needs)];
}

/** What every job's helper pod ends with: the node's status, why, and what its log recorded. */
export type HelperEnd = Pick<NodeResult, "status" | "reason" | "partial" | "pod" | "helperMs">;

/**
 * Creates a helper pod, waits for its end, reads it with `read` and deletes it. Every job's node
 * goes through here. A create without a clear answer is settled by name; an interrupted agent is
 * stopped with its log read first; only fatal API errors are thrown (after deleting the pod).
 */
export async function runHelperPod<T extends { status: NodeResult["status"] }>(
  body: V1Pod,
  ctx: NodeRunContext,
  log: Logger,
  read: (name: string, outcome: Exclude<Outcome, "interrupted">) => Promise<T>,
  /** Settles the node once the agent's followed log holds its complete result (helper-outcome.ts). */
  arrived?: (text: string) => boolean,
): Promise<T | HelperEnd> {
  // Tracked before it is created, so the watch misses none of its events.
  const name = body.metadata?.name ?? "";
  ctx.watch.track(name);
  let deleted = false;
  try {
    await createHelperPod(body, ctx);
  } catch (err) {
    if (isFatal(err)) {
      ctx.watch.forget(name);
      throw toKubeApiError(err, { verb: "create", resource: "pods", namespace: ctx.namespace });
    }
    if (!outcomeUnknown(err)) {
      ctx.watch.forget(name);
      return { status: "failed", reason: `could not create the helper pod: ${serverMessage(err)}` };
    }
    // No answer, or a 5xx: the server may have created the pod, and its agent would then work
    // with nobody watching. Find out by name; observe it if it is there.
    const found = await findUnanswered(name, err, ctx);
    if (found !== "exists") {
      ctx.watch.forget(name);
      return found;
    }
    log.warn(
      { pod: name, err: serverMessage(err) },
      "the answer to the helper pod's create was lost, but the pod exists: observing it",
    );
  }
  log.debug({ pod: name }, "helper pod created");
  const createdAt = ctx.now();

  try {
    const outcome = await waitForPod(name, ctx, arrived);
    if (outcome === "interrupted") {
      // The agent's work so far is in its log, which goes with the pod: read it first. Also
      // when the watch has not yet reported the agent running (its events lag on a busy API
      // server): a pod that never started just has no log to read.
      const started = agentStarted(ctx.watch.latest(name)?.pod);
      const partial = await stopAndRead(name, ctx, !started);
      return {
        status: "interrupted",
        pod: name,
        reason: `the run was stopped while the agent ran${partialText(partial)}`,
        ...(partial === undefined ? {} : { partial }),
      };
    }
    const result = await read(name, outcome);
    const helperMs = ctx.now() - createdAt;
    deleted = await ctx.cleanup.remove(name);
    return { ...result, pod: name, helperMs };
  } catch (err) {
    // Only fatal API errors get here (the rest became results); the pod must not outlive the run.
    await ctx.cleanup.remove(name, true);
    throw err;
  } finally {
    if (deleted) ctx.watch.forgetWhenGone(name);
    else ctx.watch.forget(name);
  }
}

/**
 * Sends the helper pod's create. Its own function: a closure over `body` in runHelperPod would keep
 * the body (and the protect list in its annotation, 100 KiB or more with workload protection) alive
 * until the node is done, once per node in flight.
 */
async function createHelperPod(body: V1Pod, ctx: NodeRunContext): Promise<void> {
  // Its answer's resourceVersion is the fence of the nodes that asked for their pods before
  // (a job without the pod view, such as pull, just creates).
  // Only the answer's resourceVersion is read: the rest of the pod is not parsed into models.
  const create = () =>
    ctx.kube.core.createNamespacedPod(
      { namespace: ctx.namespace, body },
      { middleware: [identityOnly], middlewareMergeStrategy: "append" },
    );
  await (ctx.pods === undefined ? create() : ctx.pods.fenceWrite(create));
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
): Promise<"exists" | HelperEnd> {
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
