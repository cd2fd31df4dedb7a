// What differs between the two helper modes (DESIGN.md "Two helper modes"): the pod's host access,
// the container's security context, the runtime socket volume and the agent's host-exec flags.
// Everything else about the helper pod is the same in both (helper-pod.ts).
/* eslint-disable @typescript-eslint/no-unsafe-class-instance-assignment --
 * client-node's models are classes only for their serializer metadata; it takes plain objects. */
import type { V1SecurityContext, V1Volume, V1VolumeMount } from "@kubernetes/client-node";
import type { RunConfig } from "../config/run-options.js";
import type { HelperMode } from "../config/helper-options.js";

/** The socket volume of a socket-mode helper pod (an admission policy for the shape allows it). */
export const SOCKET_VOLUME = "runtime-socket";
/**
 * Where a socket-mode helper sees the node's runtime socket, whatever its path on the node: a fixed
 * path under /run (world-traversable in the image), so a socket under a directory the agent's user
 * may not enter on the node (a test cluster's socket under /root) is still reachable.
 */
export const SOCKET_MOUNT_PATH = "/run/kube-image-cleanup/runtime.sock";
/** The node's socket in socket mode when --socket is not given: containerd's default. */
export const DEFAULT_NODE_SOCKET = "/run/containerd/containerd.sock";

export interface HelperAccess {
  /** hostPID and nothing else of the host (privileged), or nothing of the host (socket). */
  hostPID: boolean;
  securityContext: V1SecurityContext;
  volumes: V1Volume[];
  volumeMounts: V1VolumeMount[];
  /** The agent's runtime flags that depend on the mode (besides --client, the same in both). */
  agentFlags: { hostExec: "nsenter" | "socket"; socket: string | undefined };
  nsenterTarget: string | undefined;
}

/** The node's runtime socket a socket-mode helper mounts. */
export function nodeSocket(config: { agent: Pick<RunConfig["agent"], "socket"> }): string {
  return config.agent.socket ?? DEFAULT_NODE_SOCKET;
}

/** What the mode depends on: the same for every job (clean, pull). */
export interface HelperAccessConfig {
  agent: Pick<RunConfig["agent"], "socket" | "nsenterTarget">;
  helper: RunConfig["helper"];
}

export function helperAccess(config: Readonly<HelperAccessConfig>): HelperAccess {
  const mode: HelperMode = config.helper.mode;
  if (mode === "privileged") {
    return {
      hostPID: true,
      // Root and privileged: nsenter into pid 1's namespaces needs CAP_SYS_ADMIN and
      // CAP_SYS_PTRACE, and the image's default user is 1000.
      securityContext: { privileged: true, runAsUser: 0, runAsGroup: 0, runAsNonRoot: false },
      volumes: [],
      volumeMounts: [],
      agentFlags: { hostExec: "nsenter", socket: config.agent.socket },
      nsenterTarget: config.agent.nsenterTarget,
    };
  }
  const { socketUid, socketGid } = config.helper;
  return {
    hostPID: false,
    // Least privilege: nothing but connecting to the socket. Its group (containerd's [grpc] gid, 0
    // on a stock node, where the socket is root:root 0660) is the agent's primary group, so no
    // supplementary group, fsGroup or root user is needed; uid 0 only when an operator asks for it
    // (a socket only its owner may use).
    securityContext: {
      privileged: false,
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      runAsNonRoot: socketUid !== 0,
      runAsUser: socketUid,
      runAsGroup: socketGid,
      capabilities: { drop: ["ALL"] },
      seccompProfile: { type: "RuntimeDefault" },
    },
    // The socket file itself, not its directory (which may hold other sockets and the runtime's
    // state); type Socket: the kubelet refuses to start the pod when the path is anything else.
    volumes: [{ name: SOCKET_VOLUME, hostPath: { path: nodeSocket(config), type: "Socket" } }],
    volumeMounts: [{ name: SOCKET_VOLUME, mountPath: SOCKET_MOUNT_PATH }],
    agentFlags: { hostExec: "socket", socket: SOCKET_MOUNT_PATH },
    nsenterTarget: undefined,
  };
}
