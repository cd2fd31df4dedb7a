// The agent's options, declared once. The option table is exported in pieces so the controller's
// `run` command can offer the same pattern and runtime options and pass them through to the agent
// (agent-argv.ts builds the agent's flags as an argv array, never a shell string).
import { hostname } from "node:os";
import type { Options } from "yargs";
import { ConfigError } from "../errors.js";
import { oneOf, optionalString, strings } from "./checks.js";
import type { HostExecMode } from "../run-model/agent-result.js";
import type { LogFormat } from "../log.js";
import { checkNsenterTarget, type NsenterTarget } from "./nsenter-target.js";
import { parseDuration } from "./duration.js";
import { compilePatterns, type ImagePattern } from "./patterns.js";
import { byteSize, positiveCount } from "./retention.js";
import { checkProtectList } from "./protect-list.js";
import { checkImageList } from "./image-list.js";
import { choiceOption, logFormatOption } from "./choice-option.js";
import {
  agentCredentialOptions,
  loadPullableConfig,
  pullableOptions,
  pullSecretFiles,
  type PullableConfig,
} from "./pullable-options.js";

/** The runtime clients `--client` offers (one list for the agent's and run's flags). */
export const CLIENT_CHOICES = ["auto", "crictl", "ctr", "docker"] as const;
export type ClientChoice = (typeof CLIENT_CHOICES)[number];

export const PATTERN_HELP = `Patterns are minimatch globs, or /re/ regular expressions, matched against normalised references:
  nginx:1.25        is docker.io/library/nginx:1.25
  nginx             is docker.io/library/nginx:latest (no tag means :latest, as in docker);
                    in --exclude it means every tag and digest of docker.io/library/nginx
  bitnami/redis:*   is docker.io/bitnami/redis:*
  quay.io/acme/*    stays as written (the first part is a registry host)
  **/pause:*        starts with a glob: taken as written, matches any registry
  docker.io/**      every image on Docker Hub
  sha256:...        in --include: the image id, whole (use it for untagged images); a bare 64-hex id too
  /\\.dkr\\.ecr\\./    a regular expression (RE2, like grep -E) searched anywhere in the name;
                          /re/i ignores case; ^ and $ anchor to the whole name
An --exclude is tried against every spelling of an image: each name normalised and familiar
(nginx:1.25), with and without its tag, with each digest (nginx@sha256:..., a pod's imageID), and
the ids and digests themselves: /^nginx/ keeps docker.io/library/nginx:1.25; sha256:<hex> and
name@sha256:<hex> match image ids, manifest and repo digests alike; a short id (12+ hex digits,
with or without sha256:, as crictl images prints it) matches ids and digests starting with it.
A pattern that can never match (e.g. '*', capitals in a repository, sha256: with under 12 digits) is refused.
'*' stops at '/', '**' crosses it. A glob is text: it never reaches a shell.`;

/** Options that select images; shared with `run`. */
export const patternOptions = {
  include: {
    type: "string",
    array: true,
    requiresArg: true,
    describe: "delete images with a name matching this glob (repeatable; required)",
  },
  exclude: {
    type: "string",
    array: true,
    requiresArg: true,
    describe:
      "never delete images matching this glob, /re/ or id, in any spelling of the image (repeatable; wins over --include)",
  },
  "min-age": {
    type: "string",
    requiresArg: true,
    describe: "skip images the runtime recorded more recently than this (e.g. 24h, 7d)",
  },
  "unused-for": {
    type: "string",
    requiresArg: true,
    describe:
      "delete only images this tool has seen unused on the node for at least this long (e.g. 14d); " +
      "the clock is an image label on the node (containerd only; refused elsewhere), started and " +
      "kept by dry runs and `list` too",
  },
  "keep-newest": {
    type: "string",
    requiresArg: true,
    describe:
      "per repository, keep the N newest matched images by creation time; images in use count toward N",
  },
  "max-images-per-node": {
    type: "string",
    requiresArg: true,
    describe: "delete at most this many images on one node per run, oldest first",
  },
  "max-bytes-per-node": {
    type: "string",
    requiresArg: true,
    describe: "delete at most this much on one node per run, oldest first (e.g. 10Gi, 500Mi)",
  },
} as const satisfies Record<string, Options>;

