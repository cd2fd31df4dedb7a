// The plan's retention rules after the safety checks: --keep-newest N per repository (by creation
// time), the per-node limits (oldest deleted first), and protected reasons naming the pod. Table by
// table, then the order of every reason in one inventory.
import { describe, expect, it } from "vitest";
import {
  id,
  image as anImage,
  inventory,
  keptReasons,
  SAFETY_KEPT,
} from "../support/plan-fixtures.js";
import { compilePatterns } from "../../../src/config/patterns.js";
import type { ContainerRecord, ImageRecord, Inventory } from "../../../src/agent/inventory.js";
import { planDeletions, pullabilityCandidates, type PlanOptions } from "../../../src/agent/plan.js";

const day = (d: number) => Date.UTC(2026, 0, d);

/** An image built on January `created` (undefined: no creation time). */
function image(
  c: string,
  names: string[],
  created: number | undefined,
  extra: Partial<ImageRecord> = {},
): ImageRecord {
  return anImage(c, names, created === undefined ? extra : { ...extra, createdAtMs: day(created) });
}

const running = (name: string, ref: string): ContainerRecord => ({
  id: `${name}-id`,
  name,
  state: "running",
  images: [ref],
});

function options(
  more: Partial<Omit<PlanOptions, "include" | "exclude">> & {
    include?: string[];
    exclude?: string[];
  } = {},
): PlanOptions {
  const { include = ["docker.io/acme/**"], exclude = [], ...rest } = more;
  return {
    include: compilePatterns("--include", include, "include"),
    exclude: compilePatterns("--exclude", exclude, "exclude"),
    protect: [],
    nowMs: day(100),
    ...rest,
  };
}

/** name -> reason ("delete" for deleted), for the image's first name. */
function outcome(inv: Inventory, opts: PlanOptions): Record<string, string> {
  const plan = planDeletions(inv, opts);
  return Object.fromEntries([
    ...plan.delete.map((i): [string, string] => [i.names[0] ?? i.id, "delete"]),
    ...plan.kept.map((k): [string, string] => [k.names[0] ?? k.id, k.reason]),
  ]);
}

const detailOf = (inv: Inventory, opts: PlanOptions, name: string) =>
  planDeletions(inv, opts).kept.find((k) => k.names[0] === name)?.detail;

