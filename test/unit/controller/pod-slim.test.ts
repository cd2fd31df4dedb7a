// The cut the shared pod view keeps of each pod: it must never lose an image protection reads
// (pod-images.ts), and must drop everything else.
import type { ResponseContext } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import { imagesNeededByPods } from "../../../src/controller/pod-images.js";
import {
  MIRROR_ANNOTATION,
  packPod,
  slimPod,
  slimPodList,
  unpackPod,
  type SlimPod,
} from "../../../src/controller/pod-slim.js";
import {
  APP_NAME,
  COMPONENT_LABEL,
  HELPER_COMPONENT,
  NAME_LABEL,
} from "../../../src/run-model/labels.js";

const D = (c: string) => `sha256:${c.repeat(64)}`;

/** Every field protection reads, and some it never does. */
function fullPod(name: string, labels: Record<string, string> = {}): SlimPod {
  const full = {
    metadata: {
      namespace: "shop",
      name,
      uid: `uid-${name}`,
      labels: { app: name, ...labels },
      annotations: { "kubectl.kubernetes.io/last-applied-configuration": "x".repeat(2000) },
      managedFields: [{ manager: "kubectl", fieldsV1: { a: 1 } }],
    },
    spec: {
      nodeName: "n1",
      containers: [{ name: "app", image: "nginx:1.25", env: [{ name: "A", value: "b" }] }],
      initContainers: [{ name: "init", image: "busybox:1.36" }],
      ephemeralContainers: [{ name: "debug", image: "alpine:3" }],
      volumes: [
        {
          name: "data",
          image: { reference: "registry.example/data:v1", pullPolicy: "IfNotPresent" },
        },
        { name: "cfg", configMap: { name: "cfg" } },
      ],
    },
    status: {
      phase: "Running",
      conditions: [{ type: "Ready", status: "True" }],
      containerStatuses: [
        {
          name: "app",
          image: "docker.io/library/nginx:1.25",
          imageID: `docker.io/library/nginx@${D("a")}`,
          ready: true,
          restartCount: 3,
          volumeMounts: [
            { name: "data", mountPath: "/d", volumeStatus: { image: { imageRef: D("c") } } },
            { name: "cfg", mountPath: "/c" },
          ],
        },
      ],
      initContainerStatuses: [{ name: "init", image: "busybox:1.36", imageID: D("b") }],
      ephemeralContainerStatuses: [{ name: "debug", image: "alpine:3", imageID: D("e") }],
    },
  };
  return full;
}

describe("slimPod", () => {
  it("keeps every image protection reads: the protect list of the cut pod equals the full pod's", () => {
    const full = fullPod("web");
    const cut = slimPod(full);
    expect(imagesNeededByPods([cut])).toEqual(imagesNeededByPods([full]));
    expect(imagesNeededByPods([cut]).images).toHaveLength(8);
  });

  it("drops what protection never reads (annotations, managedFields, env, conditions, other volumes)", () => {
    const cut = slimPod(fullPod("web"));
    expect(cut.metadata).toEqual({ namespace: "shop", name: "web", uid: "uid-web" });
    expect(cut.spec?.volumes).toEqual([
      { name: "data", image: { reference: "registry.example/data:v1" } },
    ]);
    expect(cut.spec?.containers).toEqual([{ name: "app", image: "nginx:1.25" }]);
    expect(cut.status?.containerStatuses?.[0]?.volumeMounts).toEqual([
      { name: "data", volumeStatus: { image: { imageRef: D("c") } } },
    ]);
    expect(JSON.stringify(cut).length).toBeLessThan(JSON.stringify(fullPod("web")).length / 3);
  });

  it("keeps the labels that mark a helper pod, so a cut helper pod still protects nothing", () => {
    const helper = fullPod("kic-x", {
      [NAME_LABEL]: APP_NAME,
      [COMPONENT_LABEL]: HELPER_COMPONENT,
    });
    const cut = slimPod(helper);
    expect(cut.metadata?.labels).toEqual({
      [NAME_LABEL]: APP_NAME,
      [COMPONENT_LABEL]: HELPER_COMPONENT,
    });
    expect(imagesNeededByPods([cut]).images).toEqual([]);
  });
});

describe("packPod / unpackPod (how the shared pod view holds each pod)", () => {
  it("gives back exactly the cut pod: every field protection reads, helper labels, a mirror pod's UID", () => {
    const pods: SlimPod[] = [
      fullPod("web"),
      fullPod("kic-x", { [NAME_LABEL]: APP_NAME, [COMPONENT_LABEL]: HELPER_COMPONENT }),
      {
        metadata: {
          namespace: "kube-system",
          name: "etcd-n1",
          uid: "m-1",
          annotations: { [MIRROR_ANNOTATION]: "static-uid" },
        },
        spec: { nodeName: "n1", containers: [{ name: "etcd" }] },
        status: {
          containerStatuses: [
            { name: "etcd", volumeMounts: [{ volumeStatus: { image: { imageRef: null } } }] },
          ],
        },
      },
      {},
    ];
    for (const pod of pods) {
      expect(unpackPod(packPod(pod))).toEqual(slimPod(pod));
      expect(imagesNeededByPods([unpackPod(packPod(pod))])).toEqual(imagesNeededByPods([pod]));
    }
  });

  it("is smaller than the cut pod's JSON (no keys)", () => {
    const pod = fullPod("web");
    expect(packPod(pod).length).toBeLessThan(JSON.stringify(slimPod(pod)).length * 0.8);
  });
});

describe("slimPodList", () => {
  it("cuts every pod of a list page before client-node reads it, and keeps the list's metadata", async () => {
    const page = {
      kind: "PodList",
      metadata: { resourceVersion: "42", continue: "abc" },
      items: [fullPod("a"), fullPod("b")],
    };
    const response = {
      httpStatusCode: 200,
      body: {
        text: () => Promise.resolve(JSON.stringify(page)),
        binary: () => Promise.reject(new Error("unused")),
      },
    } as unknown as ResponseContext;
    const out = await slimPodList.post(response).toPromise();
    const parsed = JSON.parse(await out.body.text()) as typeof page;
    expect(parsed.metadata).toEqual(page.metadata);
    expect(parsed.items).toEqual(page.items.map(slimPod));
  });

  it("leaves an error answer alone (the caller reads the server's Status)", async () => {
    const body = { text: () => Promise.resolve('{"kind":"Status","code":403}') };
    const response = { httpStatusCode: 403, body } as unknown as ResponseContext;
    const out = await slimPodList.post(response).toPromise();
    expect(await out.body.text()).toBe('{"kind":"Status","code":403}');
  });
});
