// The client output parsers, on output captured from crictl v1.34 and ctr 1.6 against containerd 1.6.
import { describe, expect, it } from "vitest";
import {
  findSandboxImage,
  parseCrictlContainers,
  parseCrictlImages,
  parseCrictlInspectp,
  parseCrictlPods,
  parseCrictlVersion,
} from "../../../src/agent/crictl-parse.js";
import {
  groupCtrImages,
  parseCtrContainerInfo,
  parseCtrContainers,
  parseCtrSnapshotChains,
  parseCtrSnapshots,
  parseCtrContentAges,
  parseCtrImageList,
  parseCtrTasks,
  parseCtrVersion,
} from "../../../src/agent/ctr-parse.js";
import { planDeletions } from "../../../src/agent/plan.js";
import { compilePatterns } from "../../../src/config/patterns.js";

const ID_A = "sha256:86c106fee700f7f8b009c9e408105cec8bc59677c9e1d777e80dc1c485bf277a";
const ID_P = "sha256:93274e5478de60d5074ea3076cb8dd0478509a83d94b3953a6e8c8d0b303318a";
const MF_A = "sha256:e04268879f5839bb6bf68496b4905a5a18ab19c8bccc25067d7751730157107e";
const MF_P = "sha256:78235d6233c0be7cc32e7ea1e5858add9b9bb8a785daf6e3dc66bfe4d20fb896";

describe("crictl parsers", () => {
  it("reads images with tags, repo digests, size and pinned", () => {
    const json = JSON.stringify({
      images: [
        {
          id: ID_A,
          repoTags: ["docker.io/library/kic-explore:a1"],
          repoDigests: [`docker.io/library/kic-explore@${MF_A}`],
          size: "2141079",
          username: "",
          pinned: false,
        },
        { id: ID_P, repoTags: [], repoDigests: [], size: "1434295", pinned: true },
        {
          id: "sha256:" + "c".repeat(64),
          repoTags: ["<none>:<none>"],
          repoDigests: ["<none>@<none>"],
          size: "5",
        },
      ],
    });
    expect(parseCrictlImages(json)).toEqual([
      {
        id: ID_A,
        names: ["docker.io/library/kic-explore:a1", `docker.io/library/kic-explore@${MF_A}`],
        digests: [MF_A],
        sizeBytes: 2141079,
        pinned: false,
        refs: [],
      },
      { id: ID_P, names: [], digests: [], sizeBytes: 1434295, pinned: true, refs: [] },
      {
        id: "sha256:" + "c".repeat(64),
        names: [],
        digests: [],
        sizeBytes: 5,
        pinned: false,
        refs: [],
      },
    ]);
  });

  it("reads containers in every state with their pod", () => {
    const json = JSON.stringify({
      containers: [
        {
          id: "7a89",
          podSandboxId: "6553",
          metadata: { name: "kx-c" },
          image: { image: "docker.io/library/kic-explore:a1", userSpecifiedImage: "" },
          imageRef: ID_A,
          state: "CONTAINER_CREATED",
          imageId: "",
        },
        {
          id: "7a90",
          podSandboxId: "none",
          metadata: { name: "done" },
          image: { image: ID_A },
          imageRef: ID_A,
          state: "CONTAINER_EXITED",
        },
        { id: "7a91", metadata: { name: "r" }, image: { image: "x" }, state: "CONTAINER_RUNNING" },
        { id: "7a92", metadata: { name: "u" }, image: { image: "y" }, state: "CONTAINER_UNKNOWN" },
      ],
    });
    const got = parseCrictlContainers(json, new Map([["6553", "kx/kx-pod"]]));
    expect(got[0]).toEqual({
      id: "7a89",
      name: "kx-c",
      state: "created",
      images: [ID_A, "docker.io/library/kic-explore:a1"],
      pod: "kx/kx-pod",
    });
    expect(got.map((c) => c.state)).toEqual(["created", "exited", "running", "unknown"]);
    expect(got[1]?.images).toEqual([ID_A]);
  });

  it("reads pods and the sandbox image from inspectp, one object or an array", () => {
    expect(
      parseCrictlPods(
        JSON.stringify({ items: [{ id: "6553", metadata: { name: "kx-pod", namespace: "kx" } }] }),
      ),
    ).toEqual([{ id: "6553", pod: "kx/kx-pod", ready: false }]);
    // The pod's UID and whether the sandbox runs: a pod the controller did not know stops removals.
    expect(
      parseCrictlPods(
        JSON.stringify({
          items: [
            {
              id: "77aa",
              metadata: { name: "web", namespace: "shop", uid: "5e0c-uid", attempt: 0 },
              state: "SANDBOX_READY",
            },
            {
              id: "77bb",
              metadata: { name: "job", namespace: "b", uid: "1" },
              state: "SANDBOX_NOTREADY",
            },
          ],
        }),
      ),
    ).toEqual([
      { id: "77aa", pod: "shop/web", uid: "5e0c-uid", ready: true },
      { id: "77bb", pod: "b/job", uid: "1", ready: false },
    ]);
    const one = { status: { id: "6553" }, info: { image: "registry.k8s.io/pause:kic" } };
    expect(parseCrictlInspectp(JSON.stringify(one))).toEqual(
      new Map([["6553", "registry.k8s.io/pause:kic"]]),
    );
    expect(parseCrictlInspectp(JSON.stringify([one, { status: { id: "x" }, info: {} }])).size).toBe(
      1,
    );
  });

  it("finds the configured sandbox image in containerd 1.x, containerd 2 and CRI-O info", () => {
    expect(
      findSandboxImage({ config: { containerd: {}, sandboxImage: "registry.k8s.io/pause:kic" } }),
    ).toBe("registry.k8s.io/pause:kic");
    expect(
      findSandboxImage({ config: { pinnedImages: { sandbox: "registry.k8s.io/pause:3.10" } } }),
    ).toBe("registry.k8s.io/pause:3.10");
    expect(findSandboxImage({ config: { pause_image: "registry.k8s.io/pause:3.9" } })).toBe(
      "registry.k8s.io/pause:3.9",
    );
    expect(findSandboxImage({ status: { conditions: [] } })).toBeUndefined();
  });

  it("reads runtime name and version", () => {
    const text =
      "Version:  0.1.0\nRuntimeName:  containerd\nRuntimeVersion:  1.6.20~ds1\nRuntimeApiVersion:  v1\n";
    expect(parseCrictlVersion(text)).toEqual({ name: "containerd", version: "1.6.20~ds1" });
  });
});

