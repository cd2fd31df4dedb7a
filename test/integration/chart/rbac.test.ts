// The chart's RBAC on the real API server: `helm install` into namespaces of their own, then ask the
// authorizer (`kubectl auth can-i --as=<service account>`) about every verb the controller uses and
// a list of dangerous ones, with rbac.allowPodDeletion true and false; then `helm test` runs the
// chart's own permission check in a pod, and uninstall removes the cluster-scoped objects.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { kubectl } from "../../support/cluster.js";
import { helm, helmOk, installInNewNamespace, kubectlResult, uniqueName } from "./release.js";

interface Release {
  name: string;
  ns: string;
  values: Record<string, unknown>;
}

const allow: Release = { name: "allow", ns: uniqueName("kic-chart-rbac"), values: {} };
const keep: Release = {
  name: "keep",
  ns: uniqueName("kic-chart-keep"),
  values: { rbac: { allowPodDeletion: false } },
};
// No roles from the chart, and a service account without any permission: `helm test` must fail.
const bare: Release = {
  name: "bare",
  ns: uniqueName("kic-chart-bare"),
  values: { rbac: { create: false }, serviceAccount: { create: false, name: "bare" } },
};
const releases = [allow, keep, bare];
const sa = (r: Release) => `system:serviceaccount:${r.ns}:${r.name}-kube-image-cleanup`;

/** "yes" or "no" from the API server's authorizer for the service account. */
async function canI(r: Release, verb: string, resource: string, where: string[]): Promise<string> {
  // `can-i create pods/exec` would ask about a pod named "exec": subresources go in --subresource.
  const [res0, sub] = resource.split("/");
  const args = [
    "auth",
    "can-i",
    verb,
    res0 ?? resource,
    ...(sub ? [`--subresource=${sub}`] : []),
    ...where,
  ];
  const res = await kubectlResult([...args, `--as=${sa(r)}`]);
  // `auth can-i` exits 1 for "no"; anything else (an error) has no yes/no on stdout.
  return res.stdout.trim();
}

const inNs = (r: Release) => ["-n", r.ns];
const cluster = (): string[] => [];
const allNs = () => ["--all-namespaces"];

/** [verb, resource (with --subresource if any), scope] the controller uses. */
const needed = (r: Release): [string, string, string[]][] => [
  ["list", "nodes", cluster()],
  ["list", "pods", allNs()],
  // The shared pod view (src/controller/pod-view.ts): one list + watch of every pod, in place of a
  // list per node.
  ["watch", "pods", allNs()],
  ["create", "pods", inNs(r)],
  ["get", "pods", inNs(r)],
  ["list", "pods", inNs(r)],
  ["watch", "pods", inNs(r)],
  ["get", "pods/log", inNs(r)],
  ["list", "events", inNs(r)],
  // Events about Nodes (events.enabled, default true): create only, only in default.
  ["create", "events", ["-n", "default"]],
  // Workload protection (protect.workloads, default true): list, and only list, on six kinds.
  ["list", "deployments.apps", allNs()],
  ["list", "statefulsets.apps", allNs()],
  ["list", "daemonsets.apps", allNs()],
  ["list", "replicasets.apps", allNs()],
  ["list", "jobs.batch", allNs()],
  ["list", "cronjobs.batch", allNs()],
];

const dangerous = (r: Release): [string, string, string[]][] => [
  ["get", "secrets", inNs(r)],
  ["list", "secrets", allNs()],
  ["create", "pods/exec", inNs(r)],
  ["create", "pods/attach", inNs(r)],
  ["get", "nodes/proxy", cluster()],
  // The controller only lists nodes (src/kube/api.ts has no readNode).
  ["get", "nodes", cluster()],
  ["delete", "nodes", cluster()],
  ["patch", "nodes", cluster()],
  ["create", "pods", ["-n", "default"]],
  ["create", "pods", ["-n", "kube-system"]],
  ["delete", "pods", ["-n", "default"]],
  ["get", "pods", ["-n", "kube-system"]],
  ["update", "pods", inNs(r)],
  ["patch", "pods", inNs(r)],
  ["create", "pods/eviction", inNs(r)],
  ["create", "rolebindings", inNs(r)],
  ["create", "clusterrolebindings", cluster()],
  ["escalate", "roles", inNs(r)],
  ["impersonate", "serviceaccounts", inNs(r)],
  ["create", "serviceaccounts/token", inNs(r)],
  ["list", "events", ["-n", "default"]],
  ["create", "events", ["-n", "kube-system"]],
  ["create", "configmaps", inNs(r)],
  ["list", "configmaps", inNs(r)],
  // Workloads are listed, never read one by one, watched or changed.
  ["get", "deployments.apps", inNs(r)],
  ["watch", "cronjobs.batch", allNs()],
  ["patch", "deployments.apps", inNs(r)],
  ["delete", "cronjobs.batch", inNs(r)],
  ["list", "secrets", inNs(r)],
];

async function answers(
  r: Release,
  checks: [string, string, string[]][],
): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const [verb, resource, where] of checks) {
    out[`${verb} ${resource} ${where.join(" ") || "(cluster)"}`] = await canI(
      r,
      verb,
      resource,
      where,
    );
  }
  return out;
}

