// The controller's options (`kube-image-cleanup run`), declared once. Pattern and runtime options
// come from the agent's table, so `run` takes the same flags the agent does and passes them on.
// chart/templates/_args.tpl turns values.yaml into these flags; a chart test checks it against this
// table.
import type { Options } from "yargs";
import { ConfigError } from "../errors.js";
import { includeGlobs, oneOf, optionalString, strings } from "./checks.js";
import type { LogFormat } from "../log.js";
import {
  CLIENT_CHOICES,
  cleaningOptions,
  limitsFrom,
  runtimeOptions,
  type ClientChoice,
} from "./agent-options.js";
import { helperOptions, loadHelperConfig, type HelperConfig } from "./helper-options.js";
import { loadNodeConfig, nodeOptions, type NodeConfig } from "./node-options.js";
import { checkNsenterTarget } from "./nsenter-target.js";
import { auditOptions, loadAuditConfig, type AuditConfig } from "./audit-options.js";
import { parseDuration } from "./duration.js";
import { logFormatOption } from "./choice-option.js";
import { compilePatterns } from "./patterns.js";
import { positiveCount } from "./retention.js";
import {
  loadPullableConfig,
  registryPullSecretOptions,
  registryPullSecrets,
} from "./pullable-options.js";
import {
  kubectlOptions,
  loadKubectlConfig,
  namespaceOption,
  outputOption,
} from "./kubectl-options.js";

/** A number given where text is expected (yargs parses `--keep-newest=3` from env as 3) as text. */
const textOf = (v: unknown): unknown => (typeof v === "number" ? String(v) : v);

/** `table`: per-node sections and summary as readable text; `json`: pino JSON records. */
export type OutputFormat = "table" | "json";

const { client, socket, "dry-run": dryRun } = runtimeOptions;

/** Options only `run` takes (besides the shared pattern and runtime options). */
export const controllerOptions = {
  "nsenter-target": {
    type: "string",
    requiresArg: true,
    describe:
      "passed to the agent: the process (pid or name) whose namespaces nsenter enters on each node (default: the agent's, 1 = the node's init)",
  },
  ...nodeOptions,
  concurrency: {
    // Read as text and checked by loadRunConfig: yargs' number type turns "abc" into NaN, and the
    // error could then not say what was given.
    type: "string",
    // From measurement (docs/sizing.md): 1,000 nodes with 2.5 s agents in 281 s, ~18 requests/s.
    default: 10,
    requiresArg: true,
    describe: "nodes cleaned at the same time (1: each node in turn); each costs 5 API requests",
  },
  namespace: namespaceOption(
    "namespace of the helper pods (default: $POD_NAMESPACE in the chart's pod, else the kubeconfig context's, else default)",
  ),
  instance: {
    type: "string",
    default: "kube-image-cleanup",
    requiresArg: true,
    describe:
      "app.kubernetes.io/instance label of the helper pods (the Helm release): runs of one instance sweep each other's leftovers",
  },
  ...helperOptions,
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
  output: outputOption(
    ["table", "json"],
    "table: per-node sections and summary as readable text; json: pino JSON records, one a line " +
      "(a log stream, so no yaml); `pretty`, the older name of table, is still taken",
  ),
  "log-format": logFormatOption(
    "format of the controller's own warnings and errors (stderr in pretty, stdout in json)",
  ),
  ...kubectlOptions,
} as const satisfies Record<string, Options>;

/** A cleaning rule of `run` only: `pull` puts images on nodes and protects none. */
const protectWorkloadsOption = {
  "protect-workloads": {
    type: "boolean",
    default: true,
    describe:
      "keep every image a Deployment, StatefulSet, DaemonSet, ReplicaSet, Job or CronJob template in the " +
      "cluster names, scaled to zero or suspended or not (lists those kinds once per run; --no-protect-workloads: off)",
  },
} as const satisfies Record<string, Options>;

/** Everything `run` takes: the agent's pattern options, runtime choice, dry run, and its own. */
export const runOptions = {
  ...cleaningOptions,
  ...registryPullSecretOptions,
  client,
  socket,
  "dry-run": dryRun,
  ...controllerOptions,
  ...protectWorkloadsOption,
  ...auditOptions,
};

export interface RunConfig {
  /** Passed through to the agent on every node (as an argv array). */
  agent: {
    include: readonly string[];
    exclude: readonly string[];
    minAge: string | undefined;
    /** --unused-for as given (checked). */
    unusedFor: string | undefined;
    /** --keep-newest, --max-images-per-node, --max-bytes-per-node as given (checked). */
    keepNewest: string | undefined;
    maxImagesPerNode: string | undefined;
    maxBytesPerNode: string | undefined;
    client: ClientChoice;
    socket: string | undefined;
    nsenterTarget: string | undefined;
    /** --only-if-pullable and --registry-timeout as given (checked). */
    onlyIfPullable: boolean;
    registryTimeout: string;
  };
  /**
   * --registry-pull-secret: Secrets the helper pods mount and the agent reads credentials from
   * (checked to exist and to be of type kubernetes.io/dockerconfigjson before any node starts).
   */
  registryPullSecrets: readonly string[];
  dryRun: boolean;
  /** --protect-workloads: keep images named in workload templates (src/controller/workload-images.ts). */
  protectWorkloads: boolean;
  nodes: NodeConfig;
  concurrency: number;
  /** Undefined: resolved from the kubeconfig context once the client is loaded. */
  namespace: string | undefined;
  instance: string;
  helper: HelperConfig;
  nodeTimeoutSeconds: number;
  keepPods: boolean;
  output: OutputFormat;
  logFormat: LogFormat;
  kubeconfig: string | undefined;
  context: string | undefined;
  /** Client timeout of one API request (--request-timeout). */
  requestTimeoutMs: number;
  /** Events, the run report, the Pushgateway (src/config/audit-options.ts). */
  audit: AuditConfig;
  /** The controller's own pod (downward API: POD_NAME, POD_UID), owner of the helper pods. */
  owner: { name: string; uid: string; namespace: string | undefined } | undefined;
  /**
   * Whether the chart installed the admission policy that limits the pods the controller's service
   * account may create (env ADMISSION_POLICY, set by the chart); undefined outside the chart.
   */
  admissionPolicy: AdmissionPolicyState | undefined;
}

