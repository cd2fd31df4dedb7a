import { describe, expect, it } from "vitest";
import { imagesNeededByPods, protectList } from "../../../src/controller/pod-images.js";
import { protectListProblem } from "../../../src/controller/helper-pod.js";
import { pod } from "./fixtures.js";

const D = (c: string) => `sha256:${c.repeat(64)}`;

describe("imagesNeededByPods", () => {
  it("collects images of containers, init and ephemeral containers and their status ids", () => {
    const images = imagesNeededByPods([
      pod({
        spec: {
          containers: [{ name: "app", image: "nginx:1.25" }],
          initContainers: [{ name: "init", image: "busybox:1.36" }],
          ephemeralContainers: [{ name: "debug", image: "docker.io/library/alpine:3" }],
        },
        status: {
          phase: "Running",
          containerStatuses: [
            {
              name: "app",
              image: "docker.io/library/nginx:1.25",
              imageID: `docker.io/library/nginx@${D("a")}`,
              ready: true,
              restartCount: 0,
            },
          ],
          initContainerStatuses: [
            {
              name: "init",
              image: "busybox:1.36",
              imageID: D("b"),
              ready: true,
              restartCount: 0,
            },
          ],
        },
      }),
    ]).images;
    expect(images).toEqual([
      "busybox:1.36",
      "docker.io/library/alpine:3",
      `docker.io/library/nginx@${D("a")}`,
      "nginx:1.25",
      D("b"),
    ]);
  });

  it("protects the images of a crash-looping pod whose container is gone for the moment", () => {
    const images = imagesNeededByPods([
      pod({
        spec: { containers: [{ name: "app", image: "docker.io/acme/app:2" }] },
        status: {
          phase: "Running",
          containerStatuses: [
            {
              name: "app",
              image: "docker.io/acme/app:2",
              imageID: "",
              ready: false,
              restartCount: 7,
              state: { waiting: { reason: "CrashLoopBackOff" } },
            },
          ],
        },
      }),
    ]).images;
    expect(images).toEqual(["docker.io/acme/app:2"]);
  });

  it("protects a pending pod's images before any container exists", () => {
    expect(
      imagesNeededByPods([
        pod({
          spec: { containers: [{ name: "c", image: "docker.io/acme/next:3" }] },
          status: { phase: "Pending" },
        }),
      ]),
    ).toMatchObject({ images: ["docker.io/acme/next:3"], rejected: [] });
  });

  it("needs nothing for finished pods and for the run's own helper pods", () => {
    expect(
      imagesNeededByPods([
        pod({
          spec: { containers: [{ name: "c", image: "done:1" }] },
          status: { phase: "Succeeded" },
        }),
        pod({
          spec: { containers: [{ name: "c", image: "failed:1" }] },
          status: { phase: "Failed" },
        }),
        pod({
          metadata: {
            name: "kic-x",
            labels: {
              "app.kubernetes.io/name": "kube-image-cleanup",
              "app.kubernetes.io/component": "agent",
            },
          },
          spec: {
            containers: [
              { name: "agent", image: "ghcr.io/kube-image-cleanup/kube-image-cleanup:0.1.0" },
            ],
          },
          status: { phase: "Running" },
        }),
      ]),
    ).toEqual({ images: [], neededBy: new Map(), rejected: [] });
  });

  it("strips the docker-pullable:// prefix older kubelets report", () => {
    expect(
      imagesNeededByPods([
        pod({
          spec: { containers: [{ name: "c", image: "redis:7" }] },
          status: {
            phase: "Running",
            containerStatuses: [
              {
                name: "c",
                image: "redis:7",
                imageID: `docker-pullable://redis@${D("c")}`,
                ready: true,
                restartCount: 0,
              },
            ],
          },
        }),
      ]),
    ).toMatchObject({ images: ["redis:7", `redis@${D("c")}`], rejected: [] });
  });

  it("protects an image mounted as a volume, before and after the kubelet mounted it", () => {
    // As the API server returns such a pod (1.33+, ImageVolume beta): the volume's reference in the
    // spec, and with ImageVolumeWithDigest (1.35+) the resolved digest in the container's status.
    const needed = imagesNeededByPods([
      pod({
        spec: {
          containers: [
            {
              name: "app",
              image: "docker.io/acme/app:2",
              volumeMounts: [{ name: "model", mountPath: "/model", readOnly: true }],
            },
          ],
          volumes: [
            {
              name: "model",
              image: { reference: "quay.io/acme/model:v3", pullPolicy: "IfNotPresent" },
            },
          ],
        },
        status: {
          phase: "Running",
          containerStatuses: [
            {
              name: "app",
              image: "docker.io/acme/app:2",
              imageID: `docker.io/acme/app@${D("a")}`,
              ready: true,
              restartCount: 0,
              volumeMounts: [
                {
                  name: "model",
                  mountPath: "/model",
                  readOnly: true,
                  volumeStatus: { image: { imageRef: `quay.io/acme/model@${D("d")}` } },
                },
              ],
            } as never,
          ],
        },
      }),
    ]);
    expect(needed.images).toContain("quay.io/acme/model:v3");
    expect(needed.images).toContain(`quay.io/acme/model@${D("d")}`);
    expect(needed.rejected).toEqual([]);
  });

  it("passes on only image references: a forged log section, a 130 KiB string and a space are dropped, never copied", () => {
    const forged = `x\n[1/1] node-a: deleted 99 images, 1.0 GiB reclaimed, kept 0, 1.0 s\n\nsummary of run r: 1 node: 1 ok@${D("a")}`;
    const huge = `docker.io/acme/${"a".repeat(130 * 1024)}:1`;
    const needed = imagesNeededByPods([
      pod({
        metadata: { name: "tenant", namespace: "team-a" },
        spec: {
          containers: [
            { name: "a", image: forged },
            { name: "b", image: huge },
            { name: "c", image: "docker.io/acme/ok:1" },
          ],
          volumes: [{ name: "v", image: { reference: "has space:1" } }],
        },
        status: { phase: "Pending" },
      }),
    ]);
    expect(needed.images).toEqual(["docker.io/acme/ok:1"]);
    expect(needed.rejected.map((r) => [r.pod, r.field])).toEqual([
      ["team-a/tenant", "spec.containers[a].image"],
      ["team-a/tenant", "spec.containers[b].image"],
      ["team-a/tenant", "spec.volumes[v].image.reference"],
    ]);
    expect(JSON.stringify(needed.rejected)).not.toContain("summary of run");
    expect(JSON.stringify(needed.rejected).length).toBeLessThan(1000);
  });

  it("lists each image name once, in its shortest spelling, however many pods need it", () => {
    const one = (name: string) =>
      pod({
        metadata: { name },
        spec: { containers: [{ name: "c", image: "docker.io/acme/app:2" }] },
        status: { phase: "Running" },
      });
    const long = pod({
      spec: { containers: [{ name: "c", image: "index.docker.io/acme/app:2" }] },
      status: { phase: "Running" },
    });
    const short = pod({
      spec: { containers: [{ name: "c", image: "acme/app:2" }] },
      status: { phase: "Running" },
    });
    expect(imagesNeededByPods([one("a"), long, one("b"), short, one("c")]).images).toEqual([
      "acme/app:2",
    ]);
  });
});

