// One pre-pull run (`kube-image-cleanup pull`): the images (given, and a workload's), the pull
// Secrets checked, then the shared sweep (node-sweep.ts) with the pull job on every selected node
// (for a workload: every node it could run on), one section per node, a summary.
import type { PullConfig } from "../config/pull-options.js";
import {
  pullNodeRow,
  type PullNodeResult,
  type PullNodeRow,
  type PullRunReporter,
  type PullSummary,
} from "../run-model/pull-result.js";
import { runStart, sweepNodes, sweepSummary } from "./node-sweep.js";
import type { ControllerDeps, NodeJob, RunOutcome } from "./node-sweep.js";
import { NOT_EVALUATED } from "./placement.js";
import { pullImageList, pullOnNode } from "./pull-job.js";
import { checkRegistryPullSecrets } from "./registry-secrets.js";
import { workloadImages, type WorkloadImages } from "./workload.js";

export interface PullDeps extends Omit<ControllerDeps, "podView"> {
  report: PullRunReporter;
}

export async function pullController(
  config: Readonly<PullConfig>,
  { report, ...deps }: PullDeps,
): Promise<RunOutcome<PullSummary>> {
  const { now, started, runId } = runStart(deps);
  // The workload is read before anything else: a wrong name is a configuration error (exit 2).
  const workload: WorkloadImages | undefined =
    config.imagesOf === undefined ? undefined : await workloadImages(deps.kube, config.imagesOf);
  const images = pullImageList(config, workload?.images ?? []);
  const imagesOf =
    config.imagesOf === undefined
      ? undefined
      : `${config.imagesOf.kind}/${config.imagesOf.namespace}/${config.imagesOf.name}`;
  const job: NodeJob<PullNodeResult, PullNodeRow> = {
    // A Secret that is missing or not a dockerconfigjson would fail every node the same way.
    prepare: (kube, namespace) =>
      checkRegistryPullSecrets(kube, namespace, config.registryPullSecrets),
    ...(workload === undefined ? {} : { placement: workload.placement }),
    start: (header) => {
      report.header({
        ...header,
        images,
        ...(imagesOf === undefined ? {} : { imagesOf, notEvaluated: NOT_EVALUATED }),
        pullSecrets: config.registryPullSecrets,
      });
    },
    visit: (node, ctx) => pullOnNode(node, ctx, config, images),
    stopped: (node, reason) => ({ node, status: "failed", reason, durationMs: 0 }),
    finished: (result, done, total) => {
      report.node(result, done, total);
      return pullNodeRow(result);
    },
  };
  const outcome = await sweepNodes(config, job, {
    ...deps,
    note: (m) => {
      report.note(m);
    },
    runId,
    now,
  });
  const summary: PullSummary = { ...sweepSummary(outcome, now() - started), images };
  report.summary(summary);
  return { summary, fatal: outcome.fatal };
}
