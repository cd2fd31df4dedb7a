// Builders for agent results and pods in unit tests: plain data, as the API server and the agent
// produce it.
import type { CoreV1Event, V1Node, V1Pod } from "@kubernetes/client-node";
import type { AgentResult } from "../../../src/run-model/agent-result.js";
import type { KeepReason } from "../../../src/run-model/keep-reason.js";

/**
 * A client-node model as plain JSON data: its classes only carry serializer metadata, and the API
 * server's answers arrive as plain objects too.
 */
export type Plain<T> = T extends Date
  ? T
  : T extends readonly (infer U)[]
    ? Plain<U>[]
    : T extends object
      ? { [K in keyof T]?: Plain<T[K]> }
      : T;

export function agentResult(over: Partial<AgentResult> = {}): AgentResult {
  const deleted = over.deleted ?? [];
  const kept = over.kept ?? [];
  const failed = over.failed ?? [];
  return {
    version: 1,
    node: "node-a",
    runtime: { client: "crictl", socket: "/run/containerd/containerd.sock", hostExec: "nsenter" },
    dryRun: false,
    counts: {
      images: deleted.length + kept.length + failed.length,
      matched: deleted.length + failed.length,
      deleted: deleted.length,
      kept: kept.length,
      failed: failed.length,
    },
    deleted,
    kept,
    failed,
    bytesReclaimed: deleted.reduce((s, d) => s + d.bytes, 0),
    durationsMs: { inventory: 100, plan: 1, execute: 200, total: 301 },
    ...over,
  };
}

export function kept(n: number, reason: KeepReason, prefix = reason): AgentResult["kept"] {
  return Array.from({ length: n }, (_, i) => ({
    id: `sha256:${prefix}${i}`.padEnd(71, "0"),
    names: [`docker.io/acme/${prefix}-${i}:1`],
    reason,
  }));
}

export function node(
  name: string,
  opts: {
    ready?: "True" | "False" | "Unknown" | "none";
    cordoned?: boolean;
    os?: string;
    deleting?: boolean;
  } = {},
): V1Node {
  const ready = opts.ready ?? "True";
  const plain: Plain<V1Node> = {
    metadata: {
      name,
      labels: { "kubernetes.io/os": opts.os ?? "linux", "kubernetes.io/hostname": name },
      ...(opts.deleting ? { deletionTimestamp: new Date() } : {}),
    },
    spec: opts.cordoned ? { unschedulable: true } : {},
    status:
      ready === "none"
        ? {}
        : {
            conditions: [
              {
                type: "Ready",
                status: ready,
                ...(ready === "True"
                  ? {}
                  : {
                      reason: "NodeStatusUnknown",
                      message: "Kubelet stopped posting node status.",
                    }),
              },
            ],
          },
  };
  return plain as V1Node;
}

export function pod(data: Plain<V1Pod>): V1Pod {
  const plain: Plain<V1Pod> = {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name: "p", namespace: "ns" },
    ...data,
  };
  return plain as V1Pod;
}

export function event(data: Plain<CoreV1Event>): CoreV1Event {
  const plain: Plain<CoreV1Event> = { metadata: {}, involvedObject: {}, ...data };
  return plain as CoreV1Event;
}
