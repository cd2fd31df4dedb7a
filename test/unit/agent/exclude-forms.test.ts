// Every way an operator may write an exclude for one image keeps it, whichever client listed the
// image: ctr (tags and the manifest digest), crictl after a CRI pull (tags and repo digests) and
// crictl after an import (tags only, no manifest digest at all). Refusals of what an exclude cannot
// mean are here too. The same forms on the real containerd: test/integration/agent/exclude-forms.test.ts.
import { describe, expect, it } from "vitest";
import type { ImageRecord, Inventory } from "../../../src/agent/inventory.js";
import { planDeletions, type PlanOptions } from "../../../src/agent/plan.js";
import {
  compilePatterns,
  excludeSpellings,
  familiarName,
  type PatternRole,
} from "../../../src/config/patterns.js";
import { ConfigError } from "../../../src/errors.js";

const CONFIG_HEX = "9705fd1c48a5844dd25ba7520d1273bba8eaeca9b84e0cb85c3be7978aeb2623";
const MANIFEST_HEX = "b2c15bf14db131b7934e3fbd1bfdfe9c978500e8ff5d9ee2577267fa76bf80cf";
const ID = `sha256:${CONFIG_HEX}`;
const MANIFEST = `sha256:${MANIFEST_HEX}`;
const OTHER = `sha256:${"e".repeat(64)}`;

/** docker.io/library/nginx:1.25 as each client lists it. */
const AS_LISTED: Record<string, Pick<ImageRecord, "names" | "digests">> = {
  ctr: { names: ["docker.io/library/nginx:1.25"], digests: [MANIFEST] },
  "crictl (pulled)": {
    names: ["docker.io/library/nginx:1.25", `docker.io/library/nginx@${MANIFEST}`],
    digests: [MANIFEST],
  },
  "crictl (imported)": { names: ["docker.io/library/nginx:1.25"], digests: [] },
};

/** Each form an operator may copy from `crictl images`, `ctr images ls`, `docker images` or a pod's imageID. */
const KEEPING_FORMS = [
  "nginx",
  "nginx:1.25",
  "docker.io/library/nginx:1.25",
  "/^nginx/",
  "/^nginx:1\\.25$/",
  "/^nginx$/",
  "/^docker\\.io\\/library\\/nginx:/",
  ID,
  CONFIG_HEX,
  `sha256:${CONFIG_HEX.slice(0, 12)}`,
  CONFIG_HEX.slice(0, 13),
  "sha256:9705fd1c*",
  MANIFEST,
  MANIFEST_HEX,
  `sha256:${MANIFEST_HEX.slice(0, 12)}`,
  `nginx@${MANIFEST}`,
  `docker.io/library/nginx@${MANIFEST}`,
  `nginx:1.25@${MANIFEST}`,
  `docker-pullable://docker.io/library/nginx@${MANIFEST}`,
  "nginx@sha256:*",
  `/@${MANIFEST}$/`,
];

function record(listed: Pick<ImageRecord, "names" | "digests">): ImageRecord {
  return { id: ID, ...listed, sizeBytes: 1000, pinned: false, refs: [...listed.names, ID] };
}

function plan(images: ImageRecord[], exclude: string[]) {
  const options: PlanOptions = {
    include: compilePatterns("--include", ["**"], "include"),
    exclude: compilePatterns("--exclude", exclude, "exclude"),
    protect: [],
    nowMs: 1_000_000_000_000,
  };
  const inventory: Inventory = { images, containers: [], sandboxes: [], imageTimesKnown: false };
  return planDeletions(inventory, options);
}

