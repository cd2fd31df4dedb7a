// Workload protection's reading of templates, on an in-memory stand-in for the six list calls (the
// paging contract: limit and _continue). The real API server's answers are proven in
// test/e2e/workload-protection.test.ts.
import { describe, expect, it } from "vitest";
import { ApiException, type V1PodSpec } from "@kubernetes/client-node";
import { compilePatterns } from "../../../src/config/patterns.js";
import type { WorkloadApi } from "../../../src/kube/api.js";
import { readWorkloadImages, templateImages } from "../../../src/controller/workload-images.js";
import { protectList } from "../../../src/controller/pod-images.js";
import type { Plain } from "./fixtures.js";

/** A pod template spec, plain as the API server's answers arrive. */
function spec(images: string[], init: string[] = [], volume?: string): V1PodSpec {
  const plain: Plain<V1PodSpec> = {
    containers: images.map((image, i) => ({ name: `c${i}`, image })),
    initContainers: init.map((image, i) => ({ name: `i${i}`, image })),
    ...(volume === undefined ? {} : { volumes: [{ name: "v", image: { reference: volume } }] }),
  };
  return plain as V1PodSpec;
}

type Item = { metadata: { namespace: string; name: string } } & Record<string, unknown>;

/** Serves each kind's items in pages of `limit`, counting requests. */
function fakeApi(items: Partial<Record<keyof WorkloadApi, Item[]>>) {
  const calls: { call: string; limit: number; _continue?: string }[] = [];
  const page = (call: keyof WorkloadApi) => (p: { limit?: number; _continue?: string }) => {
    calls.push({ call, limit: p.limit ?? 0, ...(p._continue ? { _continue: p._continue } : {}) });
    const all = items[call] ?? [];
    const from = Number(p._continue ?? 0);
    const to = from + (p.limit ?? all.length);
    return Promise.resolve({
      items: all.slice(from, to),
      metadata: to < all.length ? { _continue: String(to) } : {},
    });
  };
  const api = {
    listDeploymentForAllNamespaces: page("listDeploymentForAllNamespaces"),
    listStatefulSetForAllNamespaces: page("listStatefulSetForAllNamespaces"),
    listDaemonSetForAllNamespaces: page("listDaemonSetForAllNamespaces"),
    listReplicaSetForAllNamespaces: page("listReplicaSetForAllNamespaces"),
    listJobForAllNamespaces: page("listJobForAllNamespaces"),
    listCronJobForAllNamespaces: page("listCronJobForAllNamespaces"),
  } as unknown as WorkloadApi;
  return { api, calls };
}

const meta = (namespace: string, name: string) => ({ namespace, name });

describe("workload templates", () => {
  it("names containers, init containers and image volumes", () => {
    expect(templateImages(spec(["a:1", "b:1"], ["c:1"], "d:1"))).toEqual([
      "a:1",
      "b:1",
      "c:1",
      "d:1",
    ]);
    expect(templateImages(undefined)).toEqual([]);
  });

  it("reads every kind in pages, and keeps each image with the first workload naming it", async () => {
    const deployments = Array.from({ length: 5 }, (_, i) => ({
      metadata: meta("shop", `web-${i}`),
      spec: { replicas: 0, template: { spec: spec(["docker.io/acme/web:1"]) } },
    }));
    const { api, calls } = fakeApi({
      listDeploymentForAllNamespaces: deployments,
      listCronJobForAllNamespaces: [
        {
          metadata: meta("ops", "backup"),
          spec: {
            suspend: true,
            jobTemplate: {
              spec: { template: { spec: spec(["busybox:1.36"], ["docker.io/acme/init:2"]) } },
            },
          },
        },
      ],
      listStatefulSetForAllNamespaces: [
        {
          metadata: meta("db", "pg"),
          spec: { template: { spec: spec(["postgres:16"], [], "docker.io/acme/data:1") } },
        },
      ],
    });
    const out = await readWorkloadImages(api, [], 2);
    expect(out.workloads).toBe(7);
    // 3 pages of deployments, 1 of each other kind.
    expect(out.requests).toBe(8);
    expect(calls.filter((c) => c.call === "listDeploymentForAllNamespaces")).toEqual([
      { call: "listDeploymentForAllNamespaces", limit: 2 },
      { call: "listDeploymentForAllNamespaces", limit: 2, _continue: "2" },
      { call: "listDeploymentForAllNamespaces", limit: 2, _continue: "4" },
    ]);
    expect(out.protect).toEqual([
      { ref: "busybox:1.36", neededBy: { workload: "cronjob ops/backup", workloads: 1 } },
      { ref: "docker.io/acme/data:1", neededBy: { workload: "statefulset db/pg", workloads: 1 } },
      { ref: "docker.io/acme/init:2", neededBy: { workload: "cronjob ops/backup", workloads: 1 } },
      {
        ref: "docker.io/acme/web:1",
        neededBy: { workload: "deployment shop/web-0", workloads: 5 },
      },
      { ref: "postgres:16", neededBy: { workload: "statefulset db/pg", workloads: 1 } },
    ]);
  });

  it("drops references an --exclude matches, and strings that are no image reference", async () => {
    const { api } = fakeApi({
      listJobForAllNamespaces: [
        {
          metadata: meta("a", "j"),
          spec: { template: { spec: spec(["docker.io/keep/x:1", "Not An Image", "y:1"]) } },
        },
      ],
    });
    const out = await readWorkloadImages(
      api,
      compilePatterns("--exclude", ["docker.io/keep/*"], "exclude"),
    );
    expect(out.protect.map((p) => p.ref)).toEqual(["y:1"]);
  });

  it("stops the run with the chart value to set when a kind may not be listed", async () => {
    const { api } = fakeApi({});
    (api as { listCronJobForAllNamespaces: unknown }).listCronJobForAllNamespaces = () =>
      Promise.reject(
        new ApiException(
          403,
          "Forbidden",
          JSON.stringify({ message: "cronjobs.batch is forbidden" }),
          {},
        ),
      );
    await expect(readWorkloadImages(api, [])).rejects.toThrow(/cronjobs.*protect\.workloads/s);
  });
});

describe("the protect list with workloads", () => {
  it("adds workload entries for images no pod on the node needs; a pod's entry wins", () => {
    const needed = {
      images: ["docker.io/acme/web:1"],
      neededBy: new Map([
        ["docker.io/acme/web:1", { pod: "shop/web-x", pods: 1, phase: "Running" }],
      ]),
      rejected: [],
    };
    const list = protectList(needed, "node-a", [
      { ref: "acme/web:1", neededBy: { workload: "deployment shop/web", workloads: 1 } },
      { ref: "busybox:1.36", neededBy: { workload: "cronjob ops/backup", workloads: 1 } },
    ]);
    expect(list).toEqual([
      { ref: "docker.io/acme/web:1", pod: "shop/web-x", phase: "Running", pods: 1 },
      { ref: "busybox:1.36", workload: "cronjob ops/backup", workloads: 1 },
    ]);
  });
});
