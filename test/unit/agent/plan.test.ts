// The plan over a hand-written inventory: every keep reason, the order they apply in, and the
// naming forms runtimes and the API server use.
import { describe, expect, it } from "vitest";
import { hex, id, image, inventory, keptReasons, SAFETY_KEPT } from "../support/plan-fixtures.js";
import { compilePatterns } from "../../../src/config/patterns.js";
import type { ContainerRecord, ImageRecord, Inventory } from "../../../src/agent/inventory.js";
import { planDeletions, type PlanOptions } from "../../../src/agent/plan.js";

function container(
  name: string,
  images: string[],
  state: ContainerRecord["state"] = "running",
): ContainerRecord {
  return { id: `${name}-id`, name, state, images };
}

function options(
  include: string[],
  more: Partial<Omit<PlanOptions, "include" | "exclude">> & { exclude?: string[] } = {},
): PlanOptions {
  const { exclude = [], ...rest } = more;
  return {
    include: compilePatterns("--include", include, "include"),
    exclude: compilePatterns("--exclude", exclude, "exclude"),
    protect: [],
    nowMs: 1_000_000_000_000,
    ...rest,
  };
}

const deletedIds = (inv: Inventory, opts: PlanOptions) =>
  planDeletions(inv, opts).delete.map((i) => i.id);
const keptReason = (inv: Inventory, opts: PlanOptions, imageId: string) =>
  planDeletions(inv, opts).kept.find((k) => k.id === imageId);

