// The Event recorded about a Node when its cleanup is done: what `kubectl describe node` shows
// under Events, long after the Job and its log are gone. Pure: results in, Event body out.
/* eslint-disable @typescript-eslint/no-unsafe-class-instance-assignment --
 * client-node's models are classes only for their serializer metadata; it takes plain objects (as
 * its own examples do), and a literal manifest reads like the YAML it becomes. */
import type { CoreV1Event } from "@kubernetes/client-node";
import { nodeRow, type NodeResult } from "../run-model/node-result.js";
import {
  APP_NAME,
  COMPONENT_LABEL,
  INSTANCE_LABEL,
  NAME_LABEL,
  RUN_ID_LABEL,
} from "../run-model/labels.js";
import { escapeControl } from "../text/escape.js";
import { formatBytes, formatMs, plural } from "../text/units.js";

export type NodeEventReason = "ImagesCleaned" | "ImageCleanupFailed";

/**
 * Events about cluster-scoped objects (Nodes) live in `default`: the API server accepts them
 * there (or without namespace), and that is where the kubelet and node controllers put theirs.
 */
export const NODE_EVENTS_NAMESPACE = "default";

/** The Event API's limit for a note (events.k8s.io/v1 `note`); core/v1 takes longer, we do not. */
export const NOTE_MAX = 1024;

/** A reason or error text from a node or the API server, cut to fit one note. */
function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/** `deleted 3 images (1.2 GiB), kept 5, 0 failed; run 20250101t030000-1a2b, 4.1 s`. */
export function nodeEventNote(result: NodeResult, runId: string): string {
  const row = nodeRow(result);
  const t = row.totals;
  const dryRun = result.result?.dryRun === true;
  const parts: string[] = [];
  if (result.status !== "ok")
    parts.push(
      `${result.status === "interrupted" ? "interrupted" : "failed"}: ${clip(result.reason ?? "no reason recorded", 600)}`,
    );
  if (t !== undefined) {
    const verb = dryRun ? "dry run, would delete" : "deleted";
    const partial = result.result === undefined ? " (partial record)" : "";
    parts.push(
      `${verb} ${plural(t.deleted, "image")} (${formatBytes(t.bytesReclaimed)})${partial}, kept ${t.kept}, ${t.failed} failed`,
    );
  }
  parts.push(`run ${runId}, ${formatMs(result.durationMs)}`);
  // Node names, reasons and error texts come from nodes and the runtime: one line, no escapes.
  return clip(escapeControl(parts.join("; ")), NOTE_MAX);
}

export interface NodeEventInput {
  result: NodeResult;
  runId: string;
  instance: string;
  /** When the Event is recorded. */
  now: Date;
}

/**
 * A core/v1 Event regarding the Node. Its involvedObject.uid is the node's name, as the kubelet
 * sets it for its own Node events: `kubectl describe node` finds Events by the node's uid and by
 * its name, and the name needs no extra read of the Node (no `get nodes` permission).
 */
export function nodeEvent(input: NodeEventInput): CoreV1Event {
  const { result, runId, instance, now } = input;
  const ok = result.status === "ok";
  const reason: NodeEventReason = ok ? "ImagesCleaned" : "ImageCleanupFailed";
  return {
    metadata: {
      // `<node>.<random>` like the kubelet's `<node>.<hex time>`; the server cuts the prefix to fit.
      generateName: `${result.node}.`,
      namespace: NODE_EVENTS_NAMESPACE,
      labels: {
        [NAME_LABEL]: APP_NAME,
        [INSTANCE_LABEL]: instance,
        [COMPONENT_LABEL]: "controller",
        [RUN_ID_LABEL]: runId,
      },
    },
    involvedObject: { apiVersion: "v1", kind: "Node", name: result.node, uid: result.node },
    reason,
    message: nodeEventNote(result, runId),
    type: ok ? "Normal" : "Warning",
    source: { component: APP_NAME },
    reportingComponent: APP_NAME,
    reportingInstance: instance,
    action: result.result?.dryRun === true ? "DryRun" : "DeleteImages",
    count: 1,
    firstTimestamp: now,
    lastTimestamp: now,
  };
}
