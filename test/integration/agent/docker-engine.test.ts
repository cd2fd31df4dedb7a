// The docker client against a real Docker Engine (Debian's dockerd 20.10 with its own containerd,
// started here in temp dirs: test/support/dockerd.ts): what the Engine API tells and does, call by
// call. The agent's rules on the docker client are proven in the agent suite; this file proves the
// adapter's facts they rest on. Each test makes its own images (unique names and content).
import { utimesSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDockerAdapter } from "../../../src/agent/docker.js";
import { createEngineClient, EngineUnreachableError } from "../../../src/agent/docker-engine.js";
import type { RuntimeAdapter } from "../../../src/agent/runtime.js";
import { Scratch, startContainerd, uniqueToken } from "../../support/containerd.js";
import { startDockerd, type StandaloneDockerd } from "../../support/dockerd.js";

let dockerd: StandaloneDockerd;
let adapter: RuntimeAdapter;
let scratch: Scratch;
let prefix = "";

beforeAll(async () => {
  dockerd = await startDockerd();
  adapter = createDockerAdapter(createEngineClient(dockerd.socket, { timeoutMs: () => 60_000 }), {
    hostPath: (p) => Promise.resolve(p),
  });
  scratch = new Scratch(dockerd.socket, dockerd.store);
  prefix = `docker.io/kic-docker-it/${uniqueToken()}`;
});
afterAll(() => {
  dockerd.removeContainers();
  scratch.cleanup();
  dockerd.stop();
});

/** The Engine's own view of an image, by the CLI (not the code under test). */
const inspect = (ref: string, format: string) =>
  dockerd.docker(["image", "inspect", "--format", format, ref]).trim();