describe("every form of an exclude keeps the image, whichever client listed it", () => {
  for (const [client, listed] of Object.entries(AS_LISTED)) {
    for (const form of KEEPING_FORMS) {
      it(`--include '**' --exclude '${form}' keeps docker.io/library/nginx:1.25 listed by ${client}`, () => {
        const p = plan([record(listed)], [form]);
        expect(p.delete).toEqual([]);
        expect(p.kept).toMatchObject([{ id: ID, reason: "excluded" }]);
      });
    }
  }

  it("still deletes what the exclude does not name", () => {
    for (const [client, listed] of Object.entries(AS_LISTED)) {
      for (const form of [
        "quay.io/nginx",
        "/^redis/",
        OTHER,
        `sha256:${"e".repeat(12)}`,
        `redis@${MANIFEST}`,
      ]) {
        const other = record({ names: ["docker.io/library/redis:7"], digests: [OTHER] });
        const p = plan([record(listed), other], [form]);
        expect(
          p.delete.map((i) => i.names[0]),
          `${client}: ${form}`,
        ).toContain("docker.io/library/nginx:1.25");
      }
    }
  });

  it("keeps, where the client hides manifest digests, only images a digest exclude may name", () => {
    const imported = record(AS_LISTED["crictl (imported)"] ?? { names: [], digests: [] });
    const known = {
      ...record({ names: ["docker.io/library/redis:7"], digests: [OTHER] }),
      id: OTHER,
    };
    const otherRepo = {
      ...imported,
      id: `sha256:${"f".repeat(64)}`,
      names: ["docker.io/acme/app:1"],
    };
    // The manifest digest matches nothing this client lists: the images it lists without one may
    // be it, and are kept; one whose digest is known is not it.
    const p = plan([imported, known, otherRepo], [MANIFEST]);
    expect(p.kept.map((k) => k.id).sort()).toEqual([ID, otherRepo.id].sort());
    expect(p.kept[0]?.detail).toMatch(/manifest digest is unknown to the client/);
    // Naming a repository narrows it to that repository's images.
    const named = plan([imported, known, otherRepo], [`nginx@${MANIFEST}`]);
    expect(named.kept.map((k) => k.id)).toEqual([ID]);
    // Resolved on this node: nothing else is held back.
    const resolved = plan([imported, { ...known, digests: [MANIFEST] }], [MANIFEST]);
    expect(resolved.delete.map((i) => i.id)).toEqual([ID]);
  });

  it("names the spelling that matched in the reason", () => {
    const p = plan([record(AS_LISTED.ctr ?? { names: [], digests: [] })], ["/^nginx:/"]);
    expect(p.kept[0]?.detail).toBe("nginx:1.25 matches --exclude /^nginx:/");
  });
});

describe("the spellings an exclude is tried against", () => {
  it("are the familiar and normalised names, with and without tag, with each digest, and the digests", () => {
    const spellings = excludeSpellings({ names: ["nginx:1.25"], id: ID, digests: [MANIFEST] });
    for (const s of [
      "nginx:1.25",
      "docker.io/library/nginx:1.25",
      "nginx",
      "docker.io/library/nginx",
      `nginx@${MANIFEST}`,
      `docker.io/library/nginx:1.25@${MANIFEST}`,
      `nginx@${ID}`,
      ID,
      MANIFEST,
    ])
      expect(spellings).toContain(s);
  });

  it("write Docker Hub names the familiar way and leave other registries as they are", () => {
    expect(familiarName("docker.io/library/nginx:1.25")).toBe("nginx:1.25");
    expect(familiarName("docker.io/acme/app:1")).toBe("acme/app:1");
    expect(familiarName("quay.io/acme/app:1")).toBe("quay.io/acme/app:1");
  });
});

describe("what an exclude cannot mean is refused (exit 2), with what to write instead", () => {
  (
    [
      ["exclude", "sha256:9705fd1c", /at least 12/],
      ["exclude", "sha256:", /64 hex digits/],
      [
        "exclude",
        `nginx@sha256:${MANIFEST_HEX.slice(0, 12)}`,
        /has 12 hex digits, a digest has 64/,
      ],
      [
        "include",
        `nginx@sha256:${MANIFEST_HEX.slice(0, 12)}`,
        /has 12 hex digits, a digest has 64/,
      ],
      ["include", `sha256:${CONFIG_HEX.slice(0, 12)}`, /an --include id is matched whole/],
    ] as [PatternRole, string, RegExp][]
  ).forEach(([role, pattern, why]) => {
    it(`refuses --${role} ${pattern}`, () => {
      expect(() => compilePatterns(`--${role}`, [pattern], role)).toThrow(ConfigError);
      expect(() => compilePatterns(`--${role}`, [pattern], role)).toThrow(why);
    });
  });
});
