// The helper pod that runs the agent on one node (DESIGN.md "The helper pod"): pinned by nodeName,
// either hostPID and privileged so `nsenter --target 1` reaches the node's own runtime client, or
// unprivileged with only the runtime socket mounted (helper-mode.ts); no service account token, a
// deadline of its own so it ends even if the controller dies, and owned by the controller's pod so
// deleting the Job removes it.
/* eslint-disable @typescript-eslint/no-unsafe-class-instance-assignment --
 * client-node's models are classes only for their serializer metadata; it takes plain objects (as
 * its own examples do), and a literal manifest reads like the YAML it becomes. */
import type { V1Pod } from "@kubernetes/client-node";
import { agentArgv } from "../config/agent-argv.js";
import type { KnownPods, ProtectEntry, ProtectFileContent } from "../config/protect-entries.js";
import type { RunConfig } from "../config/run-options.js";
import { helperAccess, type HelperAccessConfig } from "./helper-mode.js";
import {
  helperPodLabels,
  helperPodName,
  NODE_ANNOTATION,
  PROTECT_ANNOTATION,
} from "../run-model/labels.js";

export const AGENT_CONTAINER = "agent";

// What pods on the node need travels as a pod annotation the kubelet writes into a downwardAPI
// volume file, which the agent reads with --protect-file. As argv it hit the kernel's limit of
// 128 KiB per argument (MAX_ARG_STRLEN) and ~2 MiB in all: the container could not start and the
// node was never cleaned again. A file has no such limit, and the annotation needs no RBAC beyond
// creating the pod.
/** The helper pod's only volume (an admission policy for the helper's shape must allow it). */
export const PROTECT_VOLUME = "protect";
export const PROTECT_MOUNT_PATH = "/etc/kube-image-cleanup/protect";
export const PROTECT_FILE = "images.json";

// --only-if-pullable's credentials: each registry pull Secret is a volume of its own (the kubelet
// fetches it for the pod it is bound to), mounted read-only at <dir>/<secret name>/, and the agent
// gets the file's path. The Secret's content is never in the pod spec, its argv or the log.
export const PULL_SECRETS_MOUNT_PATH = "/etc/kube-image-cleanup/pull-secrets";
const PULL_SECRET_KEY = ".dockerconfigjson";
/** Volume names of the Secrets: by position, as a Secret name may be longer than a volume name. */
export const pullSecretVolume = (i: number) => `pull-secret-${String(i)}`;
export const pullSecretFile = (name: string) =>
  `${PULL_SECRETS_MOUNT_PATH}/${name}/${PULL_SECRET_KEY}`;

/** The API server refuses a pod whose annotations (keys and values, in bytes) exceed 256 KiB. */
export const ANNOTATIONS_MAX_BYTES = 256 * 1024;

/**
 * The annotation value, as --protect-file reads it: the images and the pods the controller knew on
 * the node (`{"images": [...], "pods": {...}}`), or a bare list when no pods are given.
 */
export function protectAnnotationValue(protect: readonly ProtectEntry[], pods?: KnownPods): string {
  if (pods === undefined) return JSON.stringify(protect);
  const content: ProtectFileContent = { images: [...protect], pods };
  return JSON.stringify(content);
}

/**
 * Why the protect list cannot travel in the helper pod's annotations, or undefined when it fits.
 * Beyond the limit the node must fail: running the agent with part of the list would let it delete
 * images that pods on the node need.
 */
export function protectListProblem(
  protect: readonly ProtectEntry[],
  node: string,
  pods?: KnownPods,
): string | undefined {
  const other = Buffer.byteLength(NODE_ANNOTATION) + Buffer.byteLength(node);
  const bytes =
    Buffer.byteLength(PROTECT_ANNOTATION) +
    Buffer.byteLength(protectAnnotationValue(protect, pods));
  if (other + bytes <= ANNOTATIONS_MAX_BYTES) return undefined;
  return (
    `the pods on the node and the cluster's workload templates reference ${protect.length} distinct images (${Math.ceil(bytes / 1024)} KiB as a list), ` +
    `more than a pod's annotations can hold (${ANNOTATIONS_MAX_BYTES / 1024} KiB): the agent cannot be told ` +
    "everything it must keep, so the node is not cleaned; find the pods with that many images with " +
    `kubectl get pods -A --field-selector spec.nodeName=${node}, or narrow workload protection with --exclude patterns ` +
    "(references an exclude matches are not sent) or turn it off (protect.workloads=false)"
  );
}

