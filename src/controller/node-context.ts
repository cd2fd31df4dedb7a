// What every step of one node's turn needs from the run (src/controller/node-run.ts and the modules
// it calls): node timeout, clients, the shared pod watch and cleanup, limits, log, the run's signal.
import type { Kube } from "../kube/api.js";
import type { Logger } from "../log.js";
import type { PodCleanup } from "./pod-cleanup.js";
import type { HelperPodWatch } from "./pod-watch.js";
import type { Limiter } from "./pool.js";

export interface NodeRunContext {
  /** --node-timeout: the longest a node's helper pod may take. */
  nodeTimeoutSeconds: number;
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
