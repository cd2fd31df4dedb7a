// Turns what the generated client throws into something an operator can act on: which verb on which
// resource in which namespace failed, what the API server said, and on 403 which chart value grants
// the permission.
import { ApiException } from "@kubernetes/client-node";
import { KubeApiError } from "../errors.js";

export type Verb = "get" | "list" | "watch" | "create" | "update" | "delete";

export interface KubeCall {
  verb: Verb;
  /** `pods`, `nodes`, `pods/log`, `events`. */
  resource: string;
  /** Undefined for cluster-scoped calls and lists across all namespaces. */
  namespace?: string | undefined;
}

/** HTTP status of a failed API call, or undefined when no answer came (network, TLS, DNS). */
export function statusOf(err: unknown): number | undefined {
  if (err instanceof ApiException) return err.code;
  const code = (err as { statusCode?: unknown } | null)?.statusCode;
  return typeof code === "number" ? code : undefined;
}

/** The API server's own message (`Status.message`), else the error's. */
export function serverMessage(err: unknown): string {
  if (err instanceof ApiException) {
    const body: unknown = err.body;
    if (typeof body === "string") {
      try {
        const status = JSON.parse(body) as { message?: unknown };
        if (typeof status.message === "string" && status.message !== "") return status.message;
      } catch {
        // Not a Status object (a proxy's HTML page, say): the raw text says more than nothing.
        return body.slice(0, 300);
      }
    }
    return err.code === 401 ? "Unauthorized" : `HTTP ${err.code}`;
  }
  return err instanceof Error ? err.message : String(err);
}

/** Where a 403 for this call is fixed in the chart. */
function grantHint(call: KubeCall, message: string): string {
  if (/violates PodSecurity/i.test(message)) {
    return "the namespace must allow privileged pods: label it pod-security.kubernetes.io/enforce=privileged";
  }
  if (/exceeded quota/i.test(message))
    return "raise the namespace's ResourceQuota or lower the helper resources";
  if (/PriorityClass/i.test(message))
    return "create the priority class or change helper.priorityClassName";
  if (call.resource === "events" && call.verb === "create") {
    return "granted by the chart's events Role in namespace default (events.enabled=true, rbac.create=true)";
  }
  if (call.resource === "configmaps") {
    return "granted by the chart's Role on its report ConfigMap (report.enabled=true, rbac.create=true)";
  }
  if (call.resource === "secrets") {
    return "granted by the chart's Role on exactly the Secrets in registryPullSecrets (rbac.create=true)";
  }
  if (call.verb === "delete" && call.resource === "pods") {
    return "granted by rbac.allowPodDeletion=true (or run with --keep-pods)";
  }
  const scope = call.resource === "nodes" || call.namespace === undefined ? "ClusterRole" : "Role";
  return `granted by the chart's ${scope} (rbac.create=true); with rbac.create=false grant it as chart/templates/${scope === "Role" ? "role" : "clusterrole"}.yaml does`;
}

export function describeCall(call: KubeCall): string {
  return `${call.verb} ${call.resource} ${call.namespace === undefined ? "in all namespaces" : `in namespace ${call.namespace}`}`;
}

/**
 * The error that stops a run: the API server unreachable, credentials refused, or forbidden.
 * `grant`: what grants the call, when not the chart (a person's own user, for `report`).
 */
export function toKubeApiError(err: unknown, call: KubeCall, grant?: string): KubeApiError {
  const status = statusOf(err);
  const said = serverMessage(err);
  let message: string;
  if (status === undefined && isNetworkError(err)) {
    message = `cannot reach the API server to ${describeCall(call)}: ${said}`;
  } else if (status === undefined) {
    message = `${describeCall(call)} failed: ${said}`;
  } else if (status === 401) {
    message = `the API server refused the credentials (401) to ${describeCall(call)}: ${said}`;
  } else if (status === 403) {
    message = `forbidden: ${describeCall(call)}: ${said} (${grant ?? grantHint(call, said)})`;
  } else {
    message = `${describeCall(call)} failed (HTTP ${status}): ${said}`;
  }
  return new KubeApiError(message, call.verb, call.resource, call.namespace, status);
}

/** No HTTP answer at all: connection refused or reset, DNS, TLS (node-fetch's FetchError). */
export function isNetworkError(err: unknown): boolean {
  if (statusOf(err) !== undefined || !(err instanceof Error)) return false;
  const e = err as Error & { code?: unknown; type?: unknown };
  return (
    e.name === "FetchError" ||
    e.type === "system" ||
    (typeof e.code === "string" && /^E[A-Z]+/.test(e.code))
  );
}

/**
 * Errors that no other node will fare better with (credentials refused, forbidden by RBAC or by
 * admission): they stop the run, which then exits 2. Anything else fails only the node at hand.
 */
export function isFatal(err: unknown): boolean {
  const status = statusOf(err);
  return status === 401 || status === 403;
}
