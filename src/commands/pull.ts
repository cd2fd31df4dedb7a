// `kube-image-cleanup pull IMAGE... [--images-of KIND/NAMESPACE/NAME]`: pre-pull images on the
// selected nodes through the same sweep as `run`. Wiring only; the work lives in src/controller.
import { loadPullConfig, pullOptions } from "../config/pull-options.js";
import type { ExitingCommand } from "./index.js";
import { composedHandler } from "./lazy-compose.js";
import { withUsage } from "./usage.js";

export const PULL_EPILOGUE =
  "Each selected node gets one helper pod (as `run`) whose agent pulls each image through the CRI, " +
  "as the kubelet pulls, unless the node has it already; --registry-pull-secret credentials go to " +
  "the runtime's pull call and are never printed.\n" +
  "Each node's section lists every image as pulled, already present or failed: reason.\n" +
  "Exit codes: 0 every image is on every selected node, 1 some node failed (an image could not be " +
  "pulled, the node timed out, ...), 2 bad configuration, a pull Secret or workload that cannot be " +
  "used, or the API server unreachable or forbidden.";

export const pullCommand: ExitingCommand = {
  command: "pull",
  positional: "[image..]",
  describe: "pre-pull images on every selected node: one helper pod per node, one readable log",
  options: pullOptions,
  builder: (y) =>
    withUsage(
      y
        // An option that takes a list (--registry-pull-secret, --nodes) takes one word each time it is
        // given (comma-separated or repeated, as documented): greedy, it would swallow the images
        // after it (`pull --registry-pull-secret team-registry registry.example.com/app:v2`).
        .parserConfiguration({ "greedy-arrays": false })
        .positional("image", {
          type: "string",
          array: true,
          describe: "an image to pull (repeatable), e.g. registry.example.com/team/app:v1",
        })
        .options(pullOptions),
      {
        epilogue: PULL_EPILOGUE,
        examples: [
          [
            "$0 pull registry.example.com/team/app:v2 --registry-pull-secret team-registry",
            "on every Linux node, with a pull Secret's credentials",
          ],
          [
            "$0 pull --images-of deployment/shop/web --concurrency 5",
            "the images of a Deployment, on every node it could run on",
          ],
        ],
      },
    ),
  handler: composedHandler(loadPullConfig, (compose, config) => compose.pullComposed(config)),
};
