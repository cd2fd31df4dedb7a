// What every step of one node's turn needs from the run (src/controller/node-run.ts and the modules
// it calls) and every other job's: node timeout, clients, the shared pod view, the helper pod watch
// and cleanup, log, the run's signal. The cleaning job's nodes also get the run's workload images
// (CleanNodeContext).
import type { ProtectedRef } from "../config/protect-entries.js";
import type { Kube } from "../kube/api.js";
import type { Logger } from "../log.js";
import type { PodCleanup } from "./pod-cleanup.js";
import type { PodView } from "./pod-view.js";
import type { HelperPodWatch } from "./pod-watch.js";

export interface NodeRunContext {
  /** --node-timeout: the longest a node's helper pod may take. */
  nodeTimeoutSeconds: number;
  kube: Pick<Kube, "core">;
  watch: HelperPodWatch;
  cleanup: PodCleanup;
  namespace: string;
  runId: string;
  owner: { name: string; uid: string } | undefined;
  /**
   * The pods bound to each node, shared by every node of the run; only for a job that protects
   * what they use (NodeJob.protectsPods: `run`), undefined otherwise (`pull`).
   */
  pods: Pick<PodView, "podsOn" | "podsOnNode" | "fenceWrite"> | undefined;
  log: Logger;
  /** Aborts when the run is interrupted (SIGTERM/SIGINT) or stopped by a fatal error. */
  signal: AbortSignal;
  now: () => number;
}

/**
 * A node's turn in `run` (node-run.ts): the sweep's context and what the cleaning job read once
 * before any node (run.ts), the same for every node.
 */
export interface CleanNodeContext extends NodeRunContext {
  /** Images workload templates name (workload protection); empty with --protect-workloads=false. */
  workloadProtect: readonly ProtectedRef[];
}