const all = (checks: [string, string, string[]][], answer: string) =>
  Object.fromEntries(
    checks.map(([verb, resource, where]) => [
      `${verb} ${resource} ${where.join(" ") || "(cluster)"}`,
      answer,
    ]),
  );

describe("chart RBAC on the real API server", () => {
  beforeAll(async () => {
    for (const r of releases) await installInNewNamespace(r.name, r.ns, r.values);
    await kubectl(["create", "serviceaccount", "-n", bare.ns, "bare"]);
  });

  afterAll(async () => {
    for (const r of releases) {
      await helm(["uninstall", r.name, "--namespace", r.ns]);
      await kubectl(["delete", "namespace", r.ns, "--wait=false"]);
    }
  });

  it("with allowPodDeletion=true grants every verb the controller uses, pod delete included, and none of the dangerous ones", async () => {
    expect(await answers(allow, needed(allow))).toEqual(all(needed(allow), "yes"));
    expect(await canI(allow, "delete", "pods", inNs(allow))).toBe("yes");
    expect(await answers(allow, dangerous(allow))).toEqual(all(dangerous(allow), "no"));
  });

  it("with allowPodDeletion=false grants the same minus pod delete", async () => {
    expect(await answers(keep, needed(keep))).toEqual(all(needed(keep), "yes"));
    expect(await canI(keep, "delete", "pods", inNs(keep))).toBe("no");
    expect(await answers(keep, dangerous(keep))).toEqual(all(dangerous(keep), "no"));
  });

  it("does not let one release's service account touch another release's namespace", async () => {
    expect(await canI(allow, "create", "pods", inNs(keep))).toBe("no");
    expect(await canI(allow, "delete", "pods", inNs(keep))).toBe("no");
    expect(await canI(keep, "get", "pods/log", inNs(allow))).toBe("no");
  });

  it("helm test passes for both and reports what it checked", async () => {
    const a = await helm([
      "test",
      allow.name,
      "--namespace",
      allow.ns,
      "--logs",
      "--timeout",
      "120s",
    ]);
    expect(a.stderr).toBe("");
    expect(a.code).toBe(0);
    expect(a.stdout).toContain(`ok       delete pods in namespace ${allow.ns}`);
    expect(a.stdout).toContain("ok       denied: get secrets in namespace");
    expect(a.stdout).toContain("ok       create events in namespace default");
    expect(a.stdout).toContain(
      `ok       update configmaps allow-kube-image-cleanup-report in namespace ${allow.ns}`,
    );
    expect(a.stdout).toContain(
      `ok       denied: get configmaps some-other-configmap in namespace ${allow.ns}`,
    );
    expect(a.stdout).toContain("the service account has every permission a run needs");
    // The pod stays for its log; its ConfigMap goes once every test passed.
    expect(
      await kubectl([
        "get",
        "pod",
        "-n",
        allow.ns,
        "allow-kube-image-cleanup-test-access",
        "-o",
        "jsonpath={.status.phase}",
      ]),
    ).toBe("Succeeded");
    expect(
      (
        await kubectlResult([
          "get",
          "configmap",
          "-n",
          allow.ns,
          "allow-kube-image-cleanup-test-access",
        ])
      ).stderr,
    ).toContain("NotFound");

    const k = await helm([
      "test",
      keep.name,
      "--namespace",
      keep.ns,
      "--logs",
      "--timeout",
      "120s",
    ]);
    expect(k.code).toBe(0);
    expect(k.stdout).toContain(`ok       denied: delete pods in namespace ${keep.ns}`);
    expect(k.stdout).not.toContain("MISSING");
  });

  it("helm test fails, naming each missing permission, for a service account without them", async () => {
    const r = await helm(["test", bare.name, "--namespace", bare.ns, "--timeout", "120s"]);
    expect(r.code).not.toBe(0);
    // The failed test pod is kept for its log.
    const log = await kubectl(["logs", "-n", bare.ns, "bare-kube-image-cleanup-test-access"]);
    expect(log).toContain("MISSING  list nodes cluster-wide");
    expect(log).toContain("MISSING  list pods cluster-wide");
    expect(log).toContain(`MISSING  create pods in namespace ${bare.ns}`);
    expect(log).toContain(`MISSING  get pods/log in namespace ${bare.ns}`);
    expect(log).toContain("MISSING  create events in namespace default");
    // 9 for the cleanup, 1 for Events, 2 for the run report.
    expect(log).toContain("12 permission(s) missing");
  });

  it("helm uninstall removes the ClusterRole and ClusterRoleBinding, and the events Role in default", async () => {
    const name = `keep-kube-image-cleanup-${keep.ns}`;
    expect((await kubectlResult(["get", "clusterrole", name, "-o", "name"])).stdout.trim()).toBe(
      `clusterrole.rbac.authorization.k8s.io/${name}`,
    );
    await helmOk(["uninstall", keep.name, "--namespace", keep.ns]);
    const role = await kubectlResult(["get", "clusterrole", name]);
    const binding = await kubectlResult(["get", "clusterrolebinding", name]);
    expect(role.stderr).toContain("NotFound");
    expect(binding.stderr).toContain("NotFound");
    const events = await kubectlResult(["get", "role,rolebinding", "-n", "default", name]);
    expect(events.stderr).toContain("NotFound");
  });
});