describe("--keep-newest", () => {
  const app = (c: string, tag: string, created: number | undefined, extra = {}) =>
    image(c, [`docker.io/acme/app:${tag}`], created, extra);

  it("keeps the N newest of a repository by creation time, whatever the inventory order", () => {
    const inv = inventory([app("b", "2", 2), app("a", "1", 1), app("d", "4", 4), app("c", "3", 3)]);
    expect(outcome(inv, options({ keepNewest: 2 }))).toEqual({
      "docker.io/acme/app:1": "delete",
      "docker.io/acme/app:2": "delete",
      "docker.io/acme/app:3": "newest",
      "docker.io/acme/app:4": "newest",
    });
  });

  it("names the rank, the repository, the creation time and N in the detail", () => {
    const inv = inventory([app("a", "1", 1), app("b", "2", 2), app("c", "3", 3)]);
    expect(detailOf(inv, options({ keepNewest: 2 }), "docker.io/acme/app:2")).toBe(
      "newest 2 of 3 in docker.io/acme/app (created 2026-01-02T00:00:00.000Z), --keep-newest 2",
    );
  });

  it("ranks each repository on its own", () => {
    const inv = inventory([
      app("a", "1", 1),
      app("b", "2", 2),
      image("c", ["docker.io/acme/web:1"], 5),
      image("d", ["docker.io/acme/web:2"], 6),
    ]);
    expect(outcome(inv, options({ keepNewest: 1 }))).toEqual({
      "docker.io/acme/app:1": "delete",
      "docker.io/acme/app:2": "newest",
      "docker.io/acme/web:1": "delete",
      "docker.io/acme/web:2": "newest",
    });
  });

  it("counts an image in use toward N: the running release and N-1 older ones stay", () => {
    const inv = inventory([app("a", "1", 1), app("b", "2", 2), app("c", "3", 3)], {
      containers: [running("app", "docker.io/acme/app:3")],
    });
    expect(outcome(inv, options({ keepNewest: 2 }))).toEqual({
      "docker.io/acme/app:1": "delete",
      "docker.io/acme/app:2": "newest",
      "docker.io/acme/app:3": "in-use",
    });
  });

  it("keeps a rolled-back release in use besides the N newest", () => {
    const inv = inventory([app("a", "1", 1), app("b", "2", 2), app("c", "3", 3)], {
      containers: [running("app", "docker.io/acme/app:1")],
    });
    expect(outcome(inv, options({ keepNewest: 1 }))).toEqual({
      "docker.io/acme/app:1": "in-use",
      "docker.io/acme/app:2": "delete",
      "docker.io/acme/app:3": "newest",
    });
  });

  it("counts pinned, protected and too-new images toward N, each keeping its own reason", () => {
    const inv = inventory(
      [
        app("a", "1", 1, { recordedAtMs: 0 }),
        app("b", "2", 2, { recordedAtMs: 0 }),
        app("c", "3", 3, { pinned: true, recordedAtMs: 0 }),
        app("d", "4", 4, { recordedAtMs: 0 }),
        app("e", "5", 5, { recordedAtMs: day(100) }),
      ],
      { imageTimesKnown: true },
    );
    expect(
      outcome(inv, options({ keepNewest: 4, protect: ["acme/app:4"], minAgeSeconds: 3600 })),
    ).toEqual({
      "docker.io/acme/app:1": "delete",
      "docker.io/acme/app:2": "newest",
      "docker.io/acme/app:3": "pinned",
      "docker.io/acme/app:4": "protected",
      "docker.io/acme/app:5": "too-new",
    });
  });

  it("does not count images the patterns left out (excluded or not matched)", () => {
    const inv = inventory([app("a", "1", 1), app("b", "2", 2), app("c", "rc", 9)]);
    expect(outcome(inv, options({ keepNewest: 1, exclude: ["acme/app:rc"] }))).toEqual({
      "docker.io/acme/app:1": "delete",
      "docker.io/acme/app:2": "newest",
      "docker.io/acme/app:rc": "excluded",
    });
    expect(outcome(inv, options({ keepNewest: 1, include: ["docker.io/acme/app:[0-9]"] }))).toEqual(
      {
        "docker.io/acme/app:1": "delete",
        "docker.io/acme/app:2": "newest",
        "docker.io/acme/app:rc": "no-match",
      },
    );
  });

  it("breaks ties in creation time by image id, the same way in any inventory order", () => {
    const one = app("a", "1", 3);
    const two = app("b", "2", 3);
    for (const order of [
      [one, two],
      [two, one],
    ]) {
      expect(outcome(inventory(order), options({ keepNewest: 1 }))).toEqual({
        "docker.io/acme/app:1": "newest",
        "docker.io/acme/app:2": "delete",
      });
    }
  });

  it("keeps an image without a creation time, and it takes no place among the N", () => {
    const inv = inventory([app("a", "1", 1), app("b", "2", 2), app("c", "undated", undefined)]);
    expect(outcome(inv, options({ keepNewest: 1 }))).toEqual({
      "docker.io/acme/app:1": "delete",
      "docker.io/acme/app:2": "newest",
      "docker.io/acme/app:undated": "newest",
    });
    expect(detailOf(inv, options({ keepNewest: 1 }), "docker.io/acme/app:undated")).toBe(
      "its config records no creation time, so it may be among the --keep-newest 1",
    );
  });

  it("ranks a multi-name image in each of its repositories and keeps it if newest in any", () => {
    const inv = inventory([
      app("a", "1", 1),
      image("b", ["docker.io/acme/app:2", "docker.io/acme/mirror:2"], 2),
      image("c", ["docker.io/acme/mirror:3"], 3),
      app("d", "3", 3),
    ]);
    // newest of app: app:3; newest of mirror: mirror:3; b is second in both.
    expect(outcome(inv, options({ keepNewest: 1 }))["docker.io/acme/app:2"]).toBe("delete");
    expect(outcome(inv, options({ keepNewest: 2 }))["docker.io/acme/app:2"]).toBe("newest");
    // Newest of one repository, oldest of the other: kept.
    const inv2 = inventory([
      image("b", ["docker.io/acme/app:2", "docker.io/acme/mirror:2"], 5),
      image("c", ["docker.io/acme/mirror:3"], 9),
    ]);
    expect(outcome(inv2, options({ keepNewest: 1 }))).toEqual({
      "docker.io/acme/app:2": "newest",
      "docker.io/acme/mirror:3": "newest",
    });
  });

  it("groups tags and digests of one repository, and short names with their normalised form", () => {
    const inv = inventory([
      image("a", ["nginx:1.25"], 1),
      image("b", [`docker.io/library/nginx@${id("f")}`], 2),
      image("c", ["docker.io/library/nginx:1.27"], 3),
    ]);
    expect(outcome(inv, options({ include: ["nginx:*", "nginx@*"], keepNewest: 2 }))).toEqual({
      "nginx:1.25": "delete",
      [`docker.io/library/nginx@${id("f")}`]: "newest",
      "docker.io/library/nginx:1.27": "newest",
    });
  });

  it("keeps all when N is at least the number of images", () => {
    const inv = inventory([app("a", "1", 1), app("b", "2", 2)]);
    expect(Object.values(outcome(inv, options({ keepNewest: 5 })))).toEqual(["newest", "newest"]);
  });
});

