// The Engine API parsers, on answers shaped as dockerd 20.10 (API 1.41) gives them (captured from the
// tests' dockerd, ids shortened to what matters), and the Engine's own rule for removal by id.
import { describe, expect, it } from "vitest";
import { isSingleReference } from "../../../src/agent/docker.js";
import * as answer from "../../../src/agent/docker-parse.js";
import { planDeletions } from "../../../src/agent/plan.js";
import { compilePatterns } from "../../../src/config/patterns.js";

const ID_A = `sha256:${"a".repeat(64)}`;
const ID_B = `sha256:${"b".repeat(64)}`;
const ID_PAUSE = `sha256:${"c".repeat(64)}`;
const MF_A = `sha256:${"1".repeat(64)}`;

describe("docker parsers", () => {
  it("reads every tag and repo digest, the Engine's size, and no pinning", () => {
    const images = answer.parseDockerImages([
      {
        Containers: -1,
        Created: 1735787045,
        Id: ID_A,
        Labels: null,
        ParentId: "",
        RepoDigests: [`127.0.0.1:5000/kic/a@${MF_A}`],
        RepoTags: ["127.0.0.1:5000/kic/a:2", "x/y:3"],
        SharedSize: -1,
        Size: 1985134,
        VirtualSize: 1985134,
      },
      // A dangling image: its tag moved to another image.
      { Id: ID_B, RepoDigests: ["<none>@<none>"], RepoTags: ["<none>:<none>"], Size: 42 },
      { Id: ID_PAUSE, RepoDigests: null, RepoTags: null, Size: -1 },
    ]);
    expect(images).toEqual([
      {
        id: ID_A,
        names: ["127.0.0.1:5000/kic/a:2", "x/y:3", `127.0.0.1:5000/kic/a@${MF_A}`],
        digests: [MF_A],
        sizeBytes: 1985134,
        pinned: false,
        refs: ["127.0.0.1:5000/kic/a:2", "x/y:3", `127.0.0.1:5000/kic/a@${MF_A}`],
      },
      { id: ID_B, names: [], digests: [], sizeBytes: 42, pinned: false, refs: [] },
      { id: ID_PAUSE, names: [], digests: [], sizeBytes: 0, pinned: false, refs: [] },
    ]);
  });

  it("matches the Engine's familiar names like any runtime's full ones", () => {
    const images = answer.parseDockerImages([
      { Id: ID_A, RepoTags: ["kic-x/app:1"], RepoDigests: [], Size: 10 },
      { Id: ID_B, RepoTags: ["nginx:1.25"], RepoDigests: [], Size: 10 },
    ]);
    const plan = planDeletions(
      { images, containers: [], sandboxes: [], imageTimesKnown: false },
      {
        include: compilePatterns("--include", ["docker.io/kic-x/*:*"], "include"),
        exclude: [],
        protect: ["docker.io/library/nginx:1.25"],
        limits: {},
        nowMs: 0,
      },
    );
    expect(plan.delete.map((i) => i.id)).toEqual([ID_A]);
  });

  it("reads containers in every state by the image they run, and pod sandboxes apart", () => {
    const { containers, sandboxes } = answer.parseDockerContainers([
      {
        Id: "r".repeat(64),
        Names: ["/web"],
        Image: "kic-x/app:1",
        ImageID: ID_A,
        State: "running",
        Labels: {},
      },
      // Started from a tag that has moved on since: the Engine shows the id it runs.
      { Id: "e".repeat(64), Names: ["/old"], Image: ID_B, ImageID: ID_B, State: "exited" },
      {
        Id: "c".repeat(64),
        Names: ["/new"],
        Image: "kic-x/app:2",
        ImageID: ID_B,
        State: "created",
      },
      { Id: "p".repeat(64), Names: ["/paused"], Image: "x", ImageID: ID_A, State: "paused" },
      { Id: "d".repeat(64), Names: ["/dead"], Image: "x", ImageID: ID_A, State: "dead" },
      {
        Id: "k".repeat(64),
        Names: ["/k8s_app_shop-1_prod_uid_0"],
        Image: "kic-x/app@sha256:...",
        ImageID: ID_A,
        State: "restarting",
        Labels: {
          "io.kubernetes.pod.namespace": "prod",
          "io.kubernetes.pod.name": "shop-1",
          "io.kubernetes.docker.type": "container",
        },
      },
      {
        Id: "s".repeat(64),
        Names: ["/k8s_POD_shop-1_prod_uid_0"],
        Image: "registry.k8s.io/pause:3.9",
        ImageID: ID_PAUSE,
        State: "running",
        Labels: {
          "io.kubernetes.pod.namespace": "prod",
          "io.kubernetes.pod.name": "shop-1",
          "io.kubernetes.docker.type": "podsandbox",
        },
      },
    ]);
    expect(containers.map((c) => [c.name, c.state, c.images, c.pod])).toEqual([
      ["web", "running", [ID_A, "kic-x/app:1"], undefined],
      ["old", "exited", [ID_B], undefined],
      ["new", "created", [ID_B, "kic-x/app:2"], undefined],
      ["paused", "running", [ID_A, "x"], undefined],
      ["dead", "exited", [ID_A, "x"], undefined],
      ["k8s_app_shop-1_prod_uid_0", "running", [ID_A, "kic-x/app@sha256:..."], "prod/shop-1"],
    ]);
    expect(sandboxes).toEqual([{ id: "s".repeat(64), pod: "prod/shop-1", image: ID_PAUSE }]);
  });

  it("reads Created and the last tag time; Go's zero time and the epoch are no time", () => {
    expect(
      answer.parseDockerInspect({
        Created: "2025-01-02T03:04:05.123456789Z",
        Metadata: { LastTagTime: "2026-12-07T04:15:54.112379611Z" },
      }),
    ).toEqual({
      createdAtMs: Date.UTC(2025, 0, 2, 3, 4, 5, 123),
      lastTaggedAtMs: Date.UTC(2026, 11, 7, 4, 15, 54, 112),
    });
    expect(
      answer.parseDockerInspect({
        Created: "1970-01-01T00:00:00Z",
        Metadata: { LastTagTime: "0001-01-01T00:00:00Z" },
      }),
    ).toEqual({});
    expect(answer.parseDockerInspect("not an object")).toEqual({});
  });

  it("reads what a DELETE untagged and deleted", () => {
    expect(
      answer.parseDeleteResponse([
        { Untagged: "127.0.0.1:5000/kic/b:2" },
        { Untagged: `127.0.0.1:5000/kic/b@${MF_A}` },
        { Deleted: ID_A },
        { Deleted: `sha256:${"f".repeat(64)}` },
      ]),
    ).toEqual({
      untagged: ["127.0.0.1:5000/kic/b:2", `127.0.0.1:5000/kic/b@${MF_A}`],
      deleted: [ID_A, `sha256:${"f".repeat(64)}`],
    });
    expect(answer.parseDeleteResponse(undefined)).toEqual({ untagged: [], deleted: [] });
  });

  it("reads version, data root, driver and layer bytes", () => {
    expect(answer.parseDockerVersion({ Version: "20.10.24+dfsg1", ApiVersion: "1.41" })).toEqual({
      name: "docker",
      version: "20.10.24+dfsg1 (API 1.41)",
    });
    expect(answer.parseDockerVersion({})).toEqual({ name: "docker" });
    expect(
      answer.parseDockerInfo({ DockerRootDir: "/var/lib/docker", Driver: "overlay2" }),
    ).toEqual({
      rootDir: "/var/lib/docker",
      driver: "overlay2",
    });
    // Only a plain absolute path and a driver name are ever joined into a path.
    expect(answer.parseDockerInfo({ DockerRootDir: "relative", Driver: "../../etc" })).toEqual({});
    expect(answer.parseDockerLayersSize({ LayersSize: 2115266, Images: [] })).toBe(2115266);
    expect(() => answer.parseDockerLayersSize({})).toThrow(/no LayersSize/);
  });
});

describe("removal by id (the Engine's isSingleReference)", () => {
  const cases: [string, string[], boolean][] = [
    ["no name", [], false],
    ["one tag", ["kic/a:1"], true],
    ["one tag and its digest", ["kic/a:1", `kic/a@${MF_A}`], true],
    ["digests of one repository", [`kic/a@${MF_A}`, `docker.io/kic/a@${MF_A}`], true],
    ["two tags of one repository", ["kic/a:1", "kic/a:2"], false],
    ["one tag in each of two repositories", ["kic/a:1", "quay.io/kic/a:1"], false],
    ["a tag and another repository's digest", ["kic/a:1", `kic/b@${MF_A}`], false],
  ];
  it.each(cases)("%s", (_, names, single) => {
    expect(isSingleReference(names)).toBe(single);
  });
});
