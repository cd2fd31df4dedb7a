// What every step of one node's turn needs from the run (src/controller/node-run.ts and the modules
// it calls): config, clients, the shared pod view, the helper pod watch and cleanup, limits, log, the run's signal.
import type { RunConfig } from "../config/run-options.js";
import type { ProtectedRef } from "../config/protect-entries.js";
import type { Kube } from "../kube/api.js";
import type { Logger } from "../log.js";
import type { PodCleanup } from "./pod-cleanup.js";
import type { PodView } from "./pod-view.js";
import type { HelperPodWatch } from "./pod-watch.js";

export interface NodeRunContext {
  config: Readonly<RunConfig>;
  kube: Pick<Kube, "core">;
  watch: HelperPodWatch;
  cleanup: PodCleanup;
  namespace: string;
  runId: string;
  owner: { name: string; uid: string } | undefined;
  /** The pods bound to each node, shared by every node of the run. */
  pods: Pick<PodView, "podsOn" | "fenceWrite">;
  /** Images workload templates name (workload protection), the same for every node. */
  workloadProtect: readonly ProtectedRef[];
  log: Logger;
  /** Aborts when the run is interrupted (SIGTERM/SIGINT) or stopped by a fatal error. */
  signal: AbortSignal;
  now: () => number;
}