describe("per-node limits", () => {
  const app = (c: string, tag: string, created: number | undefined, sizeBytes = 1000) =>
    image(c, [`docker.io/acme/app:${tag}`], created, { sizeBytes });

  it("--max-images-per-node deletes the oldest first and keeps the rest as limit", () => {
    const inv = inventory([app("c", "3", 3), app("a", "1", 1), app("d", "4", 4), app("b", "2", 2)]);
    const plan = planDeletions(inv, options({ limits: { maxImages: 2 } }));
    expect(plan.delete.map((i) => i.names[0])).toEqual([
      "docker.io/acme/app:1",
      "docker.io/acme/app:2",
    ]);
    expect(plan.kept.map((k) => [k.names[0], k.reason])).toEqual([
      ["docker.io/acme/app:3", "limit"],
      ["docker.io/acme/app:4", "limit"],
    ]);
    expect(plan.kept[0]?.detail).toBe(
      "--max-images-per-node 2 reached on this node (oldest deleted first): left for a later run",
    );
    expect(plan.cutByLimit).toBe(2);
  });

  it("--max-bytes-per-node stops at the first image that does not fit, oldest first", () => {
    const inv = inventory([app("a", "1", 1, 600), app("b", "2", 2, 600), app("c", "3", 3, 100)]);
    // 600 fits, 600+600 does not: the younger, smaller image does not jump the queue.
    expect(outcome(inv, options({ limits: { maxBytes: 1000 } }))).toEqual({
      "docker.io/acme/app:1": "delete",
      "docker.io/acme/app:2": "limit",
      "docker.io/acme/app:3": "limit",
    });
    expect(outcome(inv, options({ limits: { maxBytes: 1300 } }))).toEqual({
      "docker.io/acme/app:1": "delete",
      "docker.io/acme/app:2": "delete",
      "docker.io/acme/app:3": "delete",
    });
    expect(outcome(inv, options({ limits: { maxBytes: 500 } }))).toEqual({
      "docker.io/acme/app:1": "limit",
      "docker.io/acme/app:2": "limit",
      "docker.io/acme/app:3": "limit",
    });
  });

  it("with both limits, whichever is reached first ends the node's share, and the detail names both", () => {
    const inv = inventory([app("a", "1", 1, 10), app("b", "2", 2, 10), app("c", "3", 3, 10)]);
    const opts = options({ limits: { maxImages: 2, maxBytes: 15 } });
    expect(outcome(inv, opts)).toEqual({
      "docker.io/acme/app:1": "delete",
      "docker.io/acme/app:2": "limit",
      "docker.io/acme/app:3": "limit",
    });
    expect(detailOf(inv, opts, "docker.io/acme/app:2")).toBe(
      "--max-images-per-node 2 and --max-bytes-per-node 15 reached on this node (oldest deleted first): left for a later run",
    );
    expect(outcome(inv, options({ limits: { maxImages: 1, maxBytes: 100 } }))).toEqual({
      "docker.io/acme/app:1": "delete",
      "docker.io/acme/app:2": "limit",
      "docker.io/acme/app:3": "limit",
    });
  });

  it("deletes images without a creation time last (they may be the newest), ties by id", () => {
    const inv = inventory([app("z", "undated", undefined), app("b", "2", 2), app("a", "1", 2)]);
    expect(outcome(inv, options({ limits: { maxImages: 1 } }))).toEqual({
      "docker.io/acme/app:1": "delete",
      "docker.io/acme/app:2": "limit",
      "docker.io/acme/app:undated": "limit",
    });
    expect(outcome(inv, options({ limits: { maxImages: 2 } }))["docker.io/acme/app:undated"]).toBe(
      "limit",
    );
  });

  it("counts only what would be deleted: safety and --keep-newest keeps come first", () => {
    const inv = inventory(
      [app("a", "1", 1), app("b", "2", 2), app("c", "3", 3), app("d", "4", 4), app("e", "5", 5)],
      { containers: [running("app", "docker.io/acme/app:1")] },
    );
    expect(outcome(inv, options({ keepNewest: 1, limits: { maxImages: 2 } }))).toEqual({
      "docker.io/acme/app:1": "in-use",
      "docker.io/acme/app:2": "delete",
      "docker.io/acme/app:3": "delete",
      "docker.io/acme/app:4": "limit",
      "docker.io/acme/app:5": "newest",
    });
  });

  it("cuts nothing when the limit is not reached", () => {
    const inv = inventory([app("a", "1", 1), app("b", "2", 2)]);
    const plan = planDeletions(inv, options({ limits: { maxImages: 2, maxBytes: 2000 } }));
    expect(plan.delete).toHaveLength(2);
    expect(plan.cutByLimit).toBe(0);
  });
});

