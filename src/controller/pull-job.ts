// Pre-pull as a job on the shared sweep (node-sweep.ts): on each node a helper pod runs the agent's
// pull action (`agent --action=pull --pull-image=...`) with the pull Secrets mounted, and its log's
// `pull result` record becomes the node's result: per image pulled, already present or failed.
import type { V1Pod } from "@kubernetes/client-node";
import type { PullConfig } from "../config/pull-options.js";
import { checkImageList } from "../config/image-list.js";
import type { PullNodeResult } from "../run-model/pull-result.js";
import { helperAccess } from "./helper-mode.js";
import { agentDeadline, helperPodShape, pullSecretFlags } from "./helper-pod.js";
import type { NodeRunContext } from "./node-context.js";
import { runHelperPod } from "./node-run.js";
import { readHelperLog } from "./helper-outcome.js";
import { parsePullLog } from "./pull-log.js";

/** The images a run pulls: the command line's, then the workload's, each once, in order. */
export function pullImageList(config: Pick<PullConfig, "images">, workload: readonly string[]) {
  return checkImageList("IMAGE", [...config.images, ...workload]);
}

/**
 * The agent's args for the pull action: one element per flag, no shell anywhere. `createdAt`: when
 * the pod is created (epoch ms); the agent's --deadline is a time counted from it, as for `run`.
 */
export function pullHelperArgs(
  config: Readonly<PullConfig>,
  images: readonly string[],
  node: string,
  createdAt: number,
): string[] {
  const access = helperAccess(config);
  return [
    "agent",
    "--action=pull",
    ...images.map((i) => `--pull-image=${i}`),
    `--pull-retries=${String(config.retries)}`,
    `--pull-backoff=${config.backoff}`,
    ...pullSecretFlags(config.registryPullSecrets),
    `--client=${config.agent.client}`,
    ...(access.agentFlags.socket === undefined ? [] : [`--socket=${access.agentFlags.socket}`]),
    `--host-exec=${access.agentFlags.hostExec}`,
    "--log-format=json",
    `--node-name=${node}`,
    `--deadline=${agentDeadline(createdAt, config.nodeTimeoutSeconds)}`,
    ...(access.nsenterTarget === undefined ? [] : [`--nsenter-target=${access.nsenterTarget}`]),
  ];
}

export function buildPullPod(
  config: Readonly<PullConfig>,
  images: readonly string[],
  ctx: Pick<NodeRunContext, "namespace" | "runId" | "owner">,
  node: string,
  createdAt: number,
): V1Pod {
  return helperPodShape({
    config,
    namespace: ctx.namespace,
    runId: ctx.runId,
    node,
    owner: ctx.owner,
    args: pullHelperArgs(config, images, node, createdAt),
    annotations: {},
    protectFile: false,
    // The runtime pulls, not the pod: no host network needed, whatever the mode.
    pullSecrets: config.registryPullSecrets,
    hostNetwork: false,
  });
}

/** One node: its helper pod's pull action, read into the node's result. */
export async function pullOnNode(
  node: string,
  ctx: NodeRunContext,
  config: Readonly<PullConfig>,
  images: readonly string[],
): Promise<PullNodeResult> {
  const started = ctx.now();
  const log = ctx.log.child({ node });
  const end = await runHelperPod(
    buildPullPod(config, images, ctx, node, ctx.now()),
    ctx,
    log,
    async (name, outcome): Promise<Omit<PullNodeResult, "node" | "durationMs">> => {
      const read = await readHelperLog(name, outcome, ctx);
      if ("failure" in read) return { status: read.failure.status, reason: read.failure.reason };
      const parsed = parsePullLog(read.log.text);
      if (!parsed.ok) return { status: "failed", reason: `${read.log.exited}${parsed.reason}` };
      const result = parsed.result;
      const notDone = result.counts.failed + result.counts["not-attempted"];
      if (notDone > 0) {
        const first = result.images.find(
          (o) => o.outcome === "failed" || o.outcome === "not-attempted",
        );
        return {
          status: "failed",
          result,
          reason: `${String(notDone)} of ${String(result.images.length)} images not on the node${first ? ` (first: ${first.image}: ${first.detail ?? first.outcome})` : ""}`,
        };
      }
      if (read.log.podFailed) return { status: "failed", result, reason: read.log.explain() };
      return { status: "ok", result };
    },
  );
  // `partial` (deletions an interrupted clean agent logged) means nothing for a pull.
  const { status, reason, pod } = end;
  const result = "result" in end ? end.result : undefined;
  return {
    node,
    status,
    ...(reason === undefined ? {} : { reason }),
    ...(result === undefined ? {} : { result }),
    ...(pod === undefined ? {} : { pod }),
    durationMs: ctx.now() - started,
  };
}