// Shaped like CRI-O 1.2x through crictl: image ids are bare 64-hex (no sha256:), and a container's
// image and imageRef can be that bare id.
const CRIO_ID = "f9c3c1813269c3fc2f4a3e2b4e3e6e3d9a0c4b8e2f1a7d6c5b4a39281706f5e4";
const CRIO_PAUSE = "350b164e7ae1dcddeffadd65c76226c9b6dc5553f5179153fb0e36b78f2a5e06";
const CRIO_IMAGES = JSON.stringify({
  images: [
    {
      id: CRIO_ID,
      repoTags: ["quay.io/acme/app:1"],
      repoDigests: [`quay.io/acme/app@${MF_A}`],
      size: "191713520",
      uid: null,
      username: "",
      spec: null,
      pinned: false,
    },
    {
      id: CRIO_PAUSE,
      repoTags: ["registry.k8s.io/pause:3.10"],
      repoDigests: [`registry.k8s.io/pause@${MF_P}`],
      size: "742080",
      uid: { value: "65535" },
      username: "",
      spec: null,
      pinned: true,
    },
  ],
});
const CRIO_PS = JSON.stringify({
  containers: [
    {
      id: "1b7c3a9e",
      podSandboxId: "9f0e",
      metadata: { name: "app", attempt: 0 },
      image: { image: CRIO_ID, annotations: {}, userSpecifiedImage: "" },
      imageRef: CRIO_ID,
      state: "CONTAINER_EXITED",
      createdAt: "1733050000000000000",
      labels: {},
      annotations: {},
    },
  ],
});

describe("CRI-O output", () => {
  it("keeps the bare hex id as the image id, never as a name", () => {
    const [app] = parseCrictlImages(CRIO_IMAGES);
    expect(app).toMatchObject({
      id: CRIO_ID,
      names: ["quay.io/acme/app:1", `quay.io/acme/app@${MF_A}`],
      digests: [MF_A],
    });
    expect(parseCrictlContainers(CRIO_PS, new Map())[0]?.images).toEqual([CRIO_ID]);
  });

  it("keeps an image whose exited container names it by its bare id", () => {
    const plan = planDeletions(
      {
        images: parseCrictlImages(CRIO_IMAGES),
        containers: parseCrictlContainers(CRIO_PS, new Map([["9f0e", "ns/app-0"]])),
        sandboxes: [],
        configuredSandboxImage: "registry.k8s.io/pause:3.10",
        imageTimesKnown: false,
      },
      {
        include: compilePatterns("--include", ["quay.io/acme/*"], "include"),
        exclude: [],
        protect: [],
        nowMs: 0,
      },
    );
    expect(plan.delete).toEqual([]);
    expect(plan.kept).toEqual([
      {
        id: CRIO_ID,
        names: ["quay.io/acme/app:1", `quay.io/acme/app@${MF_A}`],
        reason: "in-use",
        detail: "container app (exited) of pod ns/app-0",
      },
      {
        id: CRIO_PAUSE,
        names: ["registry.k8s.io/pause:3.10", `registry.k8s.io/pause@${MF_P}`],
        reason: "no-match",
      },
    ]);
  });
});

