// Names and labels of helper pods: enough to find one run's pods (run id), one node's pod, and every
// pod of an instance left by earlier runs (the sweep), without any state outside the API server.
import { createHash, randomBytes } from "node:crypto";

export const NAME_LABEL = "app.kubernetes.io/name";
export const INSTANCE_LABEL = "app.kubernetes.io/instance";
export const COMPONENT_LABEL = "app.kubernetes.io/component";
export const MANAGED_BY_LABEL = "app.kubernetes.io/managed-by";
export const RUN_ID_LABEL = "kube-image-cleanup.io/run-id";
export const NODE_LABEL = "kube-image-cleanup.io/node";
/** The full node name (a label value holds at most 63 characters; node names up to 253). */
export const NODE_ANNOTATION = "kube-image-cleanup.io/node";
/** The images the agent must keep, as a JSON list (src/controller/helper-pod.ts). */
export const PROTECT_ANNOTATION = "kube-image-cleanup.io/protect";

export const APP_NAME = "kube-image-cleanup";
export const HELPER_COMPONENT = "agent";

/** `20250101t030000-1a2b`: sortable, readable in `kubectl get pods`, a valid label value. */
export function newRunId(
  now: Date = new Date(),
  random: string = randomBytes(2).toString("hex"),
): string {
  const iso = now.toISOString(); // 2025-01-01T03:00:00.000Z
  return `${iso.slice(0, 10).replace(/-/g, "")}t${iso.slice(11, 19).replace(/:/g, "")}-${random}`;
}

const shortHash = (text: string) => createHash("sha256").update(text).digest("hex").slice(0, 6);

/** A label value for a node name: the name itself when it fits, else a cut name plus a hash. */
export function nodeLabelValue(node: string): string {
  if (node.length <= 63) return node;
  return `${node.slice(0, 56).replace(/[-.]+$/, "")}-${shortHash(node)}`;
}

/**
 * `kic-<run id>-<node>`, at most 63 characters (so it is also a valid host name): long node names
 * are cut and get a hash of the full name, so two nodes never share a pod name.
 */
export function helperPodName(runId: string, node: string): string {
  const prefix = `kic-${runId}-`;
  const room = 63 - prefix.length;
  const clean = node.toLowerCase().replace(/[^a-z0-9-]/g, "-");
  if (clean.length <= room && clean === node) return `${prefix}${clean}`.replace(/-+$/, "");
  const cut = clean.slice(0, room - 7).replace(/-+$/, "");
  return `${prefix}${cut}-${shortHash(node)}`;
}

/** Labels every helper pod of an instance carries (what the sweep selects on). */
export function instanceLabels(instance: string): Record<string, string> {
  return {
    [NAME_LABEL]: APP_NAME,
    [INSTANCE_LABEL]: instance,
    [COMPONENT_LABEL]: HELPER_COMPONENT,
  };
}

export function helperPodLabels(
  instance: string,
  runId: string,
  node: string,
): Record<string, string> {
  return {
    ...instanceLabels(instance),
    [MANAGED_BY_LABEL]: APP_NAME,
    [RUN_ID_LABEL]: runId,
    [NODE_LABEL]: nodeLabelValue(node),
  };
}

export function selectorOf(labels: Record<string, string>): string {
  return Object.entries(labels)
    .map(([k, v]) => `${k}=${v}`)
    .join(",");
}

/** Every helper pod of this instance from another run than `runId`. */
export function leftoverSelector(instance: string, runId: string): string {
  return `${selectorOf(instanceLabels(instance))},${RUN_ID_LABEL}!=${runId}`;
}

export function runSelector(instance: string, runId: string): string {
  return `${selectorOf(instanceLabels(instance))},${RUN_ID_LABEL}=${runId}`;
}