/** Options that choose how the runtime is reached; shared with `run`. */
export const runtimeOptions = {
  client: choiceOption(
    CLIENT_CHOICES,
    "auto",
    "runtime client: crictl (CRI: containerd, CRI-O, k3s, cri-dockerd), ctr (containerd) or docker " +
      "(the Docker Engine API, spoken by the agent itself); auto: docker for a Docker Engine socket, else crictl, else ctr",
  ),
  socket: {
    type: "string",
    requiresArg: true,
    describe:
      "runtime socket (default: first found of /var/run/cri-dockerd.sock, /run/containerd/containerd.sock, " +
      "/run/k3s/containerd/containerd.sock, /var/run/crio/crio.sock, /var/run/docker.sock; " +
      "with --client docker only the last)",
  },
  "host-exec": {
    choices: ["nsenter", "direct", "socket"],
    describe:
      "nsenter: run the node's own ctr/crictl in the host namespaces of pid 1 (privileged helper pod); " +
      "direct: run the clients on this PATH against --socket; " +
      "socket: like direct, in an unprivileged helper pod with the node's runtime socket mounted at --socket " +
      "(required), checked before use (default: nsenter inside a pod, else direct)",
  },
  "dry-run": {
    type: "boolean",
    default: false,
    describe: "do everything except the delete; the result lists what would be deleted",
  },
  "log-format": logFormatOption("pretty: readable lines; json: pino JSON lines"),
} as const satisfies Record<string, Options>;

/** The agent's two actions: delete unused images (the default), or pre-pull listed ones. */
export const AGENT_ACTIONS = ["clean", "pull"] as const;
export type AgentAction = (typeof AGENT_ACTIONS)[number];

/** Pre-pull's retry policy when none is given (src/agent/pull.ts). */
export const PULL_RETRIES_DEFAULT = 2;
export const PULL_BACKOFF_DEFAULT = "5s";

/** Pre-pull's attempts: shared by the agent's pull action and `kube-image-cleanup pull`. */
export const pullRetryOptions = {
  "pull-retries": {
    type: "string",
    requiresArg: true,
    describe: `further attempts at a pull that failed in a way worth retrying (the registry did not answer) (default ${String(PULL_RETRIES_DEFAULT)}; 0: none)`,
  },
  "pull-backoff": {
    type: "string",
    requiresArg: true,
    describe: `wait before the first retry of a pull, doubled for each further one (default ${PULL_BACKOFF_DEFAULT})`,
  },
} as const satisfies Record<string, Options>;

/** Options only the agent takes. */
export const agentOnlyOptions = {
  action: choiceOption(
    AGENT_ACTIONS,
    "clean",
    "clean: delete unused images matching --include; pull: pull each --pull-image through the CRI (as the kubelet pulls) unless already present",
  ),
  "pull-image": {
    type: "string",
    array: true,
    requiresArg: true,
    describe: "with --action pull: an image to pull (repeatable)",
  },
  ...pullRetryOptions,
  protect: {
    type: "string",
    array: true,
    requiresArg: true,
    describe:
      "never delete this image (repeatable; the controller passes what pods on the node need)",
  },
  "protect-file": {
    type: "string",
    requiresArg: true,
    describe: "JSON file with a list of images to protect, like --protect",
  },
  "ctr-namespace": {
    type: "string",
    default: "k8s.io",
    requiresArg: true,
    describe: "containerd namespace for --client ctr",
  },
  "nsenter-target": {
    type: "string",
    default: "1",
    requiresArg: true,
    describe:
      "pid, or process name such as containerd, whose namespaces --host-exec nsenter enters " +
      "(1: the node's init, seen with hostPID)",
  },
  "node-name": {
    type: "string",
    requiresArg: true,
    describe: "node name for the result (default: $NODE_NAME, else the host name)",
  },
  deadline: {
    type: "string",
    requiresArg: true,
    describe:
      "print the result within this long (e.g. 90s) or by this time (RFC 3339, e.g. " +
      "2026-12-07T03:10:00Z): no removal batch starts that could not finish, and no client call " +
      "runs past it (the controller passes the helper pod's creation plus its node timeout minus a reserve)",
  },
} as const satisfies Record<string, Options>;