describe("docker client on dockerd", () => {
  it("reports the Engine and its version", async () => {
    const version = await adapter.version();
    expect(version.name).toBe("docker");
    expect(version.version).toMatch(
      new RegExp(`^${dockerd.version.replace(/[+.]/g, "\\$&")} \\(API 1\\.\\d+\\)$`),
    );
  });

  it("lists every name of an image and every container, in any state, by the image it runs", async () => {
    const multi = scratch.image(`${prefix}/multi:1`, { busybox: true });
    scratch.tag(`${prefix}/multi:1`, `${prefix}/multi:2`);
    scratch.tag(`${prefix}/multi:1`, `quay.io/kic-docker-it/${prefix.slice(-8)}/multi:1`);
    const running = dockerd.container(`${prefix}/multi:1`, "running");
    // A tag that moves on after a container started from it: the container still runs the old image.
    const old = scratch.image(`${prefix}/moved:1`, { busybox: true });
    const stopped = dockerd.container(`${prefix}/moved:1`, "exited");
    const created = dockerd.container(`${prefix}/moved:1`, "created");
    const fresh = scratch.image(`${prefix}/moved:1`, { busybox: true });

    const inventory = await adapter.inventory({ withTimes: false });

    const byId = new Map(inventory.images.map((i) => [i.id, i]));
    const short = prefix.replace("docker.io/", "");
    expect(byId.get(multi.id)?.names.sort()).toEqual(
      [
        `${short}/multi:1`,
        `${short}/multi:2`,
        `quay.io/kic-docker-it/${prefix.slice(-8)}/multi:1`,
      ].sort(),
    );
    expect(byId.get(multi.id)?.sizeBytes).toBe(Number(inspect(multi.id, "{{.Size}}")));
    // The old image lost its only name to the new one, and is listed untagged by its id.
    expect(byId.get(old.id)?.names).toEqual([]);
    expect(byId.get(fresh.id)?.names).toEqual([`${short}/moved:1`]);
    const states = new Map(inventory.containers.map((c) => [c.id, c]));
    expect([states.get(running)?.state, states.get(running)?.images]).toEqual([
      "running",
      [multi.id, `${prefix}/multi:1`],
    ]);
    // Started from moved:1: the Engine now names the id it runs.
    expect([states.get(stopped)?.state, states.get(stopped)?.images]).toEqual(["exited", [old.id]]);
    expect([states.get(created)?.state, states.get(created)?.images]).toEqual([
      "created",
      [old.id],
    ]);
    expect(inventory.imageTimesKnown).toBe(false);
  });

  it("reads Created from each image's config when a rule needs it", async () => {
    const dated = scratch.image(`${prefix}/dated:1`, { created: "2025-03-01T12:00:00Z" });
    const undated = scratch.image(`${prefix}/undated:1`);
    const without = await adapter.inventory({ withTimes: false });
    expect(without.images.find((i) => i.id === dated.id)?.createdAtMs).toBeUndefined();
    const inventory = await adapter.inventory({ withTimes: false, withCreated: true });
    expect(inventory.images.find((i) => i.id === dated.id)?.createdAtMs).toBe(
      Date.parse("2025-03-01T12:00:00Z"),
    );
    // The builder wrote 1970: no time to rank by.
    expect(inventory.images.find((i) => i.id === undated.id)?.createdAtMs).toBeUndefined();
  });

  it("reads when an image came from the Engine's image store, and a later tag from the Engine", async () => {
    const before = Date.now() - 1000;
    const loaded = scratch.image(`${prefix}/aged:1`);
    const tagged = scratch.image(`${prefix}/retagged:1`);
    const record = join(
      dockerd.dataRoot,
      "image",
      inspect(loaded.id, "{{.GraphDriver.Name}}"),
      "imagedb/content/sha256",
    );
    const threeDaysAgo = new Date(Date.now() - 3 * 86_400_000);
    for (const image of [loaded, tagged])
      utimesSync(join(record, image.id.slice(7)), threeDaysAgo, threeDaysAgo);
    // `docker tag` is the one thing the Engine itself records a time for (LastTagTime).
    scratch.tag(`${prefix}/retagged:1`, `${prefix}/retagged:2`);

    const inventory = await adapter.inventory({ withTimes: true });

    expect(inventory.imageTimesKnown).toBe(true);
    expect(inventory.images.find((i) => i.id === loaded.id)?.recordedAtMs).toBe(
      threeDaysAgo.getTime(),
    );
    const retagged = inventory.images.find((i) => i.id === tagged.id)?.recordedAtMs ?? 0;
    expect(retagged).toBeGreaterThan(before);
    expect(retagged).toBeLessThanOrEqual(Date.now());
  });

  it("removes an image named in several repositories without force, and the Engine's bytes with it", async () => {
    const target = scratch.image(`${prefix}/gone:1`, { pad: 300_000 });
    scratch.tag(`${prefix}/gone:1`, `${prefix}/gone:2`);
    scratch.tag(`${prefix}/gone:1`, `quay.io/kic-docker-it/${prefix.slice(-8)}/gone:1`);
    const inventory = await adapter.inventory({ withTimes: false });
    const image = inventory.images.find((i) => i.id === target.id);
    if (image === undefined) throw new Error("the loaded image is not listed");
    const fsBefore = await adapter.imageFsUsage();

    const { errors, alreadyGone } = await adapter.remove([image]);

    expect(errors).toEqual(new Map());
    expect(alreadyGone).toEqual(new Map());
    const present = await adapter.present();
    expect(present.has(target.id)).toBe(false);
    for (const name of image.names) expect(present.has(name)).toBe(false);
    // The image is only its salt layer, which nothing else shares: the store got back its size.
    const fsAfter = await adapter.imageFsUsage();
    expect(fsBefore.usedBytes - fsAfter.usedBytes).toBe(image.sizeBytes);
  });

  it("gets the Engine's refusal for an image a running or a stopped container uses, and keeps it", async () => {
    const inUse = scratch.image(`${prefix}/busy:1`, { busybox: true });
    scratch.tag(`${prefix}/busy:1`, `${prefix}/busy-alias:1`);
    const stoppedImage = scratch.image(`${prefix}/stopped:1`, { busybox: true });
    dockerd.container(`${prefix}/busy:1`, "running");
    dockerd.container(`${prefix}/stopped:1`, "exited");
    const inventory = await adapter.inventory({ withTimes: false });
    const targets = inventory.images.filter((i) => i.id === inUse.id || i.id === stoppedImage.id);
    expect(targets).toHaveLength(2);

    const { errors } = await adapter.remove(targets);

    expect(errors.get(inUse.id)).toMatch(/image is being used by running container [0-9a-f]{12}/);
    // Its extra name went before the Engine refused the last one: the error says so.
    expect(errors.get(inUse.id)).toMatch(
      /names removed before that: kic-docker-it\/\S+\/busy(-alias)?:1/,
    );
    expect(errors.get(stoppedImage.id)).toMatch(
      /image is being used by stopped container [0-9a-f]{12}/,
    );
    const present = await adapter.present();
    expect(present.has(inUse.id)).toBe(true);
    expect(present.has(stoppedImage.id)).toBe(true);
  });

  it("sees pod sandboxes by cri-dockerd's label, apart from containers", async () => {
    const pause = scratch.image(`${prefix}/pause:3`, { busybox: true });
    const id = dockerd
      .docker([
        "create",
        "--network",
        "none",
        "--label",
        "io.kubernetes.docker.type=podsandbox",
        "--label",
        "io.kubernetes.pod.namespace=shop",
        "--label",
        "io.kubernetes.pod.name=web-1",
        `${prefix}/pause:3`,
        "sleep",
        "3600",
      ])
      .trim();
    try {
      const usage = await adapter.usage();
      expect(usage.sandboxes).toContainEqual({ id, pod: "shop/web-1", image: pause.id });
      expect(usage.containers.map((c) => c.id)).not.toContain(id);
    } finally {
      dockerd.docker(["rm", "--force", id]);
    }
  });

  it("says what is wrong when the socket is not a Docker Engine's", async () => {
    const missing = createEngineClient(join(dockerd.dataRoot, "no.sock"), {
      timeoutMs: () => 5000,
    });
    await expect(missing.get("/version")).rejects.toThrow(
      /docker cannot reach the Engine at .*no\.sock: no socket there/,
    );
    const containerd = await startContainerd();
    try {
      const grpc = createEngineClient(containerd.socket, { timeoutMs: () => 5000 });
      const err = await grpc.get("/version").catch((e: unknown) => e);
      expect(err).toBeInstanceOf(EngineUnreachableError);
      expect(String(err)).toMatch(/does not speak HTTP: is this a Docker Engine socket/);
    } finally {
      containerd.stop();
    }
  });
});
