// The pods the controller tells the agent it knew on the node, and the check after the agent's
// result: a deleted image a pod bound since then names is said in the node's section.
import { describe, expect, it } from "vitest";
import { knownPods, lateNeeds, lateNeedsNote } from "../../../src/controller/known-pods.js";
import { buildHelperPod, protectAnnotationValue } from "../../../src/controller/helper-pod.js";
import { slimPod, type SlimPod } from "../../../src/controller/pod-slim.js";
import { PROTECT_ANNOTATION, helperPodName } from "../../../src/run-model/labels.js";
import { loadRunConfig } from "../../../src/config/run-options.js";

const pod = (
  ns: string,
  name: string,
  uid: string,
  image: string,
  extra: Partial<SlimPod["metadata"]> = {},
): SlimPod => ({
  metadata: { namespace: ns, name, uid, ...extra },
  spec: { nodeName: "node-a", containers: [{ name: "app", image }] },
  status: { phase: "Pending" },
});
const helper = { namespace: "kic", runId: "r1", node: "node-a" };

describe("knownPods", () => {
  it("lists each pod's UID, a mirror pod's static pod UID too, and names the helper pod", () => {
    const mirror = pod("kube-system", "etcd-node-a", "mirror-uid", "registry.k8s.io/etcd:3.5", {
      annotations: { "kubernetes.io/config.mirror": "static-hash" },
    });
    const k = knownPods([pod("shop", "web", "uid-web", "acme/web:1"), slimPod(mirror)], helper);
    expect(k.uids).toEqual(["mirror-uid", "static-hash", "uid-web"]);
    expect(k.helper).toBe(`kic/${helperPodName("r1", "node-a")}`);
  });

  it("keeps the mirror annotation when a pod is cut down for the view, and nothing else of them", () => {
    const full = pod("kube-system", "etcd-node-a", "u", "etcd:1", {
      annotations: { "kubernetes.io/config.mirror": "static-hash", "other/annotation": "x" },
    });
    expect(slimPod(full).metadata?.annotations).toEqual({
      "kubernetes.io/config.mirror": "static-hash",
    });
    expect(slimPod(pod("a", "b", "u", "x:1")).metadata?.annotations).toBeUndefined();
  });

  it("travels in the helper pod's protect annotation with the images", () => {
    const config = loadRunConfig({ namespace: "kic", include: ["acme/*"] }, {});
    const known = knownPods([pod("shop", "web", "uid-web", "acme/web:1")], helper);
    const body = buildHelperPod({
      config,
      namespace: "kic",
      runId: "r1",
      node: "node-a",
      protect: ["acme/web:1"],
      knownPods: known,
      owner: undefined,
      createdAt: 0,
    });
    const value = body.metadata?.annotations?.[PROTECT_ANNOTATION] ?? "";
    expect(JSON.parse(value)).toEqual({ images: ["acme/web:1"], pods: known });
    expect(value).toBe(protectAnnotationValue(["acme/web:1"], known));
    // Without pods, the bare list older agents read.
    expect(protectAnnotationValue(["acme/web:1"])).toBe('["acme/web:1"]');
  });
});

describe("lateNeeds: deleted images pods bound since the protect list was read name", () => {
  const known = knownPods([pod("shop", "web", "uid-web", "acme/web:1")], helper);
  const deleted = [
    { id: `sha256:${"a".repeat(64)}`, names: ["docker.io/acme/web:1"], bytes: 1 },
    { id: `sha256:${"b".repeat(64)}`, names: ["docker.io/acme/late:2"], bytes: 1 },
    { id: `sha256:${"c".repeat(64)}`, names: ["docker.io/acme/byid:3"], bytes: 1 },
  ];

  it("names a new pod's image by its normalised name, and one named by id in its status", () => {
    const byId: SlimPod = {
      ...pod("ops", "x", "uid-x", "acme/other:9"),
      status: {
        phase: "Running",
        containerStatuses: [
          { name: "app", image: "acme/other:9", imageID: `sha256:${"c".repeat(64)}` },
        ],
      },
    };
    const needs = lateNeeds(
      [
        pod("shop", "web", "uid-web", "acme/web:1"),
        pod("shop", "late", "uid-late", "acme/late:2"),
        byId,
      ],
      known,
      deleted,
    );
    expect(needs).toEqual([
      { pod: "ops/x", image: "docker.io/acme/byid:3" },
      { pod: "shop/late", image: "docker.io/acme/late:2" },
    ]);
    expect(lateNeedsNote(needs.slice(1))).toBe(
      "deleted an image that a pod bound to the node after its protect list was read needs: docker.io/acme/late:2 (pod shop/late); the kubelet will pull it again",
    );
  });

  it("says nothing of known pods, the helper pod, or a new pod whose images are all still there", () => {
    const self = pod("kic", helperPodName("r1", "node-a"), "uid-helper", "acme/late:2");
    expect(lateNeeds([pod("shop", "web", "uid-web", "acme/web:1"), self], known, deleted)).toEqual(
      [],
    );
    expect(lateNeeds([pod("shop", "new", "uid-new", "acme/kept:1")], known, deleted)).toEqual([]);
  });
});