/**
 * `installed`; `not-served`: the API server does not serve admissionregistration.k8s.io/v1
 * ValidatingAdmissionPolicy, so the chart rendered none; `disabled`: admissionPolicy.create=false.
 */
export const ADMISSION_POLICY_STATES = ["installed", "not-served", "disabled"] as const;
export type AdmissionPolicyState = (typeof ADMISSION_POLICY_STATES)[number];

function admissionPolicyState(value: string | undefined): AdmissionPolicyState | undefined {
  if (value === undefined || value === "") return undefined;
  return oneOf("ADMISSION_POLICY", value, ADMISSION_POLICY_STATES);
}

/** Validated by the agent's own rule, so a value the controller passes is one every agent accepts. */
function nsenterTarget(value: unknown): string | undefined {
  if (value === undefined || value === "") return undefined;
  return String(checkNsenterTarget(value));
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
  const include = includeGlobs(args.include, "nothing is deleted without one");
  const exclude = strings("--exclude", args.exclude);
  // Compiled here only to fail fast, once, instead of in every helper pod.
  compilePatterns("--include", include, "include");
  compilePatterns("--exclude", exclude, "exclude");
  const minAge = optionalString("--min-age", args["min-age"]);
  if (minAge !== undefined) parseDuration("--min-age", minAge);
  const unusedFor = optionalString("--unused-for", args["unused-for"]);
  if (unusedFor !== undefined) parseDuration("--unused-for", unusedFor);
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
  const pullable = loadPullableConfig(args);
  const base = loadControllerConfig(args, env);
  return Object.freeze({
    agent: {
      include,
      exclude,
      minAge,
      unusedFor,
      keepNewest: keepNewest?.trim(),
      maxImagesPerNode: maxImagesPerNode?.trim(),
      maxBytesPerNode: maxBytesPerNode?.trim(),
      ...base.runtime,
      onlyIfPullable: pullable.onlyIfPullable,
      registryTimeout: pullable.registryTimeout,
    },
    registryPullSecrets: registryPullSecrets(args),
    dryRun: args["dry-run"] === true,
    protectWorkloads: args["protect-workloads"] !== false,
    ...base.sweep,
    audit: loadAuditConfig(args),
  });
}

/** What every command that sweeps nodes takes (`run`, `pull`): the runtime flags and the sweep's. */
export interface ControllerConfig {
  runtime: { client: ClientChoice; socket: string | undefined; nsenterTarget: string | undefined };
  sweep: Pick<
    RunConfig,
    | "nodes"
    | "concurrency"
    | "namespace"
    | "instance"
    | "helper"
    | "nodeTimeoutSeconds"
    | "keepPods"
    | "output"
    | "logFormat"
    | "kubeconfig"
    | "context"
    | "requestTimeoutMs"
    | "owner"
    | "admissionPolicy"
  >;
}

/**
 * The options of `controllerOptions` with --client and --socket, checked in one order for every
 * command that takes them. Throws ConfigError naming the flag.
 */
export function loadControllerConfig(
  args: Record<string, unknown>,
  env: NodeJS.ProcessEnv = process.env,
): ControllerConfig {
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
  const kubectl = loadKubectlConfig(args, ["table", "json"] as const);
  const namespace = kubectl.namespace ?? (env.POD_NAMESPACE || undefined);
  const instance = optionalString("--instance", args.instance) ?? "kube-image-cleanup";
  if (!/^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/.test(instance)) {
    throw new ConfigError(
      "--instance",
      instance,
      "give a valid label value (at most 63 letters, digits, '-', '_', '.')",
    );
  }
  const priorityClass = optionalString("--priority-class", args["priority-class"]);
  return {
    runtime: {
      client: oneOf("--client", args.client ?? "auto", CLIENT_CHOICES),
      socket: socketPath?.replace(/^unix:\/\//, ""),
      nsenterTarget: nsenterTarget(args["nsenter-target"]),
    },
    sweep: {
      nodes: loadNodeConfig(args),
      concurrency: positiveInteger("--concurrency", args.concurrency ?? 10, 500),
      namespace,
      instance,
      // --priority-class is read above, where its error has always come in the order of checks.
      helper: { ...loadHelperConfig(args), priorityClass },
      nodeTimeoutSeconds,
      keepPods: args["keep-pods"] === true,
      output: kubectl.output,
      logFormat: oneOf("--log-format", args["log-format"] ?? "pretty", ["pretty", "json"] as const),
      kubeconfig: kubectl.kubeconfig,
      context: kubectl.context,
      requestTimeoutMs: kubectl.requestTimeoutMs,
      owner:
        podName && podUid
          ? { name: podName, uid: podUid, namespace: env.POD_NAMESPACE || undefined }
          : undefined,
      admissionPolicy: admissionPolicyState(env.ADMISSION_POLICY),
    },
  };
}
