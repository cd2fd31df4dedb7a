// The controller's options (`kube-image-cleanup run`), declared once. Pattern and runtime options
// come from the agent's table, so `run` takes the same flags the agent does and passes them on.
// chart/templates/_args.tpl turns values.yaml into these flags; a chart test checks it against this
// table.
import type { Options } from "yargs";
import { ConfigError } from "../errors.js";
import { oneOf, optionalString, strings } from "./checks.js";
import type { LogFormat } from "../log.js";
import { limitsFrom, patternOptions, runtimeOptions, type ClientChoice } from "./agent-options.js";
import { checkNsenterTarget } from "./nsenter-target.js";
import { auditOptions, loadAuditConfig, type AuditConfig } from "./audit-options.js";
import { parseDuration } from "./duration.js";
import { packageVersion } from "./package-version.js";
import { compilePatterns } from "./patterns.js";
import { positiveCount } from "./retention.js";

/** A number given where text is expected (yargs parses `--keep-newest=3` from env as 3) as text. */
const textOf = (v: unknown): unknown => (typeof v === "number" ? String(v) : v);

export type OutputFormat = "pretty" | "json";
/**
 * How helper pods reach the node's runtime: `privileged` (hostPID, privileged, nsenter, the node's own
 * clients) or `socket` (unprivileged, only the runtime socket mounted, the image's own clients).
 */
export type HelperMode = "privileged" | "socket";
export type PullPolicy = "Always" | "IfNotPresent" | "Never";

/** What a helper pod's container asks for and is limited to (Kubernetes quantities). */
export interface HelperResources {
  requests: { cpu?: string; memory?: string };
  limits: { cpu?: string; memory?: string };
}

export interface Toleration {
  key?: string;
  operator?: "Exists" | "Equal";
  value?: string;
  effect?: "NoSchedule" | "PreferNoSchedule" | "NoExecute";
  tolerationSeconds?: number;
}

export const DEFAULT_NODE_SELECTOR = "kubernetes.io/os=linux";

const { client, socket, "dry-run": dryRun } = runtimeOptions;

