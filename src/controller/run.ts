// One run of the controller (DESIGN.md "The flow of one run"): the shared sweep (node-sweep.ts)
// with the cleaning job: one helper pod per node running the agent's clean action, one section per
// node as it finishes, the sinks, a summary. It protects what the pods on each node use, so it asks
// the sweep for the shared pod view (pod-view.ts), and the images workload templates name, read
// once per run before any node (workload-images.ts). Dependencies come in (`kube`, `log`, `report`,
// `signal`), so tests run it against a real API server.
import type { RunConfig } from "../config/run-options.js";
import type { Logger } from "../log.js";
import type { Kube } from "../kube/api.js";
import type { RunReporter } from "../run-model/reporter.js";
import { createSinkRunner } from "./sink-runner.js";
import type { RunSink } from "../run-model/sink.js";
import { cleanNode } from "./node-run.js";
import { nodeRow, type NodeResult, type NodeRow } from "../run-model/node-result.js";
import { summaryExitCode, type RunSummary } from "../run-model/run-summary.js";
import { checkRegistryPullSecrets } from "./registry-secrets.js";
import { readWorkloadImages } from "./workload-images.js";
import { compilePatterns } from "../config/patterns.js";
import type { ProtectedRef } from "../config/protect-entries.js";
import { runRules } from "./run-rules.js";
import { helperNamespace, runStart, sweepNodes, sweepSummary } from "./node-sweep.js";
import type { ControllerDeps, NodeJob, RunOutcome } from "./node-sweep.js";

export { helperNamespace } from "./node-sweep.js";

export interface RunDeps extends ControllerDeps {
  report: RunReporter;
  /** Where the outcome goes besides `report` (Events, run report, Pushgateway); none by default. */
  sinks?: readonly RunSink[];
}

/**
 * Runs one sweep over the selected nodes. Resolves with the summary (also when nodes failed or the
 * run was interrupted); a fatal API error found mid-run is in `summary.fatal` and returned as `fatal`
 * so the command exits 2 after printing the partial summary. Errors before any node started throw.
 */
export async function runController(
  config: Readonly<RunConfig>,
  { report, sinks: runSinks = [], ...deps }: RunDeps,
): Promise<RunOutcome<RunSummary>> {
  const { now, started, runId } = runStart(deps);
  const note = (m: string) => {
    report.note(m);
  };
  const sinks = createSinkRunner(
    runSinks,
    {
      runId,
      namespace: helperNamespace(config, deps.kube),
      instance: config.instance,
      dryRun: config.dryRun,
      startedAt: started,
    },
    note,
  );
  // Read once per run by `prepare` (workload protection); empty when it is off.
  let workloadProtect: readonly ProtectedRef[] = [];
  const job: NodeJob<NodeResult, NodeRow> = {
    protectsPods: true,
    // Before any node: a Secret that cannot be used, or workloads that cannot be read, stop the
    // run here (exit 2); every node is then told the same workload images.
    prepare: async (kube, namespace) => {
      if (config.agent.onlyIfPullable)
        await checkRegistryPullSecrets(kube, namespace, config.registryPullSecrets);
      if (config.protectWorkloads)
        workloadProtect = await readWorkloads(kube, config, deps.log.child({ runId }), now);
    },
    start: (header) => {
      report.header({
        ...header,
        include: config.agent.include,
        exclude: config.agent.exclude,
        minAge: config.agent.minAge,
        rules: runRules(config),
        dryRun: config.dryRun,
      });
    },
    visit: (node, ctx) => cleanNode(node, { ...ctx, workloadProtect }, config),
    stopped: (node, reason) => ({
      node,
      status: "failed",
      reason,
      protectedImages: 0,
      durationMs: 0,
    }),
    finished: (result, done, total) => {
      report.node(result, done, total);
      sinks.node(result);
      // Only totals stay for the summary; the full agent result goes with the section.
      return nodeRow(result);
    },
  };
  const outcome = await sweepNodes(config, job, { ...deps, note, runId, now });
  const summary: RunSummary = {
    ...sweepSummary(outcome, now() - started),
    dryRun: config.dryRun,
    requests: outcome.requests,
  };
  report.summary(summary);
  await sinks.finish(summary, outcome.fatal ? 2 : summaryExitCode(summary), now());
  return { summary, fatal: outcome.fatal };
}

/** Workload protection's images (workload-images.ts), read once per run, logged with their cost. */
async function readWorkloads(
  kube: Pick<Kube, "workloads">,
  config: Readonly<RunConfig>,
  log: Logger,
  now: () => number,
): Promise<readonly ProtectedRef[]> {
  const t = now();
  const workloads = await readWorkloadImages(
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
  return workloads.protect;
}
