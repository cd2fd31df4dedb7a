// Images mounted as volumes (Kubernetes 1.33+ `spec.volumes[].image`, containerd 2.1+): what crictl
// and ctr report for them, and that the plan and the re-check before a delete count them as in use.
// The shapes follow the CRI API (ContainerStatus.mounts[].image, an ImageSpec) as crictl v1.34
// prints it, and containerd 2's image volume snapshots (internal/cri/server/container_image_mount.go:
// the snapshot key is the mount point <state dir>/image-volumes/<sandbox id>/<target digest hex>).
// The local cluster runs containerd 1.6, which has no image volumes: the proof on a real runtime
// needs containerd 2.x (left to the runtime issue).
import { describe, expect, it } from "vitest";
import { compilePatterns } from "../../../src/config/patterns.js";
import { parseCrictlInspectMounts } from "../../../src/agent/crictl-parse.js";
import { parseCtrImageVolumeSnapshots } from "../../../src/agent/ctr-parse.js";
import type { ImageRecord, Inventory } from "../../../src/agent/inventory.js";
import { executePlan } from "../../../src/agent/execute.js";
import { planDeletions } from "../../../src/agent/plan.js";
import type { RuntimeAdapter, Usage } from "../../../src/agent/runtime.js";
import { pino } from "pino";

const MODEL_ID = "sha256:0c1bb19bf0b5a8c8d4ab5ff3a7a63d0e8e1e9a0c3e7bfb4fd0a0e86b05d2ab11";
const MODEL_TARGET = "sha256:e04268879f5839bb6bf68496b4905a5a18ab19c8bccc25067d7751730157107e";
const APP_ID = "sha256:86c106fee700f7f8b009c9e408105cec8bc59677c9e1d777e80dc1c485bf277a";
const SANDBOX = "4c1ea9e1d6f7d0a9c0f5f1e3b2a4c6d8e0f1a2b3c4d5e6f708192a3b4c5d6e7f";
const CONTAINER = "3f0c5e7a9b1d2c4e6f8a0b2c4d6e8f0a1b3c5d7e9f1a3b5c7d9e1f3a5b7c9d1e";
const STATE = "/run/containerd/io.containerd.grpc.v1.cri";

/** What crictl prints of every read-only mount of a pod's container (no propagation, no id mapping). */
const READ_ONLY_MOUNT = {
  propagation: "PROPAGATION_PRIVATE",
  readonly: true,
  selinuxRelabel: false,
  uidMappings: [],
  gidMappings: [],
  recursiveReadOnly: false,
};

/** `crictl inspect -o json <id>` of a container that mounts an image volume and a token volume. */
const inspectOne = {
  status: {
    id: CONTAINER,
    metadata: { attempt: 0, name: "app" },
    state: "CONTAINER_RUNNING",
    createdAt: "2026-12-01T10:00:00.000000000Z",
    startedAt: "2026-12-01T10:00:01.000000000Z",
    finishedAt: "0001-01-01T00:00:00Z",
    exitCode: 0,
    image: {
      annotations: {},
      image: "docker.io/acme/app:2",
      runtimeHandler: "",
      userSpecifiedImage: "",
    },
    imageRef:
      "docker.io/acme/app@sha256:1bd0e5f7cf4b8d0cd0e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1c2d3e4f5a6b7c8",
    imageId: APP_ID,
    reason: "",
    message: "",
    labels: { "io.kubernetes.container.name": "app", "io.kubernetes.pod.name": "trainer" },
    annotations: {},
    mounts: [
      {
        containerPath: "/model",
        hostPath: `${STATE}/image-volumes/${SANDBOX}/${MODEL_TARGET.slice(7)}`,
        ...READ_ONLY_MOUNT,
        image: {
          annotations: {},
          image: MODEL_ID,
          runtimeHandler: "",
          userSpecifiedImage: "quay.io/acme/model:v3",
        },
        imageSubPath: "",
      },
      {
        containerPath: "/var/run/secrets/kubernetes.io/serviceaccount",
        hostPath:
          "/var/lib/kubelet/pods/9f3e/volumes/kubernetes.io~projected/kube-api-access-x2v9q",
        ...READ_ONLY_MOUNT,
        imageSubPath: "",
      },
    ],
    logPath: "/var/log/pods/team-a_trainer_9f3e/app/0.log",
  },
  info: {
    sandboxID: SANDBOX,
    pid: 4242,
    removing: false,
    snapshotKey: CONTAINER,
    snapshotter: "overlayfs",
    runtimeType: "io.containerd.runc.v2",
    config: {
      metadata: { name: "app" },
      image: { image: APP_ID },
      mounts: [
        {
          container_path: "/model",
          host_path: `${STATE}/image-volumes/${SANDBOX}/${MODEL_TARGET.slice(7)}`,
          readonly: true,
          image: { image: MODEL_ID, user_specified_image: "quay.io/acme/model:v3" },
        },
      ],
    },
  },
};

/** A container with no image volume, as containerd 1.x reports every container. */
const inspectPlain = {
  status: {
    ...inspectOne.status,
    id: "9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d1e0f9a8b",
    mounts: [inspectOne.status.mounts[1]],
  },
  info: { ...inspectOne.info, config: { metadata: { name: "web" } } },
};