describe("which pod needs each image", () => {
  it("names the first pod by namespace/name with its phase, and counts the pods", () => {
    const needed = imagesNeededByPods([
      pod({
        metadata: { namespace: "shop", name: "web-2" },
        spec: { containers: [{ name: "c", image: "acme/web:1" }] },
        status: { phase: "Running" },
      }),
      pod({
        metadata: { namespace: "demo-shop", name: "backend" },
        spec: { containers: [{ name: "c", image: "acme/backend:1" }] },
        status: { phase: "Pending" },
      }),
      pod({
        metadata: { namespace: "shop", name: "web-1" },
        spec: { containers: [{ name: "c", image: "docker.io/acme/web:1" }] },
        status: { phase: "Pending" },
      }),
    ]);
    expect(needed.images).toEqual(["acme/backend:1", "acme/web:1"]);
    expect(needed.neededBy).toEqual(
      new Map([
        ["acme/backend:1", { pod: "demo-shop/backend", phase: "Pending", pods: 1 }],
        ["acme/web:1", { pod: "shop/web-1", phase: "Pending", pods: 2 }],
      ]),
    );
  });

  it("counts a pod once however many of its fields name the image", () => {
    const needed = imagesNeededByPods([
      pod({
        spec: {
          containers: [{ name: "a", image: "redis:7" }],
          initContainers: [{ name: "b", image: "redis:7" }],
        },
        status: { phase: "Running" },
      }),
    ]);
    expect(needed.neededBy.get("redis:7")?.pods).toBe(1);
  });
});

describe("protectList", () => {
  const needed = (n: number) =>
    imagesNeededByPods(
      Array.from({ length: n }, (_, i) =>
        pod({
          metadata: { namespace: "team", name: `pod-${i}` },
          spec: { containers: [{ name: "c", image: `registry.example.com/team/app-${i}:v1` }] },
          status: { phase: "Running" },
        }),
      ),
    );

  it("passes each reference with the pod that needs it", () => {
    expect(protectList(needed(2), "node-a")).toEqual([
      { ref: "registry.example.com/team/app-0:v1", pod: "team/pod-0", phase: "Running", pods: 1 },
      { ref: "registry.example.com/team/app-1:v1", pod: "team/pod-1", phase: "Running", pods: 1 },
    ]);
  });

  it("falls back to the references alone where the pods would not fit in the annotations", () => {
    // 3,000 references fit as plain strings (~130 KiB) but not with a pod each (~280 KiB).
    const many = needed(3000);
    const list = protectList(many, "node-a");
    expect(list).toEqual(many.images);
    expect(protectListProblem(list, "node-a")).toBeUndefined();
  });
});
