// Start of a run: helper pods of this instance left by earlier runs (a controller that was killed,
// --keep-pods, RBAC without delete) are deleted, so pods never pile up and never hold a node's image.
import type { Logger } from "../log.js";
import type { Kube } from "../kube/api.js";
import { toKubeApiError } from "../kube/errors.js";
import { leftoverSelector } from "./labels.js";
import type { PodCleanup } from "./pod-cleanup.js";
import { forEachBounded } from "./pool.js";

const SWEEP_CONCURRENCY = 10;

export async function sweepLeftoverPods(
  kube: Pick<Kube, "core">,
  namespace: string,
  instance: string,
  runId: string,
  cleanup: PodCleanup,
  log: Logger,
  signal: AbortSignal,
): Promise<{ deleted: number; left: number }> {
  let list;
  try {
    list = await kube.core.listNamespacedPod({
      namespace,
      labelSelector: leftoverSelector(instance, runId),
    });
  } catch (err) {
    throw toKubeApiError(err, { verb: "list", resource: "pods", namespace });
  }
  const names = list.items.map((p) => p.metadata?.name).filter((n): n is string => n !== undefined);
  if (names.length === 0) return { deleted: 0, left: 0 };
  log.info({ pods: names.length }, "sweeping helper pods left by earlier runs");
  const before = cleanup.leftPods()?.count ?? 0;
  const notStarted = await forEachBounded(names, SWEEP_CONCURRENCY, signal, async (name) => {
    // Leftovers are always abandoned work: deleted even with --keep-pods, when RBAC allows.
    await cleanup.remove(name, true);
  });
  for (const name of notStarted) cleanup.markLeft(name);
  const left = (cleanup.leftPods()?.count ?? 0) - before;
  return { deleted: names.length - left, left };
}
