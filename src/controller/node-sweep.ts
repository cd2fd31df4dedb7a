// The sweep every command that visits nodes shares (DESIGN.md "One sweep, several jobs"): leftover
// helper pods swept, nodes listed and selected, visited `concurrency` at a time in an order rotated
// by the start time, each through one helper pod, a fatal API error or a signal stopping new nodes,
// the shared pod view for a job that protects what pods use, the admission-policy note, and the
// run's API request count. What is done on a node is a `NodeJob`: `run` deletes (node-run.ts),
// `pull` pre-pulls (pull-job.ts). A new job is a new NodeJob, not a second sweep.
import type { V1Node } from "@kubernetes/client-node";
import type { NodeConfig } from "../config/node-options.js";
import type { AdmissionPolicyState } from "../config/run-options.js";
import { KubeApiError } from "../errors.js";
import type { Kube } from "../kube/api.js";
import type { Logger } from "../log.js";
import { newRunId, runSelector } from "../run-model/labels.js";
import type { NodeStatus } from "../run-model/node-result.js";
import type { RunHeader } from "../run-model/run-header.js";
import type { LeftPods, RunSummary, SweepSummary } from "../run-model/run-summary.js";
import { admissionPolicyNote } from "./admission-note.js";
import type { NodeRunContext } from "./node-context.js";
import { listNodeFacts } from "./node-list.js";
import { rotateNodes } from "./node-order.js";
import { selectNodes } from "./node-selection.js";
import { PodCleanup } from "./pod-cleanup.js";
import { PodView, type PodViewOptions } from "./pod-view.js";
import { HelperPodWatch } from "./pod-watch.js";
import { forEachBounded } from "./pool.js";
import { sweepLeftoverPods } from "./sweep.js";

/** How long the run's end waits for its deleted helper pods to be gone. */
const PODS_GONE_WAIT_MS = 15_000;

/** What the sweep itself reads of a command's config (`run` and `pull` alike). */
export interface SweepSettings {
  /** Undefined: the kubeconfig context's, else `default`. */
  namespace: string | undefined;
  instance: string;
  keepPods: boolean;
  nodeTimeoutSeconds: number;
  nodes: NodeConfig;
  concurrency: number;
  owner: { name: string; uid: string; namespace: string | undefined } | undefined;
  /** Whether the chart installed the admission policy (env ADMISSION_POLICY); undefined outside it. */
  admissionPolicy: AdmissionPolicyState | undefined;
}

/** The part of the run header the sweep knows; each job adds what it does (patterns, images). */
export type SweepHeader = Omit<RunHeader, "include" | "exclude" | "minAge" | "rules" | "dryRun">;

/** One kind of work on each selected node. `R`: a node's full result; `Row`: what the run keeps. */
export interface NodeJob<
  R extends { node: string; status: NodeStatus },
  Row extends { pod?: string },
> {
  /**
   * The job keeps what the pods on a node use (`run`): the sweep then keeps the shared pod view
   * (pod-view.ts), started with the first wave, as `ctx.pods`. Without it `ctx.pods` is undefined.
   */
  protectsPods?: boolean;
  /**
   * Checks and reads before anything else (pull Secrets; `run`'s workload templates): a throw
   * stops the run with exit 2.
   */
  prepare?(kube: Kube, namespace: string): Promise<void>;
  /**
   * Why a node cannot take this job's work (a workload's placement), or undefined when it can.
   * Nodes are then listed with their labels and taints; a node it refuses is skipped with the reason.
   */
  placement?: (node: V1Node) => string | undefined;
  /** The nodes are chosen; nothing has started on them. */
  start(header: SweepHeader): void;
  visit(node: string, ctx: NodeRunContext): Promise<R>;
  /** The result of a node a fatal API error stopped (its reason is that error). */
  stopped(node: string, reason: string): R;
  /** A node is done (`done` of `total`, in finishing order); returns what the summary keeps. */
  finished(result: R, done: number, total: number): Row;
}

export interface SweepDeps {
  kube: Kube;
  log: Logger;
  /** A line for the operator that is not a node's result. */
  note(message: string): void;
  /** Aborted on SIGTERM/SIGINT; its reason (a string such as `SIGTERM`) is shown in the summary. */
  signal: AbortSignal;
  runId?: string;
  now?: () => number;
  /** Tuning of the shared pod view (tests: a short watch timeout, a long freshness wait). */
  podView?: PodViewOptions;
}