describe("protected images name the pod that needs them", () => {
  const inv = inventory([image("a", ["docker.io/acme/backend:1"], 1)]);
  (
    [
      [
        {
          ref: "acme/backend:1",
          neededBy: { pod: "demo-shop/backend", phase: "Pending", pods: 1 },
        },
        "needed by pod demo-shop/backend (Pending)",
      ],
      [
        {
          ref: "acme/backend:1",
          neededBy: { pod: "demo-shop/backend", phase: "Running", pods: 3 },
        },
        "needed by pod demo-shop/backend (Running) and 2 other pods",
      ],
      [
        { ref: "acme/backend:1", neededBy: { pod: "demo-shop/backend", pods: 2 } },
        "needed by pod demo-shop/backend and 1 other pod",
      ],
      [{ ref: "acme/backend:1" }, "--protect acme/backend:1"],
      ["acme/backend:1", "--protect acme/backend:1"],
    ] as const
  ).forEach(([entry, want]) => {
    it(`says "${want}"`, () => {
      const kept = planDeletions(inv, options({ protect: [entry] })).kept[0];
      expect(kept?.reason).toBe("protected");
      expect(kept?.detail).toBe(want);
    });
  });
});

describe("the order of all reasons", () => {
  it("gives every image exactly one outcome, safety before retention, retention in order", () => {
    const images = [
      image("1", ["docker.io/other/x:1"], 1),
      image("2", ["docker.io/acme/base:1"], 1),
      image("3", ["registry.k8s.io/pause:kic"], 1),
      image("4", ["docker.io/acme/used:1"], 1),
      image("5", ["docker.io/acme/pin:1"], 1, { pinned: true }),
      image("6", ["docker.io/acme/prot:1"], 1),
      image("7", ["docker.io/acme/app:new"], 50, { recordedAtMs: day(100) }),
      image("8", ["docker.io/acme/app:9"], 9),
      image("9", ["docker.io/acme/app:1"], 1),
      image("a", ["docker.io/acme/app:2"], 2),
      image("b", ["docker.io/acme/app:3"], 3),
    ];
    for (const img of images) img.recordedAtMs ??= 0;
    const inv = inventory(images, {
      configuredSandboxImage: "registry.k8s.io/pause:kic",
      containers: [running("u", "docker.io/acme/used:1")],
      imageTimesKnown: true,
    });
    const plan = planDeletions(
      inv,
      options({
        include: ["/^docker\\.io\\/acme\\//", "registry.k8s.io/**"],
        exclude: ["acme/base"],
        protect: [{ ref: "acme/prot:1", neededBy: { pod: "shop/p", phase: "Pending", pods: 1 } }],
        minAgeSeconds: 3600,
        keepNewest: 2,
        limits: { maxImages: 1 },
      }),
    );
    expect(plan.delete.map((i) => i.names[0])).toEqual(["docker.io/acme/app:1"]);
    expect(keptReasons(plan)).toEqual({
      ...SAFETY_KEPT,
      "docker.io/acme/app:new": "too-new",
      "docker.io/acme/app:9": "newest",
      "docker.io/acme/app:3": "limit",
      "docker.io/acme/app:2": "limit",
    });
    expect(plan.kept.find((k) => k.reason === "protected")?.detail).toBe(
      "needed by pod shop/p (Pending)",
    );
    expect(plan.matched).toBe(9);
    expect(plan.cutByLimit).toBe(2);
  });
});