/** What decides which images go, passed on to the agent as given: shared with `run`. */
export const cleaningOptions = { ...patternOptions, ...pullableOptions };

export const agentOptions = {
  ...cleaningOptions,
  ...runtimeOptions,
  ...agentOnlyOptions,
  ...agentCredentialOptions,
};

export interface AgentConfig {
  action: AgentAction;
  /** --action pull: the images, in order, and the retry policy. */
  pull: PullActionConfig;
  include: readonly ImagePattern[];
  exclude: readonly ImagePattern[];
  /** Protected references as given (normalised when matched). */
  protect: readonly string[];
  protectFile: string | undefined;
  minAgeSeconds: number | undefined;
  /** --unused-for in seconds (see src/agent/unused-clock.ts). */
  unusedForSeconds: number | undefined;
  keepNewest: number | undefined;
  limits: { maxImages?: number; maxBytes?: number };
  /** --only-if-pullable and its request limit. */
  pullable: PullableConfig;
  /** Mounted image pull Secrets (.dockerconfigjson files): credentials for the registries asked. */
  pullSecretFiles: readonly string[];
  client: ClientChoice;
  socket: string | undefined;
  hostExec: HostExecMode;
  nsenterTarget: NsenterTarget;
  ctrNamespace: string;
  dryRun: boolean;
  logFormat: LogFormat;
  nodeName: string;
  /** --deadline as a duration, in seconds from the agent's start; undefined: none or a time. */
  deadlineSeconds: number | undefined;
  /** --deadline as a time (epoch ms); undefined: none or a duration. */
  deadlineAtMs: number | undefined;
}

export interface PullActionConfig {
  images: readonly string[];
  retries: number;
  backoffSeconds: number;
}

/** --pull-retries and --pull-backoff, checked (shared with `kube-image-cleanup pull`). */
export function loadPullRetries(args: Record<string, unknown>): {
  retries: number;
  backoffSeconds: number;
} {
  const given = args["pull-retries"];
  const text = typeof given === "number" ? String(given) : given;
  let retries = PULL_RETRIES_DEFAULT;
  if (text !== undefined) {
    if (typeof text !== "string" || !/^\s*\d+\s*$/.test(text) || Number(text) > 10)
      throw new ConfigError("--pull-retries", given, "give a whole number from 0 to 10");
    retries = Number(text);
  }
  const backoff = optionalString("--pull-backoff", args["pull-backoff"]) ?? PULL_BACKOFF_DEFAULT;
  const backoffSeconds = parseDuration("--pull-backoff", backoff);
  if (backoffSeconds < 1 || backoffSeconds > 600)
    throw new ConfigError("--pull-backoff", backoff, "give a duration from 1s to 10m, e.g. 5s");
  return { retries, backoffSeconds };
}

/**
 * Turns parsed arguments into a frozen config; pure except for the defaults read from `env`.
 * Throws ConfigError naming the flag.
 */