/** Options only `run` takes (besides the shared pattern and runtime options). */
export const controllerOptions = {
  "nsenter-target": {
    type: "string",
    requiresArg: true,
    describe:
      "passed to the agent: the process (pid or name) whose namespaces nsenter enters on each node (default: the agent's, 1 = the node's init)",
  },
  "node-selector": {
    type: "string",
    default: DEFAULT_NODE_SELECTOR,
    describe:
      "clean only nodes matching this label selector (kubectl syntax); the default keeps Windows nodes out; '' selects every node",
  },
  nodes: {
    type: "string",
    array: true,
    requiresArg: true,
    describe:
      "clean only these nodes (comma-separated or repeated); a name not found fails the run",
  },
  "exclude-nodes": {
    type: "string",
    array: true,
    requiresArg: true,
    describe: "never clean these nodes (comma-separated or repeated)",
  },
  "skip-not-ready": {
    type: "boolean",
    default: true,
    describe: "skip nodes whose Ready condition is not True (their helper pod could not start)",
  },
  "skip-cordoned": {
    type: "boolean",
    default: false,
    describe: "skip cordoned (unschedulable) nodes",
  },
  concurrency: {
    // Read as text and checked by loadRunConfig: yargs' number type turns "abc" into NaN, and the
    // error could then not say what was given.
    type: "string",
    default: 1,
    requiresArg: true,
    describe: "nodes cleaned at the same time (1: each node in turn)",
  },
  namespace: {
    type: "string",
    requiresArg: true,
    describe:
      "namespace of the helper pods (default: $POD_NAMESPACE in the chart's pod, else the kubeconfig context's, else default)",
  },
  instance: {
    type: "string",
    default: "kube-image-cleanup",
    requiresArg: true,
    describe:
      "app.kubernetes.io/instance label of the helper pods (the Helm release): runs of one instance sweep each other's leftovers",
  },
  "helper-mode": {
    choices: ["privileged", "socket"],
    default: "privileged",
    describe:
      "privileged: helper pods use the node's own ctr/crictl through nsenter (hostPID, privileged); " +
      "socket: helper pods are unprivileged (no host namespaces, all capabilities dropped, read-only root) " +
      "with only the runtime socket (--socket, default /run/containerd/containerd.sock) mounted, and use the image's clients",
  },
  "helper-socket-uid": {
    // Text, checked by loadRunConfig (see concurrency).
    type: "string",
    default: 1000,
    requiresArg: true,
    describe:
      "with --helper-mode socket: user id of the agent (0 only for a socket that admits nothing but its owner, root)",
  },
  "helper-socket-gid": {
    type: "string",
    default: 0,
    requiresArg: true,
    describe:
      "with --helper-mode socket: group id of the agent, the runtime socket's group (containerd's [grpc] gid; 0 by default)",
  },
  "helper-image": {
    type: "string",
    requiresArg: true,
    describe:
      "image of the helper pods (default: ghcr.io/kube-image-cleanup/kube-image-cleanup:<version>)",
  },
  "helper-image-pull-policy": {
    choices: ["Always", "IfNotPresent", "Never"],
    default: "IfNotPresent",
    describe: "imagePullPolicy of the helper pods",
  },
  "helper-image-pull-secret": {
    type: "string",
    array: true,
    requiresArg: true,
    describe: "imagePullSecrets of the helper pods, by name (repeatable)",
  },
  "helper-cpu-request": {
    type: "string",
    default: "10m",
    describe: "CPU request of each helper pod ('' for none)",
  },
  "helper-memory-request": {
    type: "string",
    default: "48Mi",
    describe: "memory request of each helper pod ('' for none)",
  },
  "helper-cpu-limit": {
    type: "string",
    default: "500m",
    describe: "CPU limit of each helper pod ('' for none)",
  },
  "helper-memory-limit": {
    type: "string",
    default: "192Mi",
    describe: "memory limit of each helper pod ('' for none)",
  },
  "helper-tolerations": {
    type: "string",
    default: '[{"operator":"Exists"}]',
    requiresArg: true,
    describe:
      "tolerations of the helper pods as a JSON list; the default reaches tainted and control-plane nodes",
  },
  "priority-class": {
    type: "string",
    requiresArg: true,
    describe: "priorityClassName of the helper pods (a high class lets them start on full nodes)",
  },
  "node-timeout": {
    type: "string",
    default: "10m",
    requiresArg: true,
    describe:
      "longest time one node may take, from creating its helper pod to its result (90s, 10m)",
  },
  "keep-pods": {
    type: "boolean",
    default: false,
    describe:
      "leave the helper pods for debugging; the log ends with the kubectl command that deletes them",
  },
  output: {
    choices: ["pretty", "json"],
    default: "pretty",
    describe: "per-node sections and summary as readable text or as pino JSON records",
  },
  "log-format": {
    choices: ["pretty", "json"],
    default: "pretty",
    describe:
      "format of the controller's own warnings and errors (stderr in pretty, stdout in json)",
  },
  kubeconfig: {
    type: "string",
    requiresArg: true,
    describe:
      "kubeconfig file (default: $KUBECONFIG, else the pod's service account, else ~/.kube/config)",
  },
  context: { type: "string", requiresArg: true, describe: "kubeconfig context to use" },
} as const satisfies Record<string, Options>;

/** Everything `run` takes: the agent's pattern options, runtime choice, dry run, and its own. */
export const runOptions = {
  ...patternOptions,
  client,
  socket,
  "dry-run": dryRun,
  ...controllerOptions,
  ...auditOptions,
};

