// --only-if-pullable and what it needs: a time bound for each registry request and the pull
// Secrets' credentials. Declared once: `run` takes them and passes them to the agent, which asks the
// registries from the node (src/agent/pullable.ts says why there).
import type { Options } from "yargs";
import { ConfigError } from "../errors.js";
import { optionalString, strings } from "./checks.js";
import { parseDuration } from "./duration.js";

/** The request limit when none is given: a registry that answers at all answers a HEAD in seconds. */
export const REGISTRY_TIMEOUT_DEFAULT = "10s";

/** Shared by `run` and the agent. */
export const pullableOptions = {
  "only-if-pullable": {
    type: "boolean",
    default: false,
    describe:
      "delete an image only if its registry still serves every tag and repo digest it has (a manifest HEAD from the node, with the pull Secrets' credentials); kept with reason not-pullable otherwise",
  },
  "registry-timeout": {
    type: "string",
    requiresArg: true,
    describe: `longest wait for one registry request of --only-if-pullable (default ${REGISTRY_TIMEOUT_DEFAULT}); a registry that does not answer is not asked again in the run`,
  },
} as const satisfies Record<string, Options>;

/** A flag given once per value (`--x a --x b`), each a non-empty text. */
const repeatableText = (describe: string) =>
  ({ type: "string", array: true, requiresArg: true, describe }) as const;

/** Only `run` takes this: the Secrets it mounts into the helper pods. */
export const registryPullSecretOptions = {
  "registry-pull-secret": repeatableText(
    "image pull Secret (type kubernetes.io/dockerconfigjson, in the helper pods' namespace) with credentials for the registries --only-if-pullable asks (repeatable); mounted into the helper pods, never printed",
  ),
} as const satisfies Record<string, Options>;

/** Only the agent takes these: the controller mounts the Secrets and passes their files. */
export const agentCredentialOptions = {
  "pull-secret-file": repeatableText(
    "a .dockerconfigjson file (an image pull Secret mounted into the helper pod) with credentials for the registries asked (repeatable)",
  ),
} as const satisfies Record<string, Options>;

export interface PullableConfig {
  onlyIfPullable: boolean;
  /** As given (the controller passes it through); checked. */
  registryTimeout: string;
  registryTimeoutSeconds: number;
}

export function loadPullableConfig(args: Record<string, unknown>): PullableConfig {
  const registryTimeout =
    optionalString("--registry-timeout", args["registry-timeout"]) ?? REGISTRY_TIMEOUT_DEFAULT;
  const registryTimeoutSeconds = parseDuration("--registry-timeout", registryTimeout);
  if (registryTimeoutSeconds < 1 || registryTimeoutSeconds > 300)
    throw new ConfigError(
      "--registry-timeout",
      registryTimeout,
      "give a duration from 1s to 5m, e.g. 10s",
    );
  return {
    onlyIfPullable: args["only-if-pullable"] === true,
    registryTimeout,
    registryTimeoutSeconds,
  };
}

/** The agent's --pull-secret-file list, each an absolute path. */
export function pullSecretFiles(args: Record<string, unknown>): string[] {
  const files = strings("--pull-secret-file", args["pull-secret-file"]);
  for (const f of files)
    if (!f.startsWith("/"))
      throw new ConfigError(
        "--pull-secret-file",
        f,
        "give the absolute path of a mounted .dockerconfigjson",
      );
  return files;
}

/** At most this many registry pull Secrets (each is a volume of the helper pod). */
export const REGISTRY_PULL_SECRETS_MAX = 20;

/** `--registry-pull-secret` names: Secret names as Kubernetes spells them, deduplicated. */
export function registryPullSecrets(args: Record<string, unknown>): string[] {
  const names = [...new Set(strings("--registry-pull-secret", args["registry-pull-secret"]))];
  for (const name of names)
    if (!/^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/.test(name))
      throw new ConfigError(
        "--registry-pull-secret",
        name,
        "give the name of a Secret as Kubernetes spells it (lowercase letters, digits, '-', '.')",
      );
  if (names.length > REGISTRY_PULL_SECRETS_MAX)
    throw new ConfigError(
      "--registry-pull-secret",
      `${names.length} Secrets`,
      `give at most ${REGISTRY_PULL_SECRETS_MAX} (one Secret may hold many registries)`,
    );
  return names;
}