/** `ctr -n k8s.io snapshots ls` on a containerd 2.1 node running that pod. */
const snapshotsLs = [
  "KEY                                                                                                                                                    PARENT                                                                  KIND",
  `${STATE}/image-volumes/${SANDBOX}/${MODEL_TARGET.slice(7)} sha256:5f70bf18a086007016e948b04aed3b82103a36bea41755b6cddfaf10ace3c6ef Active`,
  `${CONTAINER}                                                         sha256:a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90 Active`,
  "sha256:5f70bf18a086007016e948b04aed3b82103a36bea41755b6cddfaf10ace3c6ef                                                                                       Committed",
  "",
].join("\n");

const model: ImageRecord = {
  id: MODEL_ID,
  names: ["quay.io/acme/model:v3"],
  digests: [MODEL_TARGET],
  sizeBytes: 5_000_000,
  pinned: false,
  refs: ["quay.io/acme/model:v3", MODEL_ID],
};

describe("image volumes as the runtime reports them", () => {
  it("crictl: reads the mounted image from a container's status mounts, one object or an array", () => {
    expect(parseCrictlInspectMounts(JSON.stringify(inspectOne))).toEqual(
      new Map([[CONTAINER, [MODEL_ID, "quay.io/acme/model:v3"]]]),
    );
    const both = parseCrictlInspectMounts(JSON.stringify([inspectOne, inspectPlain]));
    expect(both.get(CONTAINER)).toEqual([MODEL_ID, "quay.io/acme/model:v3"]);
    expect(both.get(inspectPlain.status.id)).toEqual([]);
  });

  it("crictl: falls back to the verbose config's mounts when the status has none", () => {
    const statusless = { ...inspectOne, status: { ...inspectOne.status, mounts: [] } };
    expect(parseCrictlInspectMounts(JSON.stringify(statusless)).get(CONTAINER)).toEqual([
      MODEL_ID,
      "quay.io/acme/model:v3",
    ]);
  });

  it("ctr: reads image volume snapshots as the sandbox and the image's target digest", () => {
    expect(parseCtrImageVolumeSnapshots(snapshotsLs)).toEqual([
      { images: [MODEL_TARGET], pod: `sandbox ${SANDBOX.slice(0, 12)}` },
    ]);
  });
});

describe("the plan counts a mounted image as in use", () => {
  const inventory = (imageVolumes: Inventory["imageVolumes"]): Inventory => ({
    images: [model],
    containers: [],
    sandboxes: [],
    ...(imageVolumes === undefined ? {} : { imageVolumes }),
    imageTimesKnown: false,
  });
  const options = {
    include: compilePatterns("--include", ["quay.io/acme/*"], "include"),
    exclude: [],
    protect: [],
    nowMs: 0,
  };

  it("would delete the image when nobody reports the mount (today's behaviour without volumes)", () => {
    expect(planDeletions(inventory(undefined), options).delete.map((i) => i.id)).toEqual([
      MODEL_ID,
    ]);
  });

  it("keeps it as in-use when crictl reports it mounted by a container", () => {
    const plan = planDeletions(
      inventory([
        {
          images: [MODEL_ID, "quay.io/acme/model:v3"],
          container: { id: CONTAINER, name: "app", state: "running" },
          pod: "team-a/trainer",
        },
      ]),
      options,
    );
    expect(plan.delete).toEqual([]);
    expect(plan.kept).toEqual([
      {
        id: MODEL_ID,
        names: ["quay.io/acme/model:v3"],
        reason: "in-use",
        detail: "mounted as an image volume by container app (running) of pod team-a/trainer",
      },
    ]);
  });

  it("keeps it as in-use when ctr finds its image volume snapshot", () => {
    const plan = planDeletions(inventory(parseCtrImageVolumeSnapshots(snapshotsLs)), options);
    expect(plan.delete).toEqual([]);
    expect(plan.kept[0]).toMatchObject({
      reason: "in-use",
      detail: `mounted as an image volume by pod sandbox ${SANDBOX.slice(0, 12)}`,
    });
  });

  it("keeps it when the mount appears between the plan and the delete (the re-check)", async () => {
    const removed: string[] = [];
    const adapter: RuntimeAdapter = {
      client: "crictl",
      socket: "/run/containerd/containerd.sock",
      version: () => Promise.resolve({}),
      inventory: () => Promise.resolve(inventory([])),
      usage: (): Promise<Usage> =>
        Promise.resolve({
          containers: [],
          sandboxes: [],
          imageVolumes: [{ images: [MODEL_ID], pod: "team-a/trainer" }],
        }),
      measure: () => Promise.resolve(),
      remove: (images) => {
        removed.push(...images.map((i) => i.id));
        return Promise.resolve({ errors: new Map(), alreadyGone: new Map() });
      },
      present: () => Promise.resolve(new Map([[MODEL_ID, [MODEL_ID]]])),
      imageFsSource: "crictl imagefsinfo",
      imageFsUsage: () => Promise.resolve({ usedBytes: 0, source: "crictl imagefsinfo" }),
    };
    const done = await executePlan([model], inventory([]), adapter, {
      dryRun: false,
      log: pino({ level: "silent" }),
    });
    expect(removed).toEqual([]);
    expect(done.keptLate[0]).toMatchObject({ id: MODEL_ID, reason: "in-use" });
  });
});