describe("planDeletions", () => {
  it("deletes an unused image whose name matches an include", () => {
    const inv = inventory([image("a", ["docker.io/acme/app:1"])]);
    expect(deletedIds(inv, options(["acme/app:*"]))).toEqual([id("a")]);
  });

  it("keeps an image that matches no include, as no-match", () => {
    const inv = inventory([image("a", ["docker.io/other/app:1"])]);
    const plan = planDeletions(inv, options(["acme/*"]));
    expect(plan.delete).toEqual([]);
    expect(plan.kept).toEqual([
      { id: id("a"), names: ["docker.io/other/app:1"], reason: "no-match" },
    ]);
    expect(plan.matched).toBe(0);
  });

  it("lets an exclude win over an include, naming the pattern", () => {
    const inv = inventory([image("a", ["docker.io/acme/base:1"])]);
    const kept = keptReason(inv, options(["acme/*"], { exclude: ["acme/base:*"] }), id("a"));
    expect(kept?.reason).toBe("excluded");
    expect(kept?.detail).toBe("docker.io/acme/base:1 matches --exclude acme/base:*");
  });

  it("excludes a multi-name image when any one name matches an exclude", () => {
    const inv = inventory([image("a", ["docker.io/acme/app:1", "quay.io/mirror/app:1"])]);
    expect(keptReason(inv, options(["acme/*"], { exclude: ["quay.io/**"] }), id("a"))?.reason).toBe(
      "excluded",
    );
  });

  it("includes a multi-name image when any one name matches an include", () => {
    const inv = inventory([image("a", ["quay.io/mirror/app:1", "docker.io/acme/app:1"])]);
    expect(deletedIds(inv, options(["acme/app:1"]))).toEqual([id("a")]);
  });

  it("counts matched images whatever happens to them afterwards", () => {
    const inv = inventory([
      image("a", ["docker.io/acme/a:1"]),
      image("b", ["docker.io/acme/b:1"], { pinned: true }),
      image("c", ["x.io/c:1"]),
    ]);
    expect(planDeletions(inv, options(["acme/*"])).matched).toBe(2);
  });

  describe("digests-only and untagged images", () => {
    it("matches an image known only by a repo digest with a digest-aware pattern", () => {
      const inv = inventory([
        image("a", [`docker.io/acme/app@${id("d")}`], { digests: [id("d")] }),
      ]);
      expect(deletedIds(inv, options(["acme/app@*"]))).toEqual([id("a")]);
      expect(deletedIds(inv, options(["acme/app:*"]))).toEqual([]);
    });
    it("never matches an untagged image with a name pattern, even **", () => {
      const inv = inventory([image("a", [])]);
      expect(keptReason(inv, options(["**"]), id("a"))?.reason).toBe("no-match");
    });
    it("matches an untagged image by its id", () => {
      const inv = inventory([image("a", [])]);
      expect(deletedIds(inv, options([`sha256:${hex("a").slice(0, 8)}*`]))).toEqual([id("a")]);
    });
  });

  describe("in-use", () => {
    (["running", "created", "exited", "unknown"] as const).forEach((state) => {
      it(`keeps an image used by a ${state} container`, () => {
        const inv = inventory([image("a", ["docker.io/acme/app:1"])], {
          containers: [container("web", ["docker.io/acme/app:1"], state)],
        });
        const kept = keptReason(inv, options(["acme/*"]), id("a"));
        expect(kept?.reason).toBe("in-use");
        expect(kept?.detail).toBe(`container web (${state})`);
      });
    });
    [
      ["the image id (CRI imageRef)", id("a")],
      ["the short name", "acme/app:1"],
      ["a repo digest", `docker.io/acme/app@${id("d")}`],
      ["a kubelet-style imageID", `docker-pullable://docker.io/acme/app@${id("d")}`],
    ].forEach(([how, ref]) => {
      it(`finds the container's image by ${how}`, () => {
        const img = image("a", ["docker.io/acme/app:1", `docker.io/acme/app@${id("d")}`], {
          digests: [id("d")],
        });
        const inv = inventory([img], { containers: [container("c", [ref ?? ""])] });
        expect(keptReason(inv, options(["acme/*"]), id("a"))?.reason).toBe("in-use");
      });
    });
    it("keeps every name of a multi-name image used under one name", () => {
      const inv = inventory([image("a", ["docker.io/acme/app:1", "docker.io/acme/app:latest"])], {
        containers: [container("c", ["docker.io/acme/app:latest"])],
      });
      expect(deletedIds(inv, options(["acme/app:1"]))).toEqual([]);
    });
    it("ignores containers whose image is gone", () => {
      const inv = inventory([image("a", ["docker.io/acme/app:1"])], {
        containers: [container("c", ["docker.io/acme/gone:1"])],
      });
      expect(deletedIds(inv, options(["acme/*"]))).toEqual([id("a")]);
    });
  });

  describe("sandbox", () => {
    it("keeps the runtime's configured sandbox image", () => {
      const inv = inventory([image("p", ["registry.k8s.io/pause:3.10"])], {
        configuredSandboxImage: "registry.k8s.io/pause:3.10",
      });
      const kept = keptReason(inv, options(["**"]), id("p"));
      expect(kept?.reason).toBe("sandbox");
      expect(kept?.detail).toContain("configured sandbox image");
    });
    it("keeps any image a sandbox uses, even when another pause image is configured", () => {
      const inv = inventory(
        [image("p", ["registry.k8s.io/pause:3.9"]), image("q", ["registry.k8s.io/pause:3.10"])],
        {
          configuredSandboxImage: "registry.k8s.io/pause:3.10",
          sandboxes: [{ id: "s1", pod: "kube-system/dns", image: "registry.k8s.io/pause:3.9" }],
        },
      );
      expect(keptReason(inv, options(["**"]), id("p"))?.detail).toBe(
        "image of the sandbox of pod kube-system/dns",
      );
      expect(keptReason(inv, options(["**"]), id("q"))?.reason).toBe("sandbox");
    });
    it("deletes an old pause image no sandbox uses when the runtime names its own", () => {
      const inv = inventory(
        [image("p", ["registry.k8s.io/pause:3.9"]), image("q", ["registry.k8s.io/pause:3.10"])],
        {
          configuredSandboxImage: "registry.k8s.io/pause:3.10",
        },
      );
      expect(deletedIds(inv, options(["registry.k8s.io/pause:*"]))).toEqual([id("p")]);
    });
    [
      "registry.k8s.io/pause:3.10",
      "k8s.gcr.io/pause:3.2",
      "docker.io/rancher/mirrored-pause:3.6",
      "602401143452.dkr.ecr.us-west-2.amazonaws.com/eks/pause:3.5",
      `registry.k8s.io/pause@${id("d")}`,
    ].forEach((name) => {
      it(`keeps ${name} as a likely pause image when the runtime does not say which it uses`, () => {
        const inv = inventory([image("p", [name])]);
        expect(keptReason(inv, options(["**", "**@*"]), id("p"))?.reason).toBe("sandbox");
      });
    });
    it("does not take pause-like but different repositories for pause images", () => {
      const inv = inventory([image("p", ["docker.io/acme/pauser:1"])]);
      expect(deletedIds(inv, options(["**"]))).toEqual([id("p")]);
    });
    it("reports sandbox before in-use for the pause image its sandbox containers run", () => {
      const inv = inventory([image("p", ["registry.k8s.io/pause:kic"])], {
        configuredSandboxImage: "registry.k8s.io/pause:kic",
        containers: [container("sandbox", ["registry.k8s.io/pause:kic"])],
      });
      expect(keptReason(inv, options(["**"]), id("p"))?.reason).toBe("sandbox");
    });
  });

  describe("pinned", () => {
    it("keeps a pinned image", () => {
      const inv = inventory([image("a", ["docker.io/acme/app:1"], { pinned: true })]);
      expect(keptReason(inv, options(["acme/*"]), id("a"))?.reason).toBe("pinned");
    });
    it("reports in-use before pinned", () => {
      const inv = inventory([image("a", ["docker.io/acme/app:1"], { pinned: true })], {
        containers: [container("c", [id("a")])],
      });
      expect(keptReason(inv, options(["acme/*"]), id("a"))?.reason).toBe("in-use");
    });
  });

  describe("protected", () => {
    [
      ["a short tag", "acme/app:1"],
      ["the full name", "docker.io/acme/app:1"],
      ["the image id", id("a")],
      ["a repo digest", `docker.io/acme/app@${id("d")}`],
      ["a containerStatuses imageID", `docker-pullable://acme/app@${id("d")}`],
    ].forEach(([how, ref]) => {
      it(`keeps an image protected by ${how}`, () => {
        const inv = inventory([image("a", ["docker.io/acme/app:1"], { digests: [id("d")] })]);
        const kept = keptReason(inv, options(["acme/*"], { protect: [ref ?? ""] }), id("a"));
        expect(kept).toMatchObject({ reason: "protected", detail: `--protect ${ref ?? ""}` });
      });
    });
    it("does not protect another tag of the same repository", () => {
      const inv = inventory([image("a", ["docker.io/acme/app:1"])]);
      expect(deletedIds(inv, options(["acme/*"], { protect: ["acme/app:2"] }))).toEqual([id("a")]);
    });
    it("protects nginx as nginx:latest, as docker reads it", () => {
      const inv = inventory([
        image("a", ["docker.io/library/nginx:latest"]),
        image("b", ["docker.io/library/nginx:1.25"]),
      ]);
      expect(deletedIds(inv, options(["nginx:*"], { protect: ["nginx"] }))).toEqual([id("b")]);
    });
  });

  describe("too-new", () => {
    const now = 1_000_000_000_000;
    const inv = (recordedAtMs: number | undefined, timesKnown = true) =>
      inventory(
        [image("a", ["docker.io/acme/app:1"], recordedAtMs === undefined ? {} : { recordedAtMs })],
        { imageTimesKnown: timesKnown },
      );
    it("keeps an image recorded more recently than --min-age", () => {
      const kept = keptReason(
        inv(now - 30_000),
        options(["acme/*"], { minAgeSeconds: 60, nowMs: now }),
        id("a"),
      );
      expect(kept).toMatchObject({
        reason: "too-new",
        detail: "recorded 30s ago, --min-age is 60s",
      });
    });
    it("deletes an image older than --min-age", () => {
      expect(
        deletedIds(inv(now - 61_000), options(["acme/*"], { minAgeSeconds: 60, nowMs: now })),
      ).toEqual([id("a")]);
    });
    it("deletes an image exactly --min-age old", () => {
      expect(
        deletedIds(inv(now - 60_000), options(["acme/*"], { minAgeSeconds: 60, nowMs: now })),
      ).toEqual([id("a")]);
    });
    it("keeps an image without a time when the runtime records times for others", () => {
      expect(
        keptReason(inv(undefined), options(["acme/*"], { minAgeSeconds: 60, nowMs: now }), id("a"))
          ?.reason,
      ).toBe("too-new");
    });
    it("keeps every matched image as too-new when the runtime exposes no times (fails closed)", () => {
      const opts = options(["acme/*"], { minAgeSeconds: 60, nowMs: now });
      expect(deletedIds(inv(now - 61_000, false), opts)).toEqual([]);
      expect(keptReason(inv(now - 61_000, false), opts, id("a"))).toMatchObject({
        reason: "too-new",
        detail: "--min-age is 60s and the runtime does not tell when images were pulled",
      });
    });
    it("ignores times without --min-age", () => {
      expect(deletedIds(inv(now), options(["acme/*"], { nowMs: now }))).toEqual([id("a")]);
    });
  });

  describe("CRI-O's bare hex image ids", () => {
    // CRI-O's `crictl images` gives `"id": "<64 hex>"`; its containers may name the image by that id.
    const criO = (extra: Partial<ImageRecord> = {}) =>
      image("e", ["docker.io/acme/app:1"], { id: hex("e"), refs: [], ...extra });
    it("keeps an image a container names by its bare id", () => {
      const inv = inventory([criO()], { containers: [container("c", [hex("e")])] });
      expect(keptReason(inv, options(["acme/*"]), hex("e"))).toMatchObject({ reason: "in-use" });
    });
    it("keeps an image a container names by the sha256: form of its bare id", () => {
      const inv = inventory([criO()], { containers: [container("c", [id("e")])] });
      expect(keptReason(inv, options(["acme/*"]), hex("e"))?.reason).toBe("in-use");
    });
    it("keeps an image a sandbox names by its bare id", () => {
      const inv = inventory([criO()], {
        configuredSandboxImage: "registry.k8s.io/pause:3.10",
        sandboxes: [{ id: "s", pod: "ns/p", image: hex("e") }],
      });
      expect(keptReason(inv, options(["acme/*"]), hex("e"))?.reason).toBe("sandbox");
    });
    it("keeps an image protected by its bare id or its sha256: id", () => {
      for (const ref of [hex("e"), id("e")]) {
        const kept = keptReason(
          inventory([criO()]),
          options(["acme/*"], { protect: [ref] }),
          hex("e"),
        );
        expect(kept?.reason, ref).toBe("protected");
      }
    });
    it("matches a bare-id image with an id pattern and deletes it by the id the runtime gave", () => {
      const inv = inventory([criO({ names: [] })]);
      expect(deletedIds(inv, options([`sha256:${hex("e").slice(0, 8)}*`]))).toEqual([hex("e")]);
    });
  });

  it("gives every image exactly one outcome", () => {
    const images = [
      image("a", ["docker.io/acme/del:1"]),
      image("b", ["docker.io/other/x:1"]),
      image("c", ["docker.io/acme/base:1"]),
      image("d", ["registry.k8s.io/pause:kic"]),
      image("e", ["docker.io/acme/used:1"]),
      image("f", ["docker.io/acme/pin:1"], { pinned: true }),
      image("1", ["docker.io/acme/prot:1"]),
      image("2", ["docker.io/acme/new:1"], { recordedAtMs: 999_999_999_000 }),
    ];
    const inv = inventory(images, {
      configuredSandboxImage: "registry.k8s.io/pause:kic",
      containers: [container("u", ["docker.io/acme/used:1"], "exited")],
      imageTimesKnown: true,
    });
    for (const img of images) if (img.recordedAtMs === undefined) img.recordedAtMs = 0;
    const plan = planDeletions(
      inv,
      options(["acme/*", "registry.k8s.io/**"], {
        exclude: ["acme/base:*"],
        protect: ["acme/prot:1"],
        minAgeSeconds: 60,
      }),
    );
    expect(plan.delete.map((i) => i.names[0])).toEqual(["docker.io/acme/del:1"]);
    expect(keptReasons(plan)).toEqual({ ...SAFETY_KEPT, "docker.io/acme/new:1": "too-new" });
    expect(plan.matched).toBe(6);
  });
});