export interface HelperPodInput {
  config: Pick<
    Readonly<RunConfig>,
    "agent" | "dryRun" | "instance" | "helper" | "nodeTimeoutSeconds" | "registryPullSecrets"
  >;
  namespace: string;
  runId: string;
  node: string;
  /** Images pods bound to the node reference (valid references), with a pod each: never deleted. */
  protect: readonly ProtectEntry[];
  /**
   * The pods bound to the node when `protect` was read (known-pods.ts): the agent stops deleting
   * when it sees another pod's sandbox running.
   */
  knownPods?: KnownPods;
  /** The controller's own pod, when it runs in the same namespace. */
  owner: { name: string; uid: string } | undefined;
  /**
   * When the pod is created (epoch ms, the controller's clock): the agent's deadline counts from
   * here, as the pod's activeDeadlineSeconds and the controller's node timeout do.
   */
  createdAt: number;
}

/**
 * How long after the pod's creation the agent must be done: the node timeout less a reserve (20%,
 * at least 5 s, at most 60 s) for the controller to read the log. The agent then prints its result,
 * with a record of every removal, before the controller gives up on the node.
 */
export function agentDeadlineSeconds(nodeTimeoutSeconds: number): number {
  const reserve = Math.min(60, Math.max(5, Math.round(nodeTimeoutSeconds * 0.2)));
  return Math.max(1, nodeTimeoutSeconds - reserve);
}

/**
 * The agent's --deadline: a point in time (RFC 3339, UTC), not a duration from the agent's start. A
 * slow start (the helper image pulled, a busy kubelet) then shortens the agent's time instead of
 * pushing its end past the pod's activeDeadlineSeconds and the controller's node timeout, which
 * both count from the pod's creation. Assumes the node's clock is within the reserve of the
 * controller's (NTP).
 */
export function agentDeadline(createdAt: number, nodeTimeoutSeconds: number): string {
  return new Date(createdAt + agentDeadlineSeconds(nodeTimeoutSeconds) * 1000).toISOString();
}

/** The agent's argv (after the image's entrypoint): one element per flag, no shell anywhere. */
export function helperArgs(input: Omit<HelperPodInput, "namespace" | "runId" | "owner">): string[] {
  const { agent } = input.config;
  const access = helperAccess(input.config);
  return [
    "agent",
    ...agentArgv({
      include: agent.include,
      exclude: agent.exclude,
      ...(agent.minAge === undefined ? {} : { minAge: agent.minAge }),
      ...(agent.unusedFor === undefined ? {} : { unusedFor: agent.unusedFor }),
      ...(agent.keepNewest === undefined ? {} : { keepNewest: agent.keepNewest }),
      ...(agent.maxImagesPerNode === undefined ? {} : { maxImagesPerNode: agent.maxImagesPerNode }),
      ...(agent.maxBytesPerNode === undefined ? {} : { maxBytesPerNode: agent.maxBytesPerNode }),
      ...(agent.onlyIfPullable
        ? {
            onlyIfPullable: true,
            registryTimeout: agent.registryTimeout,
            pullSecretFiles: input.config.registryPullSecrets.map(pullSecretFile),
          }
        : {}),
      client: agent.client,
      ...(access.agentFlags.socket === undefined ? {} : { socket: access.agentFlags.socket }),
      hostExec: access.agentFlags.hostExec,
      dryRun: input.config.dryRun,
      logFormat: "json",
      nodeName: input.node,
      deadline: agentDeadline(input.createdAt, input.config.nodeTimeoutSeconds),
    }),
    ...(access.nsenterTarget === undefined ? [] : [`--nsenter-target=${access.nsenterTarget}`]),
    `--protect-file=${PROTECT_MOUNT_PATH}/${PROTECT_FILE}`,
  ];
}

export function buildHelperPod(input: HelperPodInput): V1Pod {
  // Mounted only when the agent reads them.
  const pullSecrets = input.config.agent.onlyIfPullable ? input.config.registryPullSecrets : [];
  return helperPodShape({
    config: input.config,
    namespace: input.namespace,
    runId: input.runId,
    node: input.node,
    owner: input.owner,
    args: helperArgs(input),
    annotations: {
      [PROTECT_ANNOTATION]: protectAnnotationValue(input.protect, input.knownPods),
    },
    protectFile: true,
    pullSecrets,
    // --only-if-pullable asks registries from the node's network: the one its runtime pulls
    // through (node-local registries and mirrors, the node's DNS and egress rules).
    hostNetwork: input.config.agent.onlyIfPullable,
  });
}

/** The Secret volumes and the agent's --pull-secret-file flags for `names`, in order. */
export function pullSecretFlags(names: readonly string[]): string[] {
  return names.map((name) => `--pull-secret-file=${pullSecretFile(name)}`);
}