const CTR_IMAGES = `REF                                                                     TYPE                                       DIGEST                                                                  SIZE      PLATFORMS   LABELS                          
docker.io/library/kic-explore:a1                                        application/vnd.oci.image.manifest.v1+json ${MF_A} 2.0 MiB   linux/amd64 io.cri-containerd.image=managed 
docker.io/library/kic-explore@${MF_A} application/vnd.oci.image.manifest.v1+json ${MF_A} 2.0 MiB   linux/amd64 io.cri-containerd.image=managed 
registry.k8s.io/pause:kic                                               application/vnd.oci.image.manifest.v1+json ${MF_P} 1.4 MiB   linux/amd64 io.cri-containerd.image=managed,io.cri-containerd.pinned=pinned 
${ID_A} application/vnd.oci.image.manifest.v1+json ${MF_A} 2.0 MiB   linux/amd64 io.cri-containerd.image=managed 
${ID_P} application/vnd.oci.image.manifest.v1+json ${MF_P} 1.4 MiB   linux/amd64 io.cri-containerd.image=managed 
docker.io/library/plain:1                                               application/vnd.oci.image.manifest.v1+json sha256:${"f".repeat(64)} 10.7 KiB  linux/amd64 - 
`;

// `ctr containers info` (containerd 1.6), trimmed to the fields read; Spec left out.
const CRI_META =
  "eyJWZXJzaW9uIjoidjEiLCJNZXRhZGF0YSI6eyJJRCI6IjJmMjcwMDQ5Nzg4M2M0YzIzMzE5M2RkM2E1NzM2YWIxZjZiNjE3NTAyNDQzNTU4M2NkZDc2NzYwYzU3Njg2Y2MiLCJOYW1lIjoiY3JpLWNfcC1jcmktY19raWMtYWdlbnQtaXRfdV8wIiwiU2FuZGJveElEIjoiNDI4ZWY1NTU1MzAwNGE5Y2E3YjIwY2VhMDBhZDI4Yjg1OTlkYmIxNjA3OGYwMmNmNzc4MTU1ZDdmYzdhNzFkZSIsIkNvbmZpZyI6eyJtZXRhZGF0YSI6eyJuYW1lIjoiY3JpLWMifSwiaW1hZ2UiOnsiaW1hZ2UiOiJkb2NrZXIuaW8va2ljLXgvYXBwOjEifSwiY29tbWFuZCI6WyJzbGVlcCIsIjM2MDAiXSwibGludXgiOnt9fSwiSW1hZ2VSZWYiOiJzaGEyNTY6MjgxMWY4N2QwOTcyNjBlYWU0MDUxYTU2ZGY1NjMxNWMwMGY2MjY2NTFjMTdmYjE1ZGFiZTZiYmQ5MDBlNTkyMSIsIkxvZ1BhdGgiOiIiLCJTdG9wU2lnbmFsIjoiIiwiUHJvY2Vzc0xhYmVsIjoiIn19";
