// `kube-image-cleanup run`: what the CronJob runs. Wiring only; the work lives in src/controller.
import { PATTERN_HELP } from "../config/agent-options.js";
import { loadRunConfig, runOptions } from "../config/run-options.js";
import type { ExitingCommand } from "./index.js";
import { composedHandler } from "./lazy-compose.js";
import { withUsage } from "./usage.js";

export const RUN_EPILOGUE =
  `${PATTERN_HELP}\n\nEach selected node gets one helper pod running \`kube-image-cleanup agent\`: ` +
  "with --helper-mode privileged (the default) a privileged pod with hostPID that runs the node's " +
  "own crictl/ctr through nsenter; with --helper-mode socket an unprivileged pod (no host namespaces, " +
  "all capabilities dropped) that mounts only the runtime socket and runs the image's own clients. " +
  "Images that pods bound to the node reference are protected.\n" +
  "Exit codes: 0 every selected node ok, 1 some node failed (each listed with the reason), " +
  "2 bad configuration or the API server unreachable or forbidden (naming the verb and resource).";

export const runCommand: ExitingCommand = {
  command: "run",
  describe: "clean every selected node once: one helper pod per node, one readable log",
  options: runOptions,
  builder: (y) =>
    withUsage(y.options(runOptions), {
      epilogue: RUN_EPILOGUE,
      examples: [
        ["$0 run --include 'docker.io/acme/*' --dry-run", "what would go, on every Linux node"],
        [
          "$0 run --include 'ghcr.io/acme/**' --exclude '*/acme/base:*' --nodes node-a,node-b --concurrency 2",
          "two nodes, both at once",
        ],
      ],
    }),
  handler: composedHandler(loadRunConfig, (compose, config) => compose.runComposed(config)),
};
