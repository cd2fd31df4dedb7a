// The agent's pull action (`agent --action pull`): connect to the node's CRI runtime, pull each
// --pull-image that is not already there with the mounted pull Secrets' credentials, print one line
// per image and the structured result the controller parses. Pre-pull goes through crictl only:
// that is the CRI's pull, the kubelet's own (hosts.toml, mirrors, the image's CRI labels and repo
// digest), which `ctr images pull` is not.
import type { AgentConfig } from "../config/agent-options.js";
import { readCredentialFiles } from "../registry/credential-files.js";
import type { PullResult } from "../run-model/pull-result.js";
import { countOutcomes } from "../run-model/pull-result.js";
import { createCrictlAdapter } from "./crictl.js";
import { createCrictlPullClient } from "./crictl-pull.js";
import { DEADLINE_RESERVE_MS } from "./execute.js";
import { pullImages, type PullClient } from "./pull.js";
import type { PullReporter } from "./pull-report.js";
import { connectRuntime, findSocket } from "./runtime.js";
import { actionClock, runtimeRecord, type ActionDeps } from "./action.js";

export interface PullActionDeps extends ActionDeps<PullReporter> {
  sleep?: (ms: number) => Promise<void>;
  /** Tests hand in a client; by default crictl on the socket found. */
  client?: PullClient;
}

export async function runPullAction(
  config: Readonly<AgentConfig>,
  deps: PullActionDeps,
): Promise<PullResult> {
  const { now, t0 } = actionClock(deps);
  const exec = deps.exec;
  const given = config.socket ?? exec.target?.socket;
  const socket = await findSocket(exec, given, "crictl");
  let program = "crictl";
  // connectRuntime finds crictl (PATH, then where RKE2/k3s keep it) and checks it reaches the runtime.
  const { adapter, version } = await connectRuntime(
    "crictl",
    socket,
    (_client, s, p) => {
      program = p;
      return createCrictlAdapter(exec, s, p);
    },
    (path) => exec.fileExists(path),
  );
  const runtime = runtimeRecord(exec, adapter.client, socket, version);
  deps.report.connected(config.nodeName, runtime, config.pull.images.length);
  const client = deps.client ?? createCrictlPullClient(exec, socket, program);
  const outcomes = await pullImages(config.pull.images, client, {
    credentials: await readCredentialFiles(config.pullSecretFiles),
    retries: config.pull.retries,
    backoffMs: config.pull.backoffSeconds * 1000,
    ...(deps.deadlineMs === undefined ? {} : { deadlineMs: deps.deadlineMs - DEADLINE_RESERVE_MS }),
    now,
    ...(deps.sleep === undefined ? {} : { sleep: deps.sleep }),
    ...(deps.signal === undefined ? {} : { signal: deps.signal }),
    onOutcome: (o) => {
      deps.report.image(o);
    },
  });
  const result: PullResult = {
    version: 1,
    node: config.nodeName,
    runtime,
    images: outcomes,
    counts: countOutcomes(outcomes),
    durationMs: now() - t0,
  };
  deps.report.result(result);
  return result;
}