describe("--only-if-pullable", () => {
  const images = () => [
    image("1", ["docker.io/acme/app:1"], 1),
    image("2", ["docker.io/acme/app:2"], 2),
    image("3", ["docker.io/acme/app:3"], 3),
    image("4", ["docker.io/acme/app:4"], 4),
    image("5", ["docker.io/acme/used:1"], 1),
  ];
  const inv = () => inventory(images(), { containers: [running("u", "docker.io/acme/used:1")] });

  it("asks only about what every other rule but the limits would delete", () => {
    const asked = pullabilityCandidates(
      inv(),
      options({ keepNewest: 1, limits: { maxImages: 1 } }),
    );
    // app:4 is the newest, used:1 in use: neither is asked about; the limit picks later.
    expect(asked.map((i) => i.names[0])).toEqual([
      "docker.io/acme/app:1",
      "docker.io/acme/app:2",
      "docker.io/acme/app:3",
    ]);
  });

  it("keeps what its registry would not serve again, after too-new and before newest and the limits", () => {
    const opts = options({
      keepNewest: 1,
      limits: { maxImages: 1 },
      unpullable: new Map([[id("1"), "docker.io no longer serves acme/app:1 (HTTP 404)"]]),
    });
    expect(outcome(inv(), opts)).toEqual({
      "docker.io/acme/app:1": "not-pullable",
      // The oldest pullable one goes first under the limit.
      "docker.io/acme/app:2": "delete",
      "docker.io/acme/app:3": "limit",
      "docker.io/acme/app:4": "newest",
      "docker.io/acme/used:1": "in-use",
    });
    expect(detailOf(inv(), opts, "docker.io/acme/app:1")).toBe(
      "docker.io no longer serves acme/app:1 (HTTP 404)",
    );
  });
});
