// Start of a run: helper pods of this instance left by earlier runs (a controller that was killed,
// --keep-pods, RBAC without delete) are deleted, so pods never pile up and never hold a node's image.
// Only pods of runs that are over: two runs of one release can be alive at once (`kubectl create job
// --from=cronjob/...` during a scheduled run, as the README suggests), and deleting the other run's
// helper pods mid-deletion would fail its nodes and leave its agents' work unreported.
import type { V1Pod } from "@kubernetes/client-node";
import type { Logger } from "../log.js";
import type { Kube } from "../kube/api.js";
import { serverMessage, statusOf, toKubeApiError } from "../kube/errors.js";
import { leftoverSelector, RUN_ID_LABEL } from "../run-model/labels.js";
import type { PodCleanup } from "./pod-cleanup.js";
import { forEachBounded } from "./pool.js";

const SWEEP_CONCURRENCY = 10;

/**
 * Time a run may still need a helper pod after its node timeout: reading the log and deleting it.
 * A pod older than its activeDeadlineSeconds plus this is abandoned whoever made it.
 */
const AFTER_DEADLINE_MS = 2 * 60_000;

export interface SweepResult {
  deleted: number;
  /** Pods of finished runs that could not be deleted (RBAC, errors): in the final kubectl command. */
  left: number;
  /** Pods of other runs still in progress: left alone. */
  running?: number;
}

/** Why a helper pod of another run may go, or undefined when its run may still be using it. */
export type OwnerState = "gone" | "finished" | "running" | "unknown";

/**
 * Whether the run that made `pod` is over: its controller pod (owner reference) is gone or
 * finished, or the pod is older than its own activeDeadlineSeconds (the node timeout of the run
 * that made it) plus the time to collect it. A pod without an owner (a run from outside the
 * cluster, or in another namespace) is left alone until then: nothing else says its run is over.
 */
export function runIsOver(
  pod: V1Pod,
  owner: OwnerState | undefined,
  nodeTimeoutSeconds: number,
  nowMs: number,
): string | undefined {
  const created = pod.metadata?.creationTimestamp;
  const deadlineS = pod.spec?.activeDeadlineSeconds ?? nodeTimeoutSeconds;
  if (created !== undefined) {
    const age = nowMs - new Date(created).getTime();
    if (age > deadlineS * 1000 + AFTER_DEADLINE_MS) return "older than its node timeout";
  }
  if (owner === "gone") return "its run's controller pod is gone";
  if (owner === "finished") return "its run's controller pod has finished";
  return undefined;
}

async function ownerState(
  kube: Pick<Kube, "core">,
  namespace: string,
  pod: V1Pod,
  cache: Map<string, Promise<OwnerState>>,
  log: Logger,
): Promise<OwnerState | undefined> {
  const ref = pod.metadata?.ownerReferences?.find((o) => o.kind === "Pod" && o.apiVersion === "v1");
  if (ref === undefined) return undefined;
  let state = cache.get(ref.uid);
  if (state === undefined) {
    state = (async (): Promise<OwnerState> => {
      try {
        const owner = await kube.core.readNamespacedPod({ name: ref.name, namespace });
        // Same name, other uid: the owner was deleted and a new pod took its name.
        if (owner.metadata?.uid !== ref.uid) return "gone";
        const phase = owner.status?.phase;
        return phase === "Succeeded" || phase === "Failed" ? "finished" : "running";
      } catch (err) {
        if (statusOf(err) === 404) return "gone";
        // Unsure: leave the pod; once older than its deadline it goes anyway.
        log.warn(
          { owner: ref.name, err: serverMessage(err) },
          "could not read the controller pod that owns a helper pod; leaving that pod",
        );
        return "unknown";
      }
    })();
    cache.set(ref.uid, state);
  }
  return state;
}

export async function sweepLeftoverPods(
  kube: Pick<Kube, "core">,
  namespace: string,
  instance: string,
  runId: string,
  nodeTimeoutSeconds: number,
  cleanup: PodCleanup,
  log: Logger,
  signal: AbortSignal,
  now: () => number = Date.now,
): Promise<SweepResult> {
  let list;
  try {
    list = await kube.core.listNamespacedPod({
      namespace,
      labelSelector: leftoverSelector(instance, runId),
    });
  } catch (err) {
    throw toKubeApiError(err, { verb: "list", resource: "pods", namespace });
  }
  const owners = new Map<string, Promise<OwnerState>>();
  const over: string[] = [];
  const running = new Map<string, number>();
  for (const pod of list.items) {
    const name = pod.metadata?.name;
    if (name === undefined || pod.metadata?.deletionTimestamp !== undefined) continue;
    const why = runIsOver(
      pod,
      await ownerState(kube, namespace, pod, owners, log),
      nodeTimeoutSeconds,
      now(),
    );
    if (why !== undefined) {
      log.debug({ pod: name, why }, "sweeping helper pod");
      over.push(name);
    } else {
      const run = pod.metadata?.labels?.[RUN_ID_LABEL] ?? "?";
      running.set(run, (running.get(run) ?? 0) + 1);
    }
  }
  const live = [...running.values()].reduce((a, b) => a + b, 0);
  if (live > 0) {
    log.info(
      { pods: live, runs: [...running.keys()] },
      "leaving the helper pods of other runs still in progress",
    );
  }
  if (over.length === 0) return { deleted: 0, left: 0, running: live };
  log.info({ pods: over.length }, "sweeping helper pods left by earlier runs");
  const before = cleanup.leftPods()?.count ?? 0;
  const notStarted = await forEachBounded(over, SWEEP_CONCURRENCY, signal, async (name) => {
    // Leftovers are always abandoned work: deleted even with --keep-pods, when RBAC allows.
    await cleanup.remove(name, true);
  });
  for (const name of notStarted) cleanup.markLeft(name);
  const left = (cleanup.leftPods()?.count ?? 0) - before;
  return { deleted: over.length - left, left, running: live };
}