/** A run's summary, and the fatal API error that stopped it (exit 2 once the summary is out). */
export interface RunOutcome<S> {
  summary: S;
  fatal: KubeApiError | undefined;
}

/** What a command hands its controller (`run`, `pull`) besides its reporter, which takes the notes. */
export type ControllerDeps = Omit<SweepDeps, "note">;

export interface SweepOutcome<Row> {
  runId: string;
  namespace: string;
  startedAt: number;
  /** In the order they finished. */
  rows: Row[];
  notStarted: string[];
  missing: string[];
  durationMs: number;
  interruptedBy: string | undefined;
  fatal: KubeApiError | undefined;
  leftPods: LeftPods | undefined;
  requests: RunSummary["requests"];
}

/** A run's clock and id: the caller's (tests), else the system clock and a new id. */
export function runStart(deps: Pick<SweepDeps, "now" | "runId">): {
  now: () => number;
  started: number;
  runId: string;
} {
  const now = deps.now ?? Date.now;
  return { now, started: now(), runId: deps.runId ?? newRunId() };
}

/**
 * What every run's summary says of its sweep. `durationMs` is the run's own, from before its
 * preparation (a workload read, the pull Secrets) to now.
 */
export function sweepSummary<Row extends { status: NodeStatus; pod?: string }>(
  outcome: SweepOutcome<Row>,
  durationMs: number,
): SweepSummary<Row> {
  return {
    runId: outcome.runId,
    nodes: outcome.rows,
    notStarted: outcome.notStarted,
    missing: outcome.missing,
    durationMs,
    interruptedBy: outcome.interruptedBy,
    fatal: outcome.fatal?.message,
    leftPods: outcome.leftPods,
  };
}

/** The namespace helper pods go to: --namespace, $POD_NAMESPACE, the kubeconfig context's, `default`. */
export function helperNamespace(
  config: Pick<SweepSettings, "namespace">,
  kube: Pick<Kube, "contextNamespace">,
): string {
  return config.namespace ?? kube.contextNamespace ?? "default";
}

/**
 * Runs `job` on the selected nodes. Resolves with every node's row (also when nodes failed or the
 * run was interrupted); a fatal API error found mid-run is returned as `fatal` so the command exits
 * 2 after printing the partial summary. Errors before any node started throw.
 */
export async function sweepNodes<
  R extends { node: string; status: NodeStatus },
  Row extends { pod?: string },
