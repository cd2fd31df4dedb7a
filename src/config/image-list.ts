// The images pre-pull is asked to pull (`pull IMAGE...`, the agent's --pull-image): each must be an
// image reference a runtime can pull, i.e. a name with an optional tag or digest. A bare image id
// names content, not where to fetch it.
import { ConfigError } from "../errors.js";
import { checkImageReference } from "./image-reference.js";

/** The references, deduplicated in order; throws ConfigError naming the first bad one. */
export function checkImageList(key: string, refs: readonly string[]): string[] {
  refs.forEach((ref, i) => {
    const why = /^(sha256:)?[0-9a-f]{64}$/.test(ref)
      ? "it is an image id, which says nothing about where to pull it from"
      : checkImageReference(ref);
    if (why !== undefined)
      throw new ConfigError(
        key,
        // Shown escaped by the error printer; cut so a pasted blob does not flood the terminal.
        ref.length > 120 ? `entry ${String(i + 1)} (${String(ref.length)} characters)` : ref,
        `give image references such as registry.example.com/team/app:v1 or nginx@sha256:...; ${why}`,
      );
  });
  return [...new Set(refs)];
}
