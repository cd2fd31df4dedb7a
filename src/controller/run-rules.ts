// The rules a run decides by, for its header: each retention rule as given and the helper's access.
import { formatDuration } from "../config/duration.js";
import type { RunConfig } from "../config/run-options.js";
import type { RunRules } from "../run-model/run-header.js";

export function runRules(
  config: Pick<
    Readonly<RunConfig>,
    "agent" | "helper" | "nodeTimeoutSeconds" | "registryPullSecrets"
  >,
): RunRules {
  const { agent } = config;
  return {
    keepNewest: agent.keepNewest,
    maxImagesPerNode: agent.maxImagesPerNode,
    maxBytesPerNode: agent.maxBytesPerNode,
    onlyIfPullable: agent.onlyIfPullable
      ? { registryTimeout: agent.registryTimeout, pullSecrets: config.registryPullSecrets }
      : undefined,
    helperMode: config.helper.mode,
    nodeTimeout: formatDuration(config.nodeTimeoutSeconds),
  };
}