export function loadAgentConfig(
  args: Record<string, unknown>,
  env: NodeJS.ProcessEnv = process.env,
): Readonly<AgentConfig> {
  const action = oneOf("--action", args.action ?? "clean", AGENT_ACTIONS);
  const include = strings("--include", args.include);
  const pullImages = checkImageList("--pull-image", strings("--pull-image", args["pull-image"]));
  if (action === "clean" && include.length === 0) {
    throw new ConfigError(
      "--include",
      undefined,
      "give at least one glob, e.g. --include 'docker.io/acme/*' (or KIC_INCLUDE); the agent deletes nothing without one",
    );
  }
  if (action === "pull" && pullImages.length === 0)
    throw new ConfigError(
      "--pull-image",
      undefined,
      "--action pull needs at least one --pull-image, e.g. --pull-image registry.example.com/team/app:v1",
    );
  if (action === "clean" && pullImages.length > 0)
    throw new ConfigError(
      "--pull-image",
      pullImages[0],
      "only --action pull takes --pull-image; add --action pull",
    );
  if (
    action === "pull" &&
    args.client !== undefined &&
    args.client !== "auto" &&
    args.client !== "crictl"
  )
    throw new ConfigError(
      "--client",
      args.client,
      "--action pull pulls through the CRI, as the kubelet pulls: give --client crictl or auto",
    );
  const minAge = optionalString("--min-age", args["min-age"]);
  const unusedFor = optionalString("--unused-for", args["unused-for"]);
  const deadline = optionalString("--deadline", args.deadline);
  const hostExec =
    args["host-exec"] === undefined
      ? env.KUBERNETES_SERVICE_HOST
        ? "nsenter"
        : "direct"
      : oneOf("--host-exec", args["host-exec"], ["nsenter", "direct", "socket"] as const);
  const socket = optionalString("--socket", args.socket);
  if (hostExec === "socket" && socket === undefined) {
    // Only one socket is mounted into such a pod: probing the usual paths would only find nothing.
    throw new ConfigError(
      "--socket",
      undefined,
      "--host-exec socket needs --socket: the path where the node's runtime socket is mounted into this container",
    );
  }
  if (socket !== undefined && !socket.replace(/^unix:\/\//, "").startsWith("/")) {
    throw new ConfigError(
      "--socket",
      socket,
      "give an absolute path such as /run/containerd/containerd.sock",
    );
  }
  return Object.freeze({
    action,
    pull: { images: pullImages, ...loadPullRetries(args) },
    include: compilePatterns("--include", include, "include"),
    exclude: compilePatterns("--exclude", strings("--exclude", args.exclude), "exclude"),
    protect: checkProtectList("--protect", strings("--protect", args.protect)),
    protectFile: optionalString("--protect-file", args["protect-file"]),
    minAgeSeconds: minAge === undefined ? undefined : parseDuration("--min-age", minAge),
    unusedForSeconds:
      unusedFor === undefined ? undefined : parseDuration("--unused-for", unusedFor),
    keepNewest: positiveCount("--keep-newest", args["keep-newest"]),
    limits: limitsFrom(args),
    pullable: loadPullableConfig(args),
    pullSecretFiles: pullSecretFiles(args),
    client: oneOf("--client", args.client ?? "auto", CLIENT_CHOICES),
    socket: socket?.replace(/^unix:\/\//, ""),
    hostExec,
    nsenterTarget: checkNsenterTarget(args["nsenter-target"] ?? "1"),
    ctrNamespace: optionalString("--ctr-namespace", args["ctr-namespace"]) ?? "k8s.io",
    dryRun: args["dry-run"] === true,
    logFormat: oneOf("--log-format", args["log-format"] ?? "pretty", ["pretty", "json"] as const),
    nodeName: optionalString("--node-name", args["node-name"]) ?? env.NODE_NAME ?? hostname(),
    deadlineSeconds:
      deadline === undefined || isTime(deadline)
        ? undefined
        : positiveDuration("--deadline", deadline),
    deadlineAtMs: deadline !== undefined && isTime(deadline) ? deadlineTime(deadline) : undefined,
  });
}

/** A --deadline that names a time (starts with a date), not a duration. */
const isTime = (value: string) => /^\d{4}-\d{2}-\d{2}T/.test(value);

/** An RFC 3339 time with its offset (`Z` or `+02:00`): a time without one would be the node's zone. */
function deadlineTime(value: string): number {
  const ms = /(?:Z|[+-]\d{2}:\d{2})$/i.test(value) ? Date.parse(value) : NaN;
  if (!Number.isFinite(ms))
    throw new ConfigError(
      "--deadline",
      value,
      "give a duration such as 90s, or a time in RFC 3339 with its offset such as 2026-12-07T03:10:00Z",
    );
  return ms;
}

/** `--max-images-per-node` and `--max-bytes-per-node`, the ones given. */
export function limitsFrom(args: Record<string, unknown>): {
  maxImages?: number;
  maxBytes?: number;
} {
  const maxImages = positiveCount("--max-images-per-node", args["max-images-per-node"]);
  const maxBytes = byteSize("--max-bytes-per-node", args["max-bytes-per-node"]);
  return {
    ...(maxImages === undefined ? {} : { maxImages }),
    ...(maxBytes === undefined ? {} : { maxBytes }),
  };
}

function positiveDuration(key: string, given: string): number {
  const seconds = parseDuration(key, given);
  if (seconds < 1) throw new ConfigError(key, given, "give a duration of at least 1s, e.g. 90s");
  return seconds;
}