export interface RunConfig {
  /** Passed through to the agent on every node (as an argv array). */
  agent: {
    include: readonly string[];
    exclude: readonly string[];
    minAge: string | undefined;
    /** --keep-newest, --max-images-per-node, --max-bytes-per-node as given (checked). */
    keepNewest: string | undefined;
    maxImagesPerNode: string | undefined;
    maxBytesPerNode: string | undefined;
    client: ClientChoice;
    socket: string | undefined;
    nsenterTarget: string | undefined;
  };
  dryRun: boolean;
  nodes: {
    /** Label selector; "" selects every node. */
    selector: string;
    names: readonly string[];
    exclude: readonly string[];
    skipNotReady: boolean;
    skipCordoned: boolean;
  };
  concurrency: number;
  /** Undefined: resolved from the kubeconfig context once the client is loaded. */
  namespace: string | undefined;
  instance: string;
  helper: {
    mode: HelperMode;
    /** Socket mode: the user and group the agent runs as (the group: the socket's). */
    socketUid: number;
    socketGid: number;
    image: string;
    pullPolicy: PullPolicy;
    pullSecrets: readonly string[];
    resources: HelperResources;
    tolerations: readonly Toleration[];
    priorityClass: string | undefined;
  };
  nodeTimeoutSeconds: number;
  keepPods: boolean;
  output: OutputFormat;
  logFormat: LogFormat;
  kubeconfig: string | undefined;
  context: string | undefined;
  /** Events, the run report, the Pushgateway (src/config/audit-options.ts). */
  audit: AuditConfig;
  /** The controller's own pod (downward API: POD_NAME, POD_UID), owner of the helper pods. */
  owner: { name: string; uid: string; namespace: string | undefined } | undefined;
}

/** Repeated and/or comma-separated names: `--nodes a,b --nodes c`. */
function nameList(key: string, value: unknown): string[] {
  const names = strings(key, value)
    .flatMap((s) => s.split(","))
    .map((s) => s.trim())
    .filter((s) => s !== "");
  for (const name of names) {
    if (!/^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/.test(name)) {
      throw new ConfigError(
        key,
        name,
        "give node names as Kubernetes spells them (lowercase DNS names)",
      );
    }
  }
  return [...new Set(names)];
}

const QUANTITY = /^(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+|[numkMGTPE]|[KMGTPE]i)?$/;

function quantity(key: string, value: unknown): string | undefined {
  if (value === undefined || value === "") return undefined;
  const text = typeof value === "number" ? String(value) : value;
  if (typeof text !== "string" || !QUANTITY.test(text)) {
    throw new ConfigError(
      key,
      value,
      "give a Kubernetes quantity such as 100m, 0.5, 64Mi or 1Gi, or '' for none",
    );
  }
  return text;
}

const SELECTOR_PART =
  /^\s*!?[A-Za-z0-9]([-A-Za-z0-9_./]*[A-Za-z0-9])?\s*((==?|!=)\s*[-A-Za-z0-9_.]*|\s+(in|notin)\s+\([^()]*\))?\s*$/;

