// The helper pod that runs the agent on one node (DESIGN.md "The helper pod"): pinned by nodeName,
// hostPID and privileged so `nsenter --target 1` reaches the node's own runtime client, no service
// account token, a deadline of its own so it ends even if the controller dies, and owned by the
// controller's pod so deleting the Job removes it.
/* eslint-disable @typescript-eslint/no-unsafe-class-instance-assignment --
 * client-node's models are classes only for their serializer metadata; it takes plain objects (as
 * its own examples do), and a literal manifest reads like the YAML it becomes. */
import type { V1Pod } from "@kubernetes/client-node";
import { agentArgv } from "../config/agent-options.js";
import { formatDuration } from "../config/duration.js";
import type { RunConfig } from "../config/run-options.js";
import { helperPodLabels, helperPodName, NODE_ANNOTATION } from "./labels.js";

export const AGENT_CONTAINER = "agent";

export interface HelperPodInput {
  config: Pick<
    Readonly<RunConfig>,
    "agent" | "dryRun" | "instance" | "helper" | "nodeTimeoutSeconds"
  >;
  namespace: string;
  runId: string;
  node: string;
  /** Images pods bound to the node reference: passed as --protect, never deleted. */
  protect: readonly string[];
  /** The controller's own pod, when it runs in the same namespace. */
  owner: { name: string; uid: string } | undefined;
}

/**
 * The agent's --deadline: the node timeout less a reserve (20%, at least 5 s, at most 60 s) for the
 * pod to start and the controller to read the log. The agent then prints its result, with a record
 * of every removal, before the controller gives up on the node.
 */
export function agentDeadlineSeconds(nodeTimeoutSeconds: number): number {
  const reserve = Math.min(60, Math.max(5, Math.round(nodeTimeoutSeconds * 0.2)));
  return Math.max(1, nodeTimeoutSeconds - reserve);
}

/** The agent's argv (after the image's entrypoint): one element per flag, no shell anywhere. */
export function helperArgs(input: Omit<HelperPodInput, "namespace" | "runId" | "owner">): string[] {
  const { agent } = input.config;
  return [
    "agent",
    ...agentArgv({
      include: agent.include,
      exclude: agent.exclude,
      ...(agent.minAge === undefined ? {} : { minAge: agent.minAge }),
      client: agent.client,
      ...(agent.socket === undefined ? {} : { socket: agent.socket }),
      hostExec: "nsenter",
      dryRun: input.config.dryRun,
      logFormat: "json",
      nodeName: input.node,
      deadline: formatDuration(agentDeadlineSeconds(input.config.nodeTimeoutSeconds)),
    }),
    ...(agent.nsenterTarget === undefined ? [] : [`--nsenter-target=${agent.nsenterTarget}`]),
    ...input.protect.map((image) => `--protect=${image}`),
  ];
}

export function buildHelperPod(input: HelperPodInput): V1Pod {
  const { helper } = input.config;
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
      annotations: { [NODE_ANNOTATION]: input.node },
    },
    spec: {
      // Pinned: the scheduler is skipped, so taints with NoSchedule and a full node's pod count do
      // not keep it away; the kubelet still admits it (OutOfcpu/OutOfmemory when the node is full).
      nodeName: input.node,
      hostPID: true,
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
          args: helperArgs(input),
          env: [{ name: "NODE_NAME", value: input.node }],
          resources,
          // Root and privileged: nsenter into pid 1's namespaces needs CAP_SYS_ADMIN and
          // CAP_SYS_PTRACE, and the image's default user is 1000.
          securityContext: { privileged: true, runAsUser: 0, runAsGroup: 0, runAsNonRoot: false },
          terminationMessagePolicy: "FallbackToLogsOnError",
        },
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
