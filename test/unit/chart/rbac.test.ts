import { describe, expect, it } from "vitest";
import { kinds, only, render, renderError, REQUIRED_VALUES, type Rendered } from "./helm.js";

const baseClusterRules = [
  { apiGroups: [""], resources: ["nodes"], verbs: ["list"] },
  { apiGroups: [""], resources: ["pods"], verbs: ["list", "watch"] },
];
/** protect.workloads (on by default): list, and only list, on the six workload kinds. */
const clusterRules = [
  ...baseClusterRules,
  {
    apiGroups: ["apps"],
    resources: ["deployments", "statefulsets", "daemonsets", "replicasets"],
    verbs: ["list"],
  },
  { apiGroups: ["batch"], resources: ["jobs", "cronjobs"], verbs: ["list"] },
];
/** Every binding of the chart grants its role to the release's own ServiceAccount, and only to it. */
function expectBindsToReleaseAccount(
  binding: Rendered<"RoleBinding"> | Rendered<"ClusterRoleBinding">,
  kind: "Role" | "ClusterRole",
  name: string,
): void {
  expect(binding.roleRef).toEqual({ apiGroup: "rbac.authorization.k8s.io", kind, name });
  expect(binding.subjects).toEqual([
    { kind: "ServiceAccount", name: "kic-kube-image-cleanup", namespace: "kic-system" },
  ]);
}
const roleRules = (podVerbs: string[]) => [
  { apiGroups: [""], resources: ["pods"], verbs: podVerbs },
  { apiGroups: [""], resources: ["pods/log"], verbs: ["get"] },
  { apiGroups: [""], resources: ["events"], verbs: ["list"] },
  {
    apiGroups: [""],
    resources: ["configmaps"],
    resourceNames: ["kic-kube-image-cleanup-report"],
    verbs: ["get", "update"],
  },
];
const ROLE = "kic-kube-image-cleanup";
const EVENTS_ROLE = "kic-kube-image-cleanup-kic-system";