/** Splits a label selector on the commas that separate requirements (not those inside `in (a,b)`). */
function selectorParts(selector: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < selector.length; i++) {
    const c = selector[i];
    if (c === "(") depth++;
    else if (c === ")") depth--;
    else if (c === "," && depth === 0) {
      parts.push(selector.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(selector.slice(start));
  return parts;
}

function labelSelector(key: string, value: unknown): string {
  if (value === undefined) return DEFAULT_NODE_SELECTOR;
  if (typeof value !== "string")
    throw new ConfigError(key, value, "give a label selector such as kubernetes.io/os=linux");
  const selector = value.trim();
  if (selector === "") return "";
  for (const part of selectorParts(selector)) {
    if (!SELECTOR_PART.test(part)) {
      throw new ConfigError(
        key,
        value,
        `'${part.trim()}' is not a label requirement; use kubectl's syntax: key=value, key!=value, key, !key, key in (a,b)`,
      );
    }
  }
  return selector;
}

function tolerations(key: string, value: unknown): Toleration[] {
  if (value === undefined) return [{ operator: "Exists" }];
  let parsed: unknown;
  try {
    parsed = typeof value === "string" ? JSON.parse(value) : undefined;
  } catch {
    // The JSON parser's position is less useful than the expected shape, which the error states.
    parsed = undefined;
  }
  const allowed =
    'give a JSON list of tolerations, e.g. [{"operator":"Exists"}] or [{"key":"gpu","operator":"Exists","effect":"NoSchedule"}]';
  if (!Array.isArray(parsed)) throw new ConfigError(key, value, allowed);
  return parsed.map((t: unknown) => {
    if (typeof t !== "object" || t === null || Array.isArray(t))
      throw new ConfigError(key, value, allowed);
    const o = t as Record<string, unknown>;
    for (const k of Object.keys(o)) {
      if (!["key", "operator", "value", "effect", "tolerationSeconds"].includes(k)) {
        throw new ConfigError(key, value, `unknown toleration field '${k}'; ${allowed}`);
      }
    }
    const toleration: Toleration = {};
    if (o.key !== undefined) toleration.key = scalar(`${key} key`, o.key);
    if (o.operator !== undefined)
      toleration.operator = oneOf(`${key} operator`, o.operator, ["Exists", "Equal"] as const);
    if (o.value !== undefined) toleration.value = scalar(`${key} value`, o.value);
    if (o.effect !== undefined && o.effect !== "") {
      toleration.effect = oneOf(`${key} effect`, o.effect, [
        "NoSchedule",
        "PreferNoSchedule",
        "NoExecute",
      ] as const);
    }
    if (o.tolerationSeconds !== undefined) {
      if (typeof o.tolerationSeconds !== "number" || !Number.isInteger(o.tolerationSeconds)) {
        throw new ConfigError(
          `${key} tolerationSeconds`,
          o.tolerationSeconds,
          "give whole seconds",
        );
      }
      toleration.tolerationSeconds = o.tolerationSeconds;
    }
    return toleration;
  });
}

/** Validated by the agent's own rule, so a value the controller passes is one every agent accepts. */
function nsenterTarget(value: unknown): string | undefined {
  if (value === undefined || value === "") return undefined;
  return String(checkNsenterTarget(value));
}

function scalar(key: string, value: unknown): string {
  if (typeof value === "string" || typeof value === "number" || typeof value === "boolean")
    return String(value);
  throw new ConfigError(key, value, "give text");
}

/** A user or group id: 0 to 2^31-1, as Kubernetes takes them. */
function id(key: string, value: unknown): number {
  const n = typeof value === "string" && /^\s*\d+\s*$/.test(value) ? Number(value) : value;
  if (typeof n !== "number" || !Number.isInteger(n) || n < 0 || n > 2147483647) {
    throw new ConfigError(key, value, "give a numeric id from 0 to 2147483647");
  }
  return n;
}

function positiveInteger(key: string, value: unknown, max: number): number {
  // Digits only: Number() would also take "0x10", "1e2" and " ".
  const n = typeof value === "string" && /^\s*\d+\s*$/.test(value) ? Number(value) : value;
  if (typeof n !== "number" || !Number.isInteger(n) || n < 1 || n > max) {
    throw new ConfigError(key, value, `give a whole number from 1 to ${max}`);
  }
  return n;
}

/**
 * Turns parsed arguments into a frozen config; pure except for the defaults read from `env`
 * (POD_NAME, POD_UID, POD_NAMESPACE from the chart's downward API). Throws ConfigError naming the flag.
 */
export function loadRunConfig(
  args: Record<string, unknown>,
  env: NodeJS.ProcessEnv = process.env,
): Readonly<RunConfig> {
  const include = strings("--include", args.include);
  if (include.length === 0) {
    throw new ConfigError(
      "--include",
      undefined,
      "give at least one glob, e.g. --include 'docker.io/acme/*' (or KIC_INCLUDE); nothing is deleted without one",
    );
  }
  const exclude = strings("--exclude", args.exclude);
  // Compiled here only to fail fast, once, instead of in every helper pod.
  compilePatterns("--include", include, "include");
  compilePatterns("--exclude", exclude, "exclude");
  const minAge = optionalString("--min-age", args["min-age"]);
  if (minAge !== undefined) parseDuration("--min-age", minAge);
  const keepNewest = optionalString("--keep-newest", textOf(args["keep-newest"]));
  positiveCount("--keep-newest", keepNewest);
  const maxImagesPerNode = optionalString(
    "--max-images-per-node",
    textOf(args["max-images-per-node"]),
  );
  const maxBytesPerNode = optionalString(
    "--max-bytes-per-node",
    textOf(args["max-bytes-per-node"]),
  );
  limitsFrom({
    "max-images-per-node": maxImagesPerNode,
    "max-bytes-per-node": maxBytesPerNode,
  });
  const socketPath = optionalString("--socket", args.socket);
  if (socketPath !== undefined && !socketPath.replace(/^unix:\/\//, "").startsWith("/")) {
    throw new ConfigError(
      "--socket",
      socketPath,
      "give an absolute path such as /run/containerd/containerd.sock",
    );
  }
  const nodeTimeoutSeconds = parseDuration(
    "--node-timeout",
    optionalString("--node-timeout", args["node-timeout"]) ?? "10m",
  );
  if (nodeTimeoutSeconds < 10) {
    throw new ConfigError(
      "--node-timeout",
      args["node-timeout"],
      "give at least 10s: the helper pod must start and list the runtime",
    );
  }
  const podName = env.POD_NAME;
  const podUid = env.POD_UID;
  const namespace =
    optionalString("--namespace", args.namespace) ?? (env.POD_NAMESPACE || undefined);
  const instance = optionalString("--instance", args.instance) ?? "kube-image-cleanup";
  if (!/^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/.test(instance)) {
    throw new ConfigError(
      "--instance",
      instance,
      "give a valid label value (at most 63 letters, digits, '-', '_', '.')",
    );
  }
  const priorityClass = optionalString("--priority-class", args["priority-class"]);
  return Object.freeze({
    agent: {
      include,
      exclude,
      minAge,
      keepNewest: keepNewest?.trim(),
      maxImagesPerNode: maxImagesPerNode?.trim(),
      maxBytesPerNode: maxBytesPerNode?.trim(),
      client: oneOf("--client", args.client ?? "auto", ["auto", "crictl", "ctr"] as const),
      socket: socketPath?.replace(/^unix:\/\//, ""),
      nsenterTarget: nsenterTarget(args["nsenter-target"]),
    },
    dryRun: args["dry-run"] === true,
    nodes: {
      selector: labelSelector("--node-selector", args["node-selector"]),
      names: nameList("--nodes", args.nodes),
      exclude: nameList("--exclude-nodes", args["exclude-nodes"]),
      skipNotReady: args["skip-not-ready"] !== false,
      skipCordoned: args["skip-cordoned"] === true,
    },
    concurrency: positiveInteger("--concurrency", args.concurrency ?? 1, 500),
    namespace,
    instance,
    helper: {
      mode: oneOf("--helper-mode", args["helper-mode"] ?? "privileged", [
        "privileged",
        "socket",
      ] as const),
      socketUid: id("--helper-socket-uid", args["helper-socket-uid"] ?? 1000),
      socketGid: id("--helper-socket-gid", args["helper-socket-gid"] ?? 0),
      image:
        optionalString("--helper-image", args["helper-image"]) ??
        `ghcr.io/kube-image-cleanup/kube-image-cleanup:${packageVersion()}`,
      pullPolicy: oneOf(
        "--helper-image-pull-policy",
        args["helper-image-pull-policy"] ?? "IfNotPresent",
        ["Always", "IfNotPresent", "Never"] as const,
      ),
      pullSecrets: nameList("--helper-image-pull-secret", args["helper-image-pull-secret"]),
      resources: {
        requests: definedOnly({
          cpu: quantity("--helper-cpu-request", args["helper-cpu-request"] ?? "10m"),
          memory: quantity("--helper-memory-request", args["helper-memory-request"] ?? "48Mi"),
        }),
        limits: definedOnly({
          cpu: quantity("--helper-cpu-limit", args["helper-cpu-limit"] ?? "500m"),
          memory: quantity("--helper-memory-limit", args["helper-memory-limit"] ?? "192Mi"),
        }),
      },
      tolerations: tolerations("--helper-tolerations", args["helper-tolerations"]),
      priorityClass,
    },
    nodeTimeoutSeconds,
    keepPods: args["keep-pods"] === true,
    output: oneOf("--output", args.output ?? "pretty", ["pretty", "json"] as const),
    logFormat: oneOf("--log-format", args["log-format"] ?? "pretty", ["pretty", "json"] as const),
    kubeconfig: optionalString("--kubeconfig", args.kubeconfig),
    context: optionalString("--context", args.context),
    audit: loadAuditConfig(args),
    owner:
      podName && podUid
        ? { name: podName, uid: podUid, namespace: env.POD_NAMESPACE || undefined }
        : undefined,
  });
}

function definedOnly(o: { cpu: string | undefined; memory: string | undefined }): {
  cpu?: string;
  memory?: string;
} {
  const out: { cpu?: string; memory?: string } = {};
  if (o.cpu !== undefined) out.cpu = o.cpu;
  if (o.memory !== undefined) out.memory = o.memory;
  return out;
}
