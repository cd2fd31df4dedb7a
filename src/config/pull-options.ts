// `kube-image-cleanup pull`'s options: the images (positional, and/or a workload's with
// --images-of), pull Secrets, the retry policy, and everything that selects nodes and shapes helper
// pods, shared with `run` (controllerOptions) so both sweep nodes the same way.
import type { Options } from "yargs";
import { ConfigError } from "../errors.js";
import { optionalString, strings } from "./checks.js";
import {
  loadPullRetries,
  PULL_BACKOFF_DEFAULT,
  pullRetryOptions,
  runtimeOptions,
} from "./agent-options.js";
import { checkImageList } from "./image-list.js";
import { registryPullSecrets } from "./pullable-options.js";
import { controllerOptions, loadControllerConfig, type ControllerConfig } from "./run-options.js";

/** The workload kinds --images-of reads (their pod template's images and placement). */
export const WORKLOAD_KINDS = ["deployment", "statefulset", "daemonset", "cronjob", "job"] as const;
export type WorkloadKind = (typeof WORKLOAD_KINDS)[number];

export interface WorkloadRef {
  kind: WorkloadKind;
  namespace: string;
  name: string;
}

/** Images per run: each is one argv element of every helper pod (and a line per node in the log). */
export const PULL_IMAGES_MAX = 100;

const { client, socket } = runtimeOptions;

export const pullOptions = {
  "images-of": {
    type: "string",
    requiresArg: true,
    describe:
      "also pull the images of this workload's pod template (KIND/NAMESPACE/NAME, KIND one of " +
      `${WORKLOAD_KINDS.join(", ")}), on the nodes it could run on (its nodeSelector, required node affinity and tolerations)`,
  },
  "registry-pull-secret": {
    type: "string",
    array: true,
    requiresArg: true,
    describe:
      "image pull Secret (type kubernetes.io/dockerconfigjson, in the helper pods' namespace) whose credentials the pull uses for its registry (repeatable); mounted into the helper pods, never printed",
  },
  ...pullRetryOptions,
  client: {
    ...client,
    choices: ["auto", "crictl"],
    describe: "runtime client: pre-pull goes through the CRI (crictl), as the kubelet pulls",
  },
  socket,
  ...controllerOptions,
} as const satisfies Record<string, Options>;

export interface PullConfig extends Omit<ControllerConfig["sweep"], never> {
  /** Images given on the command line, checked and deduplicated (those of --images-of come later). */
  images: readonly string[];
  imagesOf: WorkloadRef | undefined;
  registryPullSecrets: readonly string[];
  /** As given, passed to the agent: --pull-retries and --pull-backoff. */
  retries: number;
  backoff: string;
  agent: ControllerConfig["runtime"];
}

export function parseWorkloadRef(given: string): WorkloadRef {
  const parts = given.split("/");
  const kind = parts[0]?.toLowerCase().replace(/s$/, "");
  const allowed = `give KIND/NAMESPACE/NAME with KIND one of ${WORKLOAD_KINDS.join(", ")}, e.g. deployment/shop/web`;
  if (parts.length !== 3 || !WORKLOAD_KINDS.includes(kind as WorkloadKind))
    throw new ConfigError("--images-of", given, allowed);
  const [, namespace = "", name = ""] = parts;
  const dns = /^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/;
  if (!dns.test(namespace) || !dns.test(name))
    throw new ConfigError(
      "--images-of",
      given,
      `${allowed}; namespace and name as Kubernetes spells them`,
    );
  return { kind: kind as WorkloadKind, namespace, name };
}

/** Turns parsed arguments into a frozen config; throws ConfigError naming the flag. */
export function loadPullConfig(
  args: Record<string, unknown>,
  env: NodeJS.ProcessEnv = process.env,
): Readonly<PullConfig> {
  const images = checkImageList("IMAGE", strings("IMAGE", args.image));
  const given = optionalString("--images-of", args["images-of"]);
  const imagesOf = given === undefined ? undefined : parseWorkloadRef(given);
  if (images.length === 0 && imagesOf === undefined)
    throw new ConfigError(
      "IMAGE",
      undefined,
      "give at least one image to pull (e.g. kube-image-cleanup pull registry.example.com/team/app:v1) or --images-of deployment/NAMESPACE/NAME",
    );
  if (images.length > PULL_IMAGES_MAX)
    throw new ConfigError(
      "IMAGE",
      `${String(images.length)} images`,
      `give at most ${String(PULL_IMAGES_MAX)} per run`,
    );
  const { retries } = loadPullRetries(args);
  const base = loadControllerConfig(args, env);
  if (base.runtime.client !== "auto" && base.runtime.client !== "crictl")
    throw new ConfigError(
      "--client",
      base.runtime.client,
      "pre-pull goes through the CRI, as the kubelet pulls: give crictl or auto",
    );
  return Object.freeze({
    images,
    imagesOf,
    registryPullSecrets: registryPullSecrets(args),
    retries,
    // As given (checked above): an admission policy pins the agent's flag to the chart's value.
    backoff: optionalString("--pull-backoff", args["pull-backoff"]) ?? PULL_BACKOFF_DEFAULT,
    agent: base.runtime,
    ...base.sweep,
  });
}