describe("RBAC", () => {
  it("grants nothing on workloads when protect.workloads is false", () => {
    const objects = render({ values: { ...REQUIRED_VALUES, protect: { workloads: false } } });
    expect(only(objects, "ClusterRole").rules).toEqual(baseClusterRules);
  });

  it("grants exactly nodes list, pods list and workload kinds list cluster-wide, bound to the chart's service account", () => {
    const objects = render({ values: REQUIRED_VALUES });
    const clusterRole = only(objects, "ClusterRole");
    expect(clusterRole.rules).toEqual(clusterRules);
    // Cluster-scoped names carry the namespace: same release name in two namespaces must not collide.
    expect(clusterRole.metadata?.name).toBe("kic-kube-image-cleanup-kic-system");
    const binding = only(objects, "ClusterRoleBinding");
    expectBindsToReleaseAccount(binding, "ClusterRole", "kic-kube-image-cleanup-kic-system");
  });

  it("grants exactly pod create/get/list/watch/delete, pods/log get and events list in the release namespace", () => {
    const objects = render({ values: REQUIRED_VALUES });
    const role = only(objects, "Role", ROLE);
    expect(role.metadata?.namespace).toBe("kic-system");
    expect(role.rules).toEqual(roleRules(["create", "get", "list", "watch", "delete"]));
    const binding = only(objects, "RoleBinding", ROLE);
    expect(binding.metadata?.namespace).toBe("kic-system");
    expectBindsToReleaseAccount(binding, "Role", "kic-kube-image-cleanup");
    const sa = only(objects, "ServiceAccount");
    expect(sa.metadata?.name).toBe("kic-kube-image-cleanup");
  });

  it("drops delete on pods, and nothing else, when rbac.allowPodDeletion is false", () => {
    const objects = render({ values: { ...REQUIRED_VALUES, rbac: { allowPodDeletion: false } } });
    expect(only(objects, "Role", ROLE).rules).toEqual(
      roleRules(["create", "get", "list", "watch"]),
    );
    expect(only(objects, "ClusterRole").rules).toEqual(clusterRules);
  });

  it("with images.onlyIfPullable grants get on exactly the named registry pull Secrets, and nothing on Secrets otherwise", () => {
    const secrets = ["registry-pull", "hub-pull"];
    const pullable = render({
      values: {
        ...REQUIRED_VALUES,
        images: { ...REQUIRED_VALUES.images, onlyIfPullable: true },
        registryPullSecrets: secrets,
      },
    });
    const rules = only(pullable, "Role", ROLE).rules ?? [];
    expect(rules.filter((r) => r.resources?.includes("secrets"))).toEqual([
      { apiGroups: [""], resources: ["secrets"], resourceNames: secrets, verbs: ["get"] },
    ]);
    expect(only(pullable, "ClusterRole").rules).toEqual(clusterRules);
    // Named but not used (onlyIfPullable off), or used without Secrets: no rule on Secrets.
    for (const values of [
      { ...REQUIRED_VALUES, registryPullSecrets: secrets },
      { ...REQUIRED_VALUES, images: { ...REQUIRED_VALUES.images, onlyIfPullable: true } },
    ]) {
      expect(only(render({ values }), "Role", ROLE).rules).toEqual(
        roleRules(["create", "get", "list", "watch", "delete"]),
      );
    }
  });

  it("creates no roles or bindings with rbac.create=false, and no service account with serviceAccount.create=false", () => {
    const objects = render({
      values: {
        ...REQUIRED_VALUES,
        rbac: { create: false },
        serviceAccount: { create: false, name: "image-cleaner" },
      },
      extraArgs: ["--skip-tests"],
    });
    // The report ConfigMap is data, not a permission: it stays.
    expect(kinds(objects)).toEqual(["ConfigMap", "CronJob"]);
  });

  it("binds an existing service account by name when the chart does not create it", () => {
    const objects = render({
      values: { ...REQUIRED_VALUES, serviceAccount: { create: false, name: "image-cleaner" } },
    });
    expect(objects.some((o) => o.kind === "ServiceAccount")).toBe(false);
    expect(only(objects, "RoleBinding", ROLE).subjects?.[0]?.name).toBe("image-cleaner");
    expect(only(objects, "RoleBinding", EVENTS_ROLE).subjects?.[0]?.name).toBe("image-cleaner");
    expect(only(objects, "ClusterRoleBinding").subjects?.[0]?.name).toBe("image-cleaner");
  });

  it("refuses serviceAccount.create=false without a name instead of falling back to the namespace's default account", () => {
    expect(
      renderError({ values: { ...REQUIRED_VALUES, serviceAccount: { create: false } } }),
    ).toContain("serviceAccount.name is required when serviceAccount.create is false");
  });

  it("uses serviceAccount.name for the created account too", () => {
    const objects = render({ values: { ...REQUIRED_VALUES, serviceAccount: { name: "cleaner" } } });
    expect(only(objects, "ServiceAccount").metadata?.name).toBe("cleaner");
    expect(only(objects, "RoleBinding", ROLE).subjects?.[0]?.name).toBe("cleaner");
  });

  it("grants only create on events in namespace default (where Events about Nodes live), bound to the release's account", () => {
    const objects = render({ values: REQUIRED_VALUES });
    const role = only(objects, "Role", EVENTS_ROLE);
    expect(role.metadata?.namespace).toBe("default");
    expect(role.rules).toEqual([{ apiGroups: [""], resources: ["events"], verbs: ["create"] }]);
    const binding = only(objects, "RoleBinding", EVENTS_ROLE);
    expect(binding.metadata?.namespace).toBe("default");
    expectBindsToReleaseAccount(binding, "Role", EVENTS_ROLE);
  });

  it("creates the empty report ConfigMap the Role names, and neither with report.enabled=false", () => {
    const objects = render({ values: REQUIRED_VALUES });
    const report = only(objects, "ConfigMap", "kic-kube-image-cleanup-report");
    expect(report.metadata?.namespace).toBe("kic-system");
    expect(report.metadata?.labels?.["app.kubernetes.io/component"]).toBe("run-report");
    // No data: `helm upgrade` must leave the runs the controller wrote.
    expect(report.data).toBeUndefined();
    const off = render({ values: { ...REQUIRED_VALUES, report: { enabled: false } } });
    expect(off.some((o) => o.metadata?.name === "kic-kube-image-cleanup-report")).toBe(false);
    expect(only(off, "Role", ROLE).rules).toEqual(
      roleRules(["create", "get", "list", "watch", "delete"]).slice(0, 3),
    );
  });

  it("creates no events Role with events.enabled=false", () => {
    const objects = render({ values: { ...REQUIRED_VALUES, events: { enabled: false } } });
    expect(objects.filter((o) => o.metadata?.namespace === "default")).toEqual([]);
  });
});