>(
  config: Readonly<SweepSettings>,
  job: NodeJob<R, Row>,
  deps: SweepDeps,
): Promise<SweepOutcome<Row>> {
  const { now, started, runId } = runStart(deps);
  // SIGTERM cuts calls in flight short (deleting helper pods excepted): a run never waits out a
  // slow API server's client timeout before it cleans up.
  const kube = deps.kube.withInterrupt(deps.signal);
  const log = deps.log.child({ runId });
  const namespace = helperNamespace(config, kube);
  const requestsBefore = kube.requests.total;
  const byCallBefore = { ...kube.requests.byCall };

  // Owner references only work within a namespace: helper pods in another namespace than the
  // controller's pod would be garbage-collected at once.
  let owner =
    config.owner === undefined ? undefined : { name: config.owner.name, uid: config.owner.uid };
  if (
    config.owner !== undefined &&
    config.owner.namespace !== undefined &&
    config.owner.namespace !== namespace
  ) {
    deps.note(
      `helper pods go to namespace ${namespace}, the controller runs in ${config.owner.namespace}: ` +
        "no owner reference is set, so deleting the Job does not delete helper pods",
    );
    owner = undefined;
  }

  const unguarded = admissionPolicyNote(config.admissionPolicy, namespace);
  if (unguarded !== undefined) deps.note(unguarded);

  const cleanup = new PodCleanup(kube, namespace, config.instance, config.keepPods, log, (m) => {
    deps.note(m);
  });

  // Internal abort: the caller's signal, or a fatal error on one node, stops new nodes starting.
  const stop = new AbortController();
  const onSignal = () => {
    stop.abort(deps.signal.reason);
  };
  deps.signal.addEventListener("abort", onSignal);
  if (deps.signal.aborted) onSignal();

  try {
    let sweep: { deleted: number; left: number };
    let listing: Awaited<ReturnType<typeof listNodeFacts>>;
    try {
      // Before anything else: a Secret that cannot be used stops the run here (exit 2).
      await job.prepare?.(kube, namespace);
      sweep = await sweepLeftoverPods(
        kube,
        namespace,
        config.instance,
        runId,
        config.nodeTimeoutSeconds,
        cleanup,
        log,
        stop.signal,
        now,
      );
      listing = await listNodeFacts(kube, config.nodes.selector, undefined, job.placement);
    } catch (err) {
      // Interrupted before any node started: nothing to clean up, only to say so.
      if (!deps.signal.aborted) throw err;
      sweep = { deleted: 0, left: 0 };
      listing = { nodes: [], pages: 0 };
    }
    const selection = selectNodes(listing.nodes, config.nodes);
    // Rotated by the run's start time (node-order.ts): a run cut short stops somewhere else each
    // time, so the end of a big cluster is reached too.
    const order = rotateNodes(selection.selected, started);
    job.start({
      runId,
      server: kube.server,
      credentials: kube.source,
      namespace,
      concurrency: config.concurrency,
      nodeSelector: config.nodes.selector,
      nodesListed: listing.nodes.length,
      selected: selection.selected,
      startsAt: order[0],
      skipped: selection.skipped,
      missing: selection.missing,
      sweep,
    });

    const rows: Row[] = [];
    let fatal: KubeApiError | undefined;
    let notStarted: string[] = [];
    let podView: PodView | undefined;
    if (selection.selected.length > 0 && !stop.signal.aborted) {
      const watch = new HelperPodWatch(kube, namespace, runSelector(config.instance, runId), log);
      await watch.start();
      if (job.protectsPods === true) {
        const view = new PodView(kube, log, deps.podView);
        podView = view;
        // Started with the first wave (see PodView.start); a refusal stops the run like a fatal error.
        view.start().then(
          () => {
            log.debug({ pods: view.size, version: view.version }, "pod view ready");
          },
          () => {
            // Each node's podsOn rejects with the same error, and the first one stops the run.
          },
        );
      }
      const ctx: NodeRunContext = {
        nodeTimeoutSeconds: config.nodeTimeoutSeconds,
        kube,
        watch,
        cleanup,
        namespace,
        runId,
        owner,
        pods: podView,
        log,
        signal: stop.signal,
        now,
      };
      try {
        const total = order.length;
        notStarted = await forEachBounded(order, config.concurrency, stop.signal, async (node) => {
          let result: R;
          try {
            result = await job.visit(node, ctx);
          } catch (err) {
            if (!(err instanceof KubeApiError)) throw err;
            fatal ??= err;
            stop.abort("fatal");
            result = job.stopped(node, err.message);
          }
          const row = job.finished(result, rows.length + 1, total);
          rows.push(row);
        });
      } finally {
        // The helper pods deleted last are still being stopped by their kubelets: the run ends once
        // they are gone (bounded; a pod still there after it is deleted all the same, only later).
        const stillGoing = await watch.drain(PODS_GONE_WAIT_MS, stop.signal);
        if (stillGoing.length > 0)
          log.info(
            { pods: stillGoing.length, waitedMs: PODS_GONE_WAIT_MS },
            "helper pods deleted but not yet gone (their kubelets are still stopping them)",
          );
        watch.stop();
        podView?.stop();
      }
    } else {
      notStarted = stop.signal.aborted ? order : [];
    }

    const byCall: Record<string, number> = {};
    for (const [call, n] of Object.entries(kube.requests.byCall)) {
      const delta = n - (byCallBefore[call] ?? 0);
      if (delta > 0) byCall[call] = delta;
    }
    const total = kube.requests.total - requestsBefore;
    // Per node that got a helper pod: the cost of visiting one.
    const visited = rows.filter((r) => r.pod !== undefined).length;
    return {
      runId,
      namespace,
      startedAt: started,
      rows,
      notStarted,
      missing: selection.missing,
      durationMs: now() - started,
      interruptedBy: deps.signal.aborted ? String(deps.signal.reason) : undefined,
      fatal,
      leftPods: cleanup.leftPods(),
      requests: {
        total,
        perNode: visited > 0 ? Math.round((total / visited) * 10) / 10 : undefined,
        byCall,
        ...(podView === undefined ? {} : { podView: { ...podView.stats } }),
      },
    };
  } finally {
    deps.signal.removeEventListener("abort", onSignal);
  }
}
