// `kube-image-cleanup agent`: runs on one node and deletes unused images matching the patterns.
// Wiring only; the work lives in src/agent.
import {
  type AgentConfig,
  agentOptions,
  loadAgentConfig,
  PATTERN_HELP,
} from "../config/agent-options.js";
import { createLogger } from "../log.js";
import { runAgent } from "../agent/agent.js";
import { createHostExec } from "../agent/host-exec.js";
import { resolveGuardedTarget } from "../agent/nsenter-target.js";
import { socketCandidates } from "../agent/runtime.js";
import { createJsonReporter, createPrettyReporter } from "../agent/report.js";
import { runPullAction } from "../agent/pull-action.js";
import { createJsonPullReporter, createPrettyPullReporter } from "../agent/pull-report.js";
import type { ExitingCommand } from "./index.js";
import { withUsage } from "./usage.js";

export const agentCommand: ExitingCommand = {
  command: "agent",
  describe:
    "delete unused images matching --include on this node, or with --action pull pull --pull-image's (runs in the helper pod)",
  options: agentOptions,
  builder: (y) =>
    withUsage(y.options(agentOptions), {
      epilogue:
        `${PATTERN_HELP}\n\nNever deleted: images used by any container (running, created, exited), sandbox (pause)\n` +
        `images, pinned images, --protect'ed images.\nExit codes: 0 ok (also when nothing matched), ` +
        `1 some deletions failed, 2 bad arguments or runtime unreachable.\n` +
        `Every option can also come from the environment: KIC_INCLUDE, KIC_HOST_EXEC, KIC_DRY_RUN=true, ...`,
      examples: [
        [
          "$0 agent --include 'docker.io/acme/*' --exclude '*/acme/base:*' --dry-run",
          "what would go",
        ],
        [
          "$0 agent --host-exec direct --socket /run/k3s/containerd/containerd.sock --include 'ghcr.io/acme/**'",
          "on a k3s host",
        ],
        [
          "$0 agent --client docker --include 'registry.example.com/ci/**' --keep-newest 3",
          "on a Docker host (the Engine API over /var/run/docker.sock; no docker CLI needed)",
        ],
        [
          "$0 agent --action pull --pull-image registry.example.com/team/app:v1 --pull-secret-file /path/.dockerconfigjson",
          "pre-pull an image on this node through the CRI, with a pull Secret's credentials",
        ],
        [
          "$0 agent --host-exec socket --socket /run/kube-image-cleanup/runtime.sock --include 'ghcr.io/acme/**'",
          "in an unprivileged helper pod with the node's socket mounted there (helper.mode=socket)",
        ],
      ],
    }),
  handler: async (args) => {
    const started = Date.now();
    const config = loadAgentConfig(args);
    // SIGTERM (the pod is deleted, the node drains): finish the batch in flight, start no other,
    // print the result. The kubelet's SIGKILL follows after the grace period.
    const stop = new AbortController();
    const onSignal = () => {
      stop.abort();
    };
    process.once("SIGTERM", onSignal);
    process.once("SIGINT", onSignal);
    try {
      // This process runs the agent once: its start is the agent's (schedule's ticks are not).
      return await runAgentOnce(config, stop.signal, started, performance.timeOrigin);
    } finally {
      process.off("SIGTERM", onSignal);
      process.off("SIGINT", onSignal);
    }
  },
};

/**
 * One agent run with its logger, reporter and host exec: `agent` once, `schedule ... -- agent` on
 * each tick. Resolves with the exit code (1: a deletion failed or was not attempted).
 */
export async function runAgentOnce(
  config: Readonly<AgentConfig>,
  signal: AbortSignal,
  started = Date.now(),
  processStartMs?: number,
): Promise<number> {
  // A time as given; a duration counts from the process's start.
  const deadlineMs =
    config.deadlineAtMs ??
    (config.deadlineSeconds === undefined ? undefined : started + config.deadlineSeconds * 1000);
  const log = createLogger(config.logFormat);
  // Only a process that owns the runtime socket is entered (see src/agent/nsenter-target.ts).
  // Re-verified before every nsenter (a pid can be reused after the runtime restarts).
  const guarded =
    config.hostExec === "nsenter"
      ? await resolveGuardedTarget(
          config.nsenterTarget,
          config.socket === undefined ? socketCandidates(config.client) : [config.socket],
        )
      : undefined;
  const exec = createHostExec(config.hostExec, guarded?.target, {
    ...(deadlineMs === undefined ? {} : { deadlineMs }),
    ...(guarded === undefined ? {} : { verifyTarget: guarded.verify }),
  });
  if (config.action === "pull") {
    const result = await runPullAction(config, {
      exec,
      log,
      report:
        config.logFormat === "json"
          ? createJsonPullReporter(log)
          : createPrettyPullReporter((line) => process.stdout.write(`${line}\n`)),
      ...(deadlineMs === undefined ? {} : { deadlineMs }),
      signal,
    });
    // An image that is not on the node now is work not done.
    return result.counts.failed + result.counts["not-attempted"] > 0 ? 1 : 0;
  }
  const report =
    config.logFormat === "json"
      ? createJsonReporter(log)
      : createPrettyReporter((line) => process.stdout.write(`${line}\n`));
  const result = await runAgent(config, {
    exec,
    log,
    report,
    signal,
    ...(processStartMs === undefined ? {} : { processStartMs }),
    ...(deadlineMs === undefined ? {} : { deadlineMs }),
  });
  // Stopped before every planned removal was attempted: the work is not done.
  // A pod bound since the protect list was read is no failure: the rest waits for the next run.
  return result.failed.length > 0 ||
    (result.stopped !== undefined && result.stopped !== "pod-arrived")
    ? 1
    : 0;
}
