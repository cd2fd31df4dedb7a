import { describe, expect, it } from "vitest";
import { imagesNeededByPods } from "../../../src/controller/pod-images.js";
import { pod } from "./fixtures.js";

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
              imageID: "docker.io/library/nginx@sha256:aaa",
              ready: true,
              restartCount: 0,
            },
          ],
          initContainerStatuses: [
            {
              name: "init",
              image: "busybox:1.36",
              imageID: "sha256:bbb",
              ready: true,
              restartCount: 0,
            },
          ],
        },
      }),
    ]);
    expect(images).toEqual([
      "busybox:1.36",
      "docker.io/library/alpine:3",
      "docker.io/library/nginx:1.25",
      "docker.io/library/nginx@sha256:aaa",
      "nginx:1.25",
      "sha256:bbb",
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
    ]);
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
    ).toEqual(["docker.io/acme/next:3"]);
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
    ).toEqual([]);
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
                imageID: "docker-pullable://redis@sha256:ccc",
                ready: true,
                restartCount: 0,
              },
            ],
          },
        }),
      ]),
    ).toEqual(["redis:7", "redis@sha256:ccc"]);
  });
});