/** What differs between the jobs' helper pods; the rest of the pod is the same for all. */
export interface HelperPodShape {
  config: Pick<Readonly<RunConfig>, "instance" | "helper" | "nodeTimeoutSeconds"> &
    HelperAccessConfig;
  namespace: string;
  runId: string;
  node: string;
  owner: { name: string; uid: string } | undefined;
  /** The container's args, "agent" first. */
  args: string[];
  annotations: Record<string, string>;
  /** The downwardAPI volume with the protect list (the clean job). */
  protectFile: boolean;
  /** Registry pull Secrets mounted for the agent (--pull-secret-file). */
  pullSecrets: readonly string[];
  hostNetwork: boolean;
}

/** The helper pod every job runs its agent action in. */
export function helperPodShape(input: HelperPodShape): V1Pod {
  const { helper } = input.config;
  const pullSecrets = input.pullSecrets;
  const access = helperAccess(input.config);
  const resources: { requests?: Record<string, string>; limits?: Record<string, string> } = {};
  if (Object.keys(helper.resources.requests).length > 0)
    resources.requests = { ...helper.resources.requests };
  if (Object.keys(helper.resources.limits).length > 0)
    resources.limits = { ...helper.resources.limits };
  const pod: V1Pod = {
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      name: helperPodName(input.runId, input.node),
      namespace: input.namespace,
      labels: helperPodLabels(input.config.instance, input.runId, input.node),
      annotations: {
        [NODE_ANNOTATION]: input.node,
        ...input.annotations,
      },
    },
    spec: {
      // Pinned: the scheduler is skipped, so taints with NoSchedule and a full node's pod count do
      // not keep it away; the kubelet still admits it (OutOfcpu/OutOfmemory when the node is full).
      nodeName: input.node,
      ...(access.hostPID ? { hostPID: true } : {}),
      ...(input.hostNetwork ? { hostNetwork: true } : {}),
      restartPolicy: "Never",
      // The kubelet ends the pod on its own when the controller is gone or stuck.
      activeDeadlineSeconds: input.config.nodeTimeoutSeconds,
      automountServiceAccountToken: false,
      enableServiceLinks: false,
      terminationGracePeriodSeconds: 10,
      tolerations: helper.tolerations.map((t) => ({ ...t })),
      ...(helper.priorityClass === undefined ? {} : { priorityClassName: helper.priorityClass }),
      ...(helper.pullSecrets.length === 0
        ? {}
        : { imagePullSecrets: helper.pullSecrets.map((name) => ({ name })) }),
      containers: [
        {
          name: AGENT_CONTAINER,
          image: helper.image,
          imagePullPolicy: helper.pullPolicy,
          args: input.args,
          env: [{ name: "NODE_NAME", value: input.node }],
          resources,
          securityContext: access.securityContext,
          terminationMessagePolicy: "FallbackToLogsOnError",
          volumeMounts: [
            ...(input.protectFile
              ? [{ name: PROTECT_VOLUME, mountPath: PROTECT_MOUNT_PATH, readOnly: true }]
              : []),
            ...access.volumeMounts,
            ...pullSecrets.map((name, i) => ({
              name: pullSecretVolume(i),
              mountPath: `${PULL_SECRETS_MOUNT_PATH}/${name}`,
              readOnly: true,
            })),
          ],
        },
      ],
      volumes: [
        ...(input.protectFile
          ? [
              {
                name: PROTECT_VOLUME,
                downwardAPI: {
                  items: [
                    {
                      path: PROTECT_FILE,
                      fieldRef: { fieldPath: `metadata.annotations['${PROTECT_ANNOTATION}']` },
                    },
                  ],
                },
              },
            ]
          : []),
        ...access.volumes,
        ...pullSecrets.map((name, i) => ({
          name: pullSecretVolume(i),
          secret: {
            secretName: name,
            items: [{ key: PULL_SECRET_KEY, path: PULL_SECRET_KEY }],
            // Readable by the agent's user in socket mode (uid 1000); the volume is this pod's own.
            defaultMode: 0o444,
          },
        })),
      ],
    },
  };
  if (input.owner !== undefined && pod.metadata) {
    // No blockOwnerDeletion: it needs `update pods/finalizers` on the owner, which the chart's
    // Role does not grant; garbage collection works without it.
    pod.metadata.ownerReferences = [
      { apiVersion: "v1", kind: "Pod", name: input.owner.name, uid: input.owner.uid },
    ];
  }
  return pod;
}
