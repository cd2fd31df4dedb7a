// The helper pod `run` creates on each node: how it reaches the runtime (privileged or socket), its
// image, resources, tolerations and priority. The pod itself is built in
// src/controller/helper-pod.ts; these are its options, declared once.
import type { Options } from "yargs";
import { ConfigError } from "../errors.js";
import { nameList, oneOf, optionalString } from "./checks.js";
import { packageVersion } from "./package-version.js";
import { choiceOption } from "./choice-option.js";

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

export const helperOptions = {
  "helper-mode": choiceOption(
    ["privileged", "socket"],
    "privileged",
    "privileged: helper pods use the node's own ctr/crictl through nsenter (hostPID, privileged); " +
      "socket: helper pods are unprivileged (no host namespaces, all capabilities dropped, read-only root) " +
      "with only the runtime socket (--socket, default /run/containerd/containerd.sock) mounted, and use the image's clients",
  ),
  "helper-socket-uid": {
    // Text, checked by loadHelperConfig (see --concurrency in run-options.ts).
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
  "helper-image-pull-policy": choiceOption(
    ["Always", "IfNotPresent", "Never"],
    "IfNotPresent",
    "imagePullPolicy of the helper pods",
  ),
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
} as const satisfies Record<string, Options>;

export interface HelperConfig {
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
}

/**
 * The helper options of parsed arguments but --priority-class, which loadRunConfig reads first;
 * throws ConfigError naming the flag.
 */
export function loadHelperConfig(
  args: Record<string, unknown>,
): Omit<HelperConfig, "priorityClass"> {
  return {
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
  };
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

function definedOnly(o: { cpu: string | undefined; memory: string | undefined }): {
  cpu?: string;
  memory?: string;
} {
  const out: { cpu?: string; memory?: string } = {};
  if (o.cpu !== undefined) out.cpu = o.cpu;
  if (o.memory !== undefined) out.memory = o.memory;
  return out;
}
