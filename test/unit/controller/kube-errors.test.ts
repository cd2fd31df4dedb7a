import { ApiException } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import { KubeApiError } from "../../../src/errors.js";
import { isFatal, isNetworkError, toKubeApiError } from "../../../src/kube/errors.js";

const status = (code: number, message: string) =>
  new ApiException(code, "x", JSON.stringify({ kind: "Status", code, message }), {});

describe("kube errors", () => {
  it("names verb, resource, namespace and the chart value for an RBAC 403", () => {
    const err = toKubeApiError(
      status(
        403,
        'pods is forbidden: User "system:serviceaccount:kic:kic" cannot delete resource "pods" in API group "" in the namespace "kic"',
      ),
      { verb: "delete", resource: "pods", namespace: "kic" },
    );
    expect(err).toBeInstanceOf(KubeApiError);
    expect(err.exitCode).toBe(2);
    expect(err.verb).toBe("delete");
    expect(err.message).toBe(
      'forbidden: delete pods in namespace kic: pods is forbidden: User "system:serviceaccount:kic:kic" cannot delete resource "pods" in API group "" in the namespace "kic" ' +
        "(granted by rbac.allowPodDeletion=true (or run with --keep-pods))",
    );
  });

  it("points cluster-wide 403s at the ClusterRole", () => {
    expect(
      toKubeApiError(status(403, "nodes is forbidden"), { verb: "list", resource: "nodes" })
        .message,
    ).toMatch(
      /list nodes in all namespaces: nodes is forbidden \(granted by the chart's ClusterRole/,
    );
  });

  it("recognises Pod Security admission and says which namespace label allows the helper", () => {
    const err = toKubeApiError(
      status(403, 'pods "kic-x" is forbidden: violates PodSecurity "baseline:latest": privileged'),
      { verb: "create", resource: "pods", namespace: "kic" },
    );
    expect(err.message).toMatch(/pod-security\.kubernetes\.io\/enforce=privileged/);
  });

  it("says the API server is unreachable when no answer came", () => {
    const refused = Object.assign(
      new Error("request to https://10.0.0.1/api/v1/nodes failed, reason: connect ECONNREFUSED"),
      {
        name: "FetchError",
        code: "ECONNREFUSED",
        type: "system",
      },
    );
    expect(isNetworkError(refused)).toBe(true);
    expect(toKubeApiError(refused, { verb: "list", resource: "nodes" }).message).toMatch(
      /^cannot reach the API server to list nodes in all namespaces: request to .* ECONNREFUSED/,
    );
  });

  it("treats 401 and 403 as fatal for the run, other statuses as one node's failure", () => {
    expect(isFatal(status(403, "x"))).toBe(true);
    expect(isFatal(new ApiException(401, "Unauthorized", undefined, {}))).toBe(true);
    expect(isFatal(status(500, "etcd timeout"))).toBe(false);
    expect(isFatal(status(409, "exists"))).toBe(false);
  });
});
