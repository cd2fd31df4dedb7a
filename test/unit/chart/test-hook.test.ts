import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { chartDir, only, render, REQUIRED_VALUES } from "./helm.js";

interface Check {
  verb: string;
  resource: string;
  subresource?: string;
  name?: string;
  namespace?: string;
}

function hook(values: Record<string, unknown> = {}) {
  const objects = render({ values: { ...REQUIRED_VALUES, ...values } });
  const pod = only(objects, "Pod", "kic-kube-image-cleanup-test-access");
  const configMap = only(objects, "ConfigMap", "kic-kube-image-cleanup-test-access");
  const container = pod.spec?.containers[0];
  if (!container) throw new Error("test pod has no container");
  const checksEnv = container.env?.find((e) => e.name === "ACCESS_CHECKS")?.value;
  if (checksEnv === undefined) throw new Error("test pod lacks ACCESS_CHECKS");
  const checks = JSON.parse(checksEnv) as { allowed: Check[]; denied: Check[] };
  return { pod, configMap, container, checks };
}

const ns = "kic-system";
const required = (podVerbs: string[]): Check[] => [
  { verb: "list", resource: "nodes" },
  { verb: "list", resource: "pods" },
  ...podVerbs.map((verb) => ({ verb, resource: "pods", namespace: ns })),
  { verb: "get", resource: "pods", subresource: "log", namespace: ns },
  { verb: "list", resource: "events", namespace: ns },
  { verb: "create", resource: "events", namespace: "default" },
  { verb: "get", resource: "configmaps", name: "kic-kube-image-cleanup-report", namespace: ns },
  { verb: "update", resource: "configmaps", name: "kic-kube-image-cleanup-report", namespace: ns },
];

describe("helm test hook", () => {
  it("is a test hook pod running the check script from its ConfigMap in the project image, as the controller's service account", () => {
    const { pod, configMap, container } = hook();
    expect(pod.metadata?.annotations?.["helm.sh/hook"]).toBe("test");
    expect(configMap.metadata?.annotations?.["helm.sh/hook"]).toBe("test");
    // The ConfigMap must exist before the pod that mounts it.
    expect(Number(configMap.metadata?.annotations?.["helm.sh/hook-weight"])).toBeLessThan(
      Number(pod.metadata?.annotations?.["helm.sh/hook-weight"] ?? "0"),
    );
    // The pod stays for `helm test --logs`; the script's ConfigMap goes once the tests passed.
    expect(pod.metadata?.annotations?.["helm.sh/hook-delete-policy"]).toBe("before-hook-creation");
    expect(configMap.metadata?.annotations?.["helm.sh/hook-delete-policy"]).toBe(
      "before-hook-creation,hook-succeeded",
    );
    expect(pod.spec?.serviceAccountName).toBe("kic-kube-image-cleanup");
    expect(pod.spec?.restartPolicy).toBe("Never");
    expect(container.image).toBe("ghcr.io/kube-image-cleanup/kube-image-cleanup:0.1.0");
    expect(container.command).toEqual(["node", "/scripts/check-access.cjs"]);
    expect(container.volumeMounts).toEqual([
      { name: "scripts", mountPath: "/scripts", readOnly: true },
    ]);
    expect(configMap.data?.["check-access.cjs"]).toBe(
      readFileSync(join(chartDir, "files", "check-access.cjs"), "utf8"),
    );
  });

  it("runs with the controller's restricted security context", () => {
    const { pod, container } = hook();
    expect(pod.spec?.securityContext?.runAsNonRoot).toBe(true);
    expect(container.securityContext?.readOnlyRootFilesystem).toBe(true);
    expect(container.securityContext?.allowPrivilegeEscalation).toBe(false);
    expect(container.securityContext?.capabilities?.drop).toEqual(["ALL"]);
  });

  it("asks for exactly the permissions the Role and ClusterRole grant", () => {
    const { checks } = hook();
    expect(checks.allowed).toEqual(required(["create", "get", "list", "watch", "delete"]));
    expect(checks.denied).toEqual([
      { verb: "get", resource: "secrets", namespace: ns },
      { verb: "create", resource: "pods", subresource: "exec", namespace: ns },
      { verb: "delete", resource: "nodes" },
      { verb: "get", resource: "configmaps", name: "some-other-configmap", namespace: ns },
      { verb: "list", resource: "events", namespace: "default" },
    ]);
  });

  it("expects no pod delete with rbac.allowPodDeletion=false", () => {
    const { checks } = hook({ rbac: { allowPodDeletion: false } });
    expect(checks.allowed).toEqual(required(["create", "get", "list", "watch"]));
    expect(checks.denied).toContainEqual({ verb: "delete", resource: "pods", namespace: ns });
  });

  it("reaches the API server the way the controller does (host network and env)", () => {
    const env = [{ name: "KUBERNETES_SERVICE_HOST", value: "127.0.0.1" }];
    const { pod, container } = hook({ controller: { hostNetwork: true, env } });
    expect(pod.spec?.hostNetwork).toBe(true);
    expect(container.env).toContainEqual(env[0]);
  });

  it("asks for no Event or report permission when events and the report are off", () => {
    const { checks } = hook({ events: { enabled: false }, report: { enabled: false } });
    expect(checks.allowed.filter((c) => c.resource === "configmaps")).toEqual([]);
    expect(checks.allowed.filter((c) => c.namespace === "default")).toEqual([]);
  });

  it("is left out with test.enabled=false", () => {
    const objects = render({ values: { ...REQUIRED_VALUES, test: { enabled: false } } });
    expect(
      objects.filter(
        (o) =>
          o.kind === "Pod" ||
          (o.kind === "ConfigMap" && o.metadata?.name !== "kic-kube-image-cleanup-report"),
      ),
    ).toEqual([]);
  });
});

describe("helm test: list", () => {
  it("is off by default", () => {
    const objects = render({ values: REQUIRED_VALUES });
    expect(objects.some((o) => o.metadata?.name === "kic-kube-image-cleanup-test-list")).toBe(
      false,
    );
  });

  it("runs `list` with the CronJob's selection and patterns, only with flags list declares, as the controller's account", async () => {
    const { listOptions } = await import("../../../src/commands/list.js");
    const objects = render({
      values: {
        ...REQUIRED_VALUES,
        test: { list: true },
        metrics: { pushgateway: { url: "http://pg:9091" } },
        nodes: { names: ["n1"] },
      },
    });
    const pod = only(objects, "Pod", "kic-kube-image-cleanup-test-list");
    expect(pod.metadata?.annotations?.["helm.sh/hook"]).toBe("test");
    expect(pod.spec?.serviceAccountName).toBe("kic-kube-image-cleanup");
    const container = pod.spec?.containers[0];
    const args = container?.args ?? [];
    expect(args[0]).toBe("list");
    expect(args).toContain("--nodes=n1");
    expect(args).toContain("--include=docker.io/acme/*");
    const flags = args.slice(1).map((a) => /^--([a-z-]+)/.exec(a)?.[1] ?? a);
    for (const flag of flags) expect(Object.keys(listOptions), flag).toContain(flag);
    expect(container?.securityContext?.readOnlyRootFilesystem).toBe(true);
    expect(container?.env?.map((e) => e.name)).toEqual(
      expect.arrayContaining(["POD_NAME", "POD_UID", "POD_NAMESPACE"]),
    );
  });
});
