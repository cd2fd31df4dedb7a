// One run of the controller (DESIGN.md "The flow of one run"): sweep leftovers, select nodes, one
// helper pod per node with bounded concurrency, one section per node as it finishes, a summary.
// Dependencies come in (`kube`, `log`, `report`, `signal`), so tests run it against a real API server.
import { admissionPolicyNote } from "./admission-note.js";
import type { RunConfig } from "../config/run-options.js";
import { KubeApiError } from "../errors.js";
import type { Logger } from "../log.js";
import type { Kube } from "../kube/api.js";
import type { RunReporter } from "../run-model/reporter.js";
import { createSinkRunner } from "./sink-runner.js";
import type { RunSink } from "../run-model/sink.js";
import { newRunId, runSelector } from "../run-model/labels.js";
import { cleanNode } from "./node-run.js";
import { listNodeFacts } from "./node-list.js";
import { rotateNodes } from "./node-order.js";
import { selectNodes } from "./node-selection.js";
import { PodCleanup } from "./pod-cleanup.js";
import { PodView, type PodViewOptions } from "./pod-view.js";
import { HelperPodWatch } from "./pod-watch.js";
import { forEachBounded } from "./pool.js";
import { nodeRow, type NodeResult, type NodeRow } from "../run-model/node-result.js";
import { summaryExitCode, type RunSummary } from "../run-model/run-summary.js";
import { sweepLeftoverPods } from "./sweep.js";
import { runRules } from "./run-rules.js";
import { checkRegistryPullSecrets } from "./registry-secrets.js";
import { readWorkloadImages, type WorkloadImages } from "./workload-images.js";
import { compilePatterns } from "../config/patterns.js";

export interface RunDeps {
  kube: Kube;
  log: Logger;
  report: RunReporter;
  /** Aborted on SIGTERM/SIGINT; its reason (a string such as `SIGTERM`) is shown in the summary. */
  signal: AbortSignal;
  /** Where the outcome goes besides `report` (Events, run report, Pushgateway); none by default. */
  sinks?: readonly RunSink[];
  runId?: string;
  now?: () => number;
  /** Tuning of the shared pod view (tests: a short watch timeout, a long freshness wait). */
  podView?: PodViewOptions;
}

/** The namespace helper pods go to: --namespace, $POD_NAMESPACE, the kubeconfig context's, `default`. */
export function helperNamespace(
  config: Pick<RunConfig, "namespace">,
  kube: Pick<Kube, "contextNamespace">,
): string {
  return config.namespace ?? kube.contextNamespace ?? "default";
}

/**
 * Runs one sweep over the selected nodes. Resolves with the summary (also when nodes failed or the
 * run was interrupted); a fatal API error found mid-run is in `summary.fatal` and returned as `fatal`
 * so the command exits 2 after printing the partial summary. Errors before any node started throw.
 */