const CTR_INFO_CRI = `{
    "ID": "2f2700497883c4c233193dd3a5736ab1f6b6175024435583cdd76760c57686cc",
    "Labels": {
        "io.cri-containerd.kind": "container"
    },
    "Image": "docker.io/kic-x/app:1",
    "Runtime": {
        "Name": "io.containerd.runc.v2",
        "Options": null
    },
    "SnapshotKey": "2f2700497883c4c233193dd3a5736ab1f6b6175024435583cdd76760c57686cc",
    "Snapshotter": "overlayfs",
    "CreatedAt": "2026-12-01T11:39:14.584918026Z",
    "UpdatedAt": "2026-12-01T11:39:14.584918026Z",
    "Extensions": {
        "io.cri-containerd.container.metadata": {
            "type_url": "github.com/containerd/cri/pkg/store/container/Metadata",
            "value": "${CRI_META}"
        }
    }
}`;
const CTR_INFO_PLAIN = `{
    "ID": "plain-run",
    "Labels": {
        "io.containerd.image.config.stop-signal": "SIGTERM",
        "io.cri-containerd.image": "managed"
    },
    "Image": "docker.io/kic-x/app:1",
    "Runtime": {
        "Name": "io.containerd.runc.v2",
        "Options": {
            "type_url": "containerd.runc.v1.Options"
        }
    },
    "SnapshotKey": "plain-run",
    "Snapshotter": "overlayfs",
    "CreatedAt": "2026-12-01T11:39:14.268228213Z",
    "UpdatedAt": "2026-12-01T11:39:14.268228213Z",
    "Extensions": null
}`;
const CHAIN_A = "sha256:9cb0e7dacdcade33e1aedd448a114ef326186403ab9476f5224c8b997d4395ab";
const CHAIN_BASE = "sha256:a72088ab34d89f33a1e65ca50fa3a39aa9fa37537310a83a33399a6cd8394bc3";
const CTR_SNAPSHOTS = `KEY                                                                     PARENT                                                                  KIND      
2f2700497883c4c233193dd3a5736ab1f6b6175024435583cdd76760c57686cc        ${CHAIN_A} Active    
plain-run                                                               ${CHAIN_A} Active    
${CHAIN_A} ${CHAIN_BASE} Committed 
${CHAIN_BASE}                                                                         Committed 
`;
const CONFIG_A = "sha256:2811f87d097260eae4051a56df56315c00f626651c17fb15dabe6bbd900e5921";
const CONFIG_SAME_LAYERS =
  "sha256:0528b43b7bc0254eadea4b2e4c64a0f6c91f3e76e984d814d624a532d6a6f6e2";
const CONFIG_PAUSE = "sha256:5fbfa66aad2a135203f971ab7b9f360c641604f8664cbbc7c1510d3498810864";
const CTR_CONTENT = [
  "DIGEST\t\t\t\t\t\t\t\t\tSIZE\tAGE\t\t\tLABELS",
  `${CONFIG_SAME_LAYERS}\t368B\tLess than a second\tcontainerd.io/gc.ref.snapshot.overlayfs=${CHAIN_A}`,
  `sha256:2212cc0f390c434f2b7f1fac310139b9fe50f8d49aa6fe306246d500f5cf199b\t551B\tLess than a second\tcontainerd.io/gc.ref.content.l.0=${CHAIN_BASE},containerd.io/gc.ref.content.config=${CONFIG_SAME_LAYERS}`,
  `${CONFIG_A}\t368B\t1 second\t\tcontainerd.io/gc.ref.snapshot.overlayfs=${CHAIN_A}`,
  `${CONFIG_PAUSE}\t312B\t2 seconds\t\tcontainerd.io/gc.ref.snapshot.native=${CHAIN_BASE},containerd.io/gc.ref.snapshot.overlayfs=${CHAIN_BASE}`,
  `${CHAIN_BASE}\t2.13MB\t1 second\t\tcontainerd.io/uncompressed=${CHAIN_BASE}`,
].join("\n");

describe("ctr parsers: what a container runs", () => {
  it("reads the image id from a CRI container's metadata extension, and its snapshot", () => {
    expect(parseCtrContainerInfo(CTR_INFO_CRI)).toEqual({
      kind: "container",
      imageRef: CONFIG_A,
      snapshotter: "overlayfs",
      snapshotKey: "2f2700497883c4c233193dd3a5736ab1f6b6175024435583cdd76760c57686cc",
    });
  });

  it("reads the pod of a sandbox from the labels the kubelet gives it", () => {
    const sandbox = CTR_INFO_CRI.replace(
      '"io.cri-containerd.kind": "container"',
      '"io.cri-containerd.kind": "sandbox", "io.kubernetes.pod.name": "web", ' +
        '"io.kubernetes.pod.namespace": "shop", "io.kubernetes.pod.uid": "5e0c-uid"',
    );
    expect(parseCtrContainerInfo(sandbox)).toMatchObject({
      kind: "sandbox",
      pod: { namespace: "shop", name: "web", uid: "5e0c-uid" },
    });
    expect(parseCtrContainerInfo(CTR_INFO_PLAIN).pod).toBeUndefined();
  });

  it("reads only the snapshot of a container made by ctr run (no CRI metadata)", () => {
    expect(parseCtrContainerInfo(CTR_INFO_PLAIN)).toEqual({
      snapshotter: "overlayfs",
      snapshotKey: "plain-run",
    });
  });

  it("ignores a metadata extension it cannot decode", () => {
    const broken = CTR_INFO_CRI.replace(CRI_META, "bm90IGpzb24=");
    expect(parseCtrContainerInfo(broken).imageRef).toBeUndefined();
  });

  it("reads snapshot parents (the image's chain id) from snapshots ls", () => {
    const parents = parseCtrSnapshots(CTR_SNAPSHOTS);
    expect(parents.get("plain-run")).toBe(CHAIN_A);
    expect(parents.get(CHAIN_A)).toBe(CHAIN_BASE);
    expect(parents.has(CHAIN_BASE)).toBe(false);
  });

  it("maps a chain id to every image config unpacked to it, once per config", () => {
    const chains = parseCtrSnapshotChains(CTR_CONTENT);
    // Two images with the same layers share the chain: a container on it may run either.
    expect(chains.get(CHAIN_A)).toEqual([CONFIG_SAME_LAYERS, CONFIG_A]);
    expect(chains.get(CHAIN_BASE)).toEqual([CONFIG_PAUSE]);
    expect(chains.size).toBe(2);
  });
});

describe("ctr parsers", () => {
  it("reads ref, target digest, size and labels from images ls", () => {
    const lines = parseCtrImageList(CTR_IMAGES);
    expect(lines).toHaveLength(6);
    expect(lines[0]).toEqual({
      ref: "docker.io/library/kic-explore:a1",
      digest: MF_A,
      sizeBytes: 2097152,
      labels: ["io.cri-containerd.image=managed"],
    });
    expect(lines[5]).toMatchObject({ sizeBytes: 10957, labels: [] });
  });

  it("groups references by image, taking the CRI id reference as the id and keeping it for removal", () => {
    const images = groupCtrImages(parseCtrImageList(CTR_IMAGES));
    expect(images.map((i) => i.id)).toEqual([ID_A, ID_P, `sha256:${"f".repeat(64)}`]);
    expect(images[0]).toMatchObject({
      names: ["docker.io/library/kic-explore:a1", `docker.io/library/kic-explore@${MF_A}`],
      digests: [MF_A],
      refs: ["docker.io/library/kic-explore:a1", `docker.io/library/kic-explore@${MF_A}`, ID_A],
      pinned: false,
    });
    expect(images[1]?.pinned).toBe(true);
  });

  it("reads containers with task states; no task means created", () => {
    const tasks = parseCtrTasks(
      `TASK    PID      STATUS    \nc1      25015    RUNNING\nc2      0        STOPPED\n`,
    );
    const containers = parseCtrContainers(
      `CONTAINER    IMAGE                               RUNTIME                  \nc1    registry.k8s.io/pause:kic    io.containerd.runc.v2    \nc2    docker.io/library/a:1    io.containerd.runc.v2\nc3    docker.io/library/b:1    io.containerd.runc.v2\nc4    -    io.containerd.runc.v2\n`,
      tasks,
    );
    expect(containers.map((c) => [c.id, c.state, c.images])).toEqual([
      ["c1", "running", ["registry.k8s.io/pause:kic"]],
      ["c2", "exited", ["docker.io/library/a:1"]],
      ["c3", "created", ["docker.io/library/b:1"]],
      ["c4", "created", []],
    ]);
  });

  it("reads content ages as lower bounds in seconds", () => {
    const d = (c: string) => `sha256:${c.repeat(64)}`;
    const text = [
      "DIGEST\tSIZE\tAGE\tLABELS",
      `${d("1")}\t102.4kB\t4 minutes\t\tcontainerd.io/uncompressed=x`,
      `${d("2")}\t556B\t2 seconds\t\t-`,
      `${d("3")}\t105.2MB\tLess than a second\t-`,
      `${d("4")}\t1MB\tAbout an hour\t-`,
      `${d("5")}\t1MB\tAbout a minute\t-`,
      `${d("6")}\t1MB\t3 days\t-`,
      `${d("7")}\t1MB\t2 weeks\t-`,
    ].join("\n");
    expect([...parseCtrContentAges(text).values()]).toEqual([
      240, 2, 0, 3600, 60, 259_200, 1_209_600,
    ]);
  });

  it("reads the server version", () => {
    const text =
      "Client:\n  Version:  1.6.20~ds1\n  Revision: x\n\nServer:\n  Version:  1.7.1\n  Revision: y\n";
    expect(parseCtrVersion(text)).toEqual({ name: "containerd", version: "1.7.1" });
  });
});