export async function runController(
  config: Readonly<RunConfig>,
  deps: RunDeps,
): Promise<{ summary: RunSummary; fatal: KubeApiError | undefined }> {
  const now = deps.now ?? Date.now;
  const started = now();
  const runId = deps.runId ?? newRunId();
  const { report } = deps;
  // SIGTERM cuts calls in flight short (deleting helper pods excepted): a run never waits out a
  // slow API server's client timeout before it cleans up.
  const kube = deps.kube.withInterrupt(deps.signal);
  const log = deps.log.child({ runId });
  const namespace = helperNamespace(config, kube);
  const sinks = createSinkRunner(
    deps.sinks ?? [],
    { runId, namespace, instance: config.instance, dryRun: config.dryRun, startedAt: started },
    (m) => {
      report.note(m);
    },
  );
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
    report.note(
      `helper pods go to namespace ${namespace}, the controller runs in ${config.owner.namespace}: ` +
        "no owner reference is set, so deleting the Job does not delete helper pods",
    );
    owner = undefined;
  }

  const unguarded = admissionPolicyNote(config.admissionPolicy, namespace);
  if (unguarded !== undefined) report.note(unguarded);

  const cleanup = new PodCleanup(kube, namespace, config.instance, config.keepPods, log, (m) => {
    report.note(m);
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
    let workloads: WorkloadImages | undefined;
    try {
      // Before anything else: a Secret that cannot be used stops the run here (exit 2).
      if (config.agent.onlyIfPullable)
        await checkRegistryPullSecrets(kube, namespace, config.registryPullSecrets);
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
      listing = await listNodeFacts(kube, config.nodes.selector);
      // Once per run, before any node: every node is told the same workload images.
      if (config.protectWorkloads) {
        const t = now();
        workloads = await readWorkloadImages(
          kube.workloads,
          compilePatterns("--exclude", config.agent.exclude, "exclude"),
        );
        log.info(
          {
            workloads: workloads.workloads,
            images: workloads.protect.length,
            requests: workloads.requests,
            ms: now() - t,
          },
          "workload templates read: their images are kept on every node",
        );
      }
    } catch (err) {
      // Interrupted before any node started: nothing to clean up, only to say so.
      if (!deps.signal.aborted) throw err;
      sweep = { deleted: 0, left: 0 };
      listing = { nodes: [], pages: 0 };
    }
    const selection = selectNodes(listing.nodes, config.nodes);
    const nodesListed = listing.nodes.length;
    // Rotated by the run's start time (node-order.ts): a run cut short stops somewhere else each
    // time, so the end of a big cluster is reached too.
    const order = rotateNodes(selection.selected, started);
    report.header({
      runId,
      server: kube.server,
      credentials: kube.source,
      namespace,
      include: config.agent.include,
      exclude: config.agent.exclude,
      minAge: config.agent.minAge,
      rules: runRules(config),
      dryRun: config.dryRun,
      concurrency: config.concurrency,
      nodeSelector: config.nodes.selector,
      nodesListed,
      selected: selection.selected,
      startsAt: order[0],
      skipped: selection.skipped,
      missing: selection.missing,
      sweep,
    });

    const results: NodeRow[] = [];
    let fatal: KubeApiError | undefined;
    let notStarted: string[] = [];
    let podView: PodView | undefined;
    if (selection.selected.length > 0 && !stop.signal.aborted) {
      const watch = new HelperPodWatch(kube, namespace, runSelector(config.instance, runId), log);
      await watch.start();
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
      try {
        const total = order.length;
        notStarted = await forEachBounded(order, config.concurrency, stop.signal, async (node) => {
          let result: NodeResult;
          try {
            result = await cleanNode(node, {
              config,
              kube,
              watch,
              cleanup,
              namespace,
              runId,
              owner,
              pods: view,
              workloadProtect: workloads?.protect ?? [],
              log,
              signal: stop.signal,
              now,
            });
          } catch (err) {
            if (!(err instanceof KubeApiError)) throw err;
            fatal ??= err;
            stop.abort("fatal");
            result = {
              node,
              status: "failed",
              reason: err.message,
              protectedImages: 0,
              durationMs: 0,
            };
          }
          report.node(result, results.length + 1, total);
          sinks.node(result);
          // Only totals stay for the summary; the full agent result goes with the section.
          results.push(nodeRow(result));
        });
      } finally {
        watch.stop();
        view.stop();
      }
    } else {
      notStarted = stop.signal.aborted ? order : [];
    }

    const interruptedBy = deps.signal.aborted ? String(deps.signal.reason) : undefined;
    const perNodeCount = results.filter((r) => r.pod !== undefined).length;
    const byCall: Record<string, number> = {};
    for (const [call, n] of Object.entries(kube.requests.byCall)) {
      const delta = n - (byCallBefore[call] ?? 0);
      if (delta > 0) byCall[call] = delta;
    }
    const total = kube.requests.total - requestsBefore;
    const summary: RunSummary = {
      runId,
      dryRun: config.dryRun,
      nodes: results,
      notStarted,
      missing: selection.missing,
      durationMs: now() - started,
      interruptedBy,
      fatal: fatal?.message,
      leftPods: cleanup.leftPods(),
      requests: {
        total,
        perNode: perNodeCount > 0 ? Math.round((total / perNodeCount) * 10) / 10 : undefined,
        byCall,
        ...(podView === undefined ? {} : { podView: { ...podView.stats } }),
      },
    };
    report.summary(summary);
    await sinks.finish(summary, fatal ? 2 : summaryExitCode(summary), now());
    return { summary, fatal };
  } finally {
    deps.signal.removeEventListener("abort", onSignal);
  }
}
