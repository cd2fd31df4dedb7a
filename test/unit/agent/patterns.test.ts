import { describe, expect, it } from "vitest";
import { expectRefused } from "../support/refused-pattern.js";
import {
  canonicalId,
  compilePatterns,
  firstMatch,
  isImageId,
  normalisePattern,
  normaliseReference,
  type PatternRole,
} from "../../../src/config/patterns.js";
import { ConfigError } from "../../../src/errors.js";

const HEX = "ab".repeat(32);
const ID = `sha256:${HEX}`;
const DIGEST = `sha256:${"cd".repeat(32)}`;

describe("normaliseReference", () => {
  [
    ["nginx", "docker.io/library/nginx:latest"],
    ["nginx:1.25", "docker.io/library/nginx:1.25"],
    ["library/nginx:1.25", "docker.io/library/nginx:1.25"],
    ["docker.io/library/nginx:1.25", "docker.io/library/nginx:1.25"],
    ["bitnami/redis:7", "docker.io/bitnami/redis:7"],
    ["index.docker.io/bitnami/redis:7", "docker.io/bitnami/redis:7"],
    ["registry-1.docker.io/library/nginx", "docker.io/library/nginx:latest"],
    ["quay.io/acme/app:1", "quay.io/acme/app:1"],
    ["quay.io/acme/app", "quay.io/acme/app:latest"],
    ["localhost/app:1", "localhost/app:1"],
    ["localhost:5000/app", "localhost:5000/app:latest"],
    ["registry.k8s.io/pause:3.10", "registry.k8s.io/pause:3.10"],
    [`nginx@${ID}`, `docker.io/library/nginx@${ID}`],
    [`nginx:1.25@${ID}`, `docker.io/library/nginx:1.25@${ID}`],
    [ID, ID],
    // CRI-O's image ids have no sha256: prefix; a 64-hex name is not a valid repository.
    [HEX, ID],
    [`docker-pullable://nginx@${ID}`, `docker.io/library/nginx@${ID}`],
  ].forEach(([given, want]) => {
    it(`normalises ${given} to ${want}`, () => {
      expect(normaliseReference(given ?? "")).toBe(want);
    });
  });
});

describe("image ids", () => {
  it("takes sha256:<hex> and CRI-O's bare hex as ids, and writes both the same way", () => {
    expect([isImageId(ID), isImageId(HEX), isImageId("nginx"), isImageId(`${HEX}0`)]).toEqual([
      true,
      true,
      false,
      false,
    ]);
    expect(canonicalId(HEX)).toBe(ID);
    expect(canonicalId(ID)).toBe(ID);
  });
});

describe("normalisePattern", () => {
  (
    [
      ["include", "nginx:*", "docker.io/library/nginx:*"],
      ["include", "nginx", "docker.io/library/nginx:latest"],
      ["exclude", "nginx", "docker.io/library/nginx"],
      ["include", "registry.example.com/team/keep", "registry.example.com/team/keep:latest"],
      ["exclude", "registry.example.com/team/keep", "registry.example.com/team/keep"],
      ["exclude", "registry.example.com/team/keep:1", "registry.example.com/team/keep:1"],
      ["include", "acme/*", "docker.io/acme/*"],
      ["include", "docker.io/acme/*", "docker.io/acme/*"],
      ["include", "docker.io/*", "docker.io/library/*"],
      ["include", "docker.io/**", "docker.io/**"],
      ["exclude", "docker.io/**", "docker.io/**"],
      ["exclude", "index.docker.io/**", "docker.io/**"],
      ["include", "quay.io/acme/**", "quay.io/acme/**"],
      ["include", "**/pause:*", "**/pause:*"],
      ["include", "*/library/nginx:1.*", "*/library/nginx:1.*"],
      ["include", "sha256:ab*", "sha256:ab*"],
      ["include", HEX, ID],
      ["exclude", HEX, ID],
      ["include", `nginx@${ID}`, `docker.io/library/nginx@${ID}`],
    ] as [PatternRole, string, string][]
  ).forEach(([role, given, want]) => {
    it(`normalises the ${role} pattern ${given} to ${want}`, () => {
      expect(normalisePattern(given, role)).toBe(want);
    });
  });
});

/**
 * What each pattern covers, per role. An exclude errs wide (a tagless repository covers all its
 * tags and digests); an include is never broader than written (no tag means :latest).
 */
const MATCHES: [PatternRole, string, string, boolean][] = [
  // docker.io/** is all of Docker Hub, official images and organisations alike.
  ["exclude", "docker.io/**", "docker.io/acme/app:1", true],
  ["exclude", "docker.io/**", "nginx:1.25", true],
  ["exclude", "docker.io/**", "docker.io/a/b/c:1", true],
  ["exclude", "docker.io/**", `docker.io/acme/app@${DIGEST}`, true],
  ["exclude", "docker.io/**", "quay.io/acme/app:1", false],
  ["include", "docker.io/**", "docker.io/acme/app:1", true],
  ["include", "docker.io/**", "nginx:1.25", true],
  ["include", "docker.io/**", "quay.io/acme/app:1", false],
  // docker.io/* is one segment under docker.io: the official images, as `docker pull nginx` means.
  ["include", "docker.io/*", "nginx:1.25", true],
  ["include", "docker.io/*", "docker.io/acme/app:1", false],
  // A tagless exclude is the whole repository; a tagless include only :latest.
  ["exclude", "registry.example.com/team/keep", "registry.example.com/team/keep:1", true],
  ["exclude", "registry.example.com/team/keep", "registry.example.com/team/keep:latest", true],
  ["exclude", "registry.example.com/team/keep", `registry.example.com/team/keep@${DIGEST}`, true],
  ["exclude", "registry.example.com/team/keep", `registry.example.com/team/keep:1@${DIGEST}`, true],
  ["exclude", "registry.example.com/team/keep", "registry.example.com/team/keeper:1", false],
  ["exclude", "registry.example.com/team/keep", "registry.example.com/team/keep/sub:1", false],
  ["exclude", "registry.example.com/team/keep", "registry.example.com/team/kee:1", false],
  ["include", "registry.example.com/team/keep", "registry.example.com/team/keep:latest", true],
  ["include", "registry.example.com/team/keep", "registry.example.com/team/keep:1", false],
  ["include", "registry.example.com/team/keep", `registry.example.com/team/keep@${DIGEST}`, false],
  ["exclude", "nginx", "nginx:1.25", true],
  ["exclude", "nginx", `docker.io/library/nginx@${DIGEST}`, true],
  ["exclude", "nginx", "docker.io/acme/nginx:1", false],
  ["include", "nginx", "nginx:1.25", false],
  ["include", "nginx", "nginx", true],
  // A tagless glob: as an exclude it covers the repositories it names, with any tag.
  ["exclude", "docker.io/acme/ap?", "docker.io/acme/app:1", true],
  ["exclude", "docker.io/acme/ap?", `docker.io/acme/app@${DIGEST}`, true],
  ["include", "docker.io/acme/ap?", "docker.io/acme/app:1", false],
  ["exclude", "acme/*", "docker.io/acme/app:1", true],
  ["exclude", "acme/*", `docker.io/acme/app@${DIGEST}`, true],
  ["exclude", "acme/*", "docker.io/acme/team/app:1", false],
  ["include", "acme/*", "docker.io/acme/app:1", true],
  // A tag or digest in the pattern keeps it exact, in both roles.
  ["exclude", "acme/app:1", "docker.io/acme/app:1", true],
  ["exclude", "acme/app:1", "docker.io/acme/app:2", false],
  ["exclude", "acme/app:1", `docker.io/acme/app@${DIGEST}`, false],
  ["exclude", "acme/app:*", "docker.io/acme/app:2", true],
  ["include", `acme/app@sha256:*`, `docker.io/acme/app@${DIGEST}`, true],
  ["include", `acme/app@sha256:*`, "docker.io/acme/app:1", false],
  // Starting with a glob: as written, any registry.
  ["include", "**/pause:*", "registry.k8s.io/pause:3.10", true],
  ["include", "**/pause:*", "docker.io/library/pause:1", true],
  ["include", "*/nginx:*", "quay.io/nginx:1", true],
  ["include", "*/nginx:*", "nginx:1", false],
  ["include", "**", "quay.io/a/b:1", true],
  ["exclude", "**", "quay.io/a/b:1", true],
  // Tags may have capitals.
  ["include", "acme/app:Latest", "docker.io/acme/app:Latest", true],
  ["include", "acme/app:Latest", "docker.io/acme/app:latest", false],
  // * stays within a segment, ** crosses; names starting with a dot are names.
  ["include", "docker.io/acme/*", "docker.io/acme/team/app:1", false],
  ["include", "docker.io/acme/**", "docker.io/acme/team/app:1", true],
  ["include", "docker.io/acme/*", "docker.io/acme/.hidden:1", true],
  ["include", "nginx:1.25", "docker.io/library/nginx:1.25", true],
  ["include", "docker.io/library/nginx:*", "nginx:1.25", true],
];

describe("what a pattern covers", () => {
  MATCHES.forEach(([role, pattern, name, want]) => {
    it(`${role} ${pattern} ${want ? "covers" : "does not cover"} ${name}`, () => {
      const got = firstMatch(compilePatterns(`--${role}`, [pattern], role), [name], ID);
      expect(got !== undefined).toBe(want);
    });
  });

  it("never lets an include cover more than the same pattern as an exclude", () => {
    for (const [, pattern, name] of MATCHES) {
      const as = (role: PatternRole) =>
        firstMatch(compilePatterns(`--${role}`, [pattern], role), [name], ID) !== undefined;
      if (as("include")) expect(as("exclude"), `${pattern} on ${name}`).toBe(true);
    }
  });

  it("matches the image id with sha256: and bare hex patterns, whichever way the runtime writes it", () => {
    const match = (pattern: string, id: string) =>
      firstMatch(compilePatterns("--include", [pattern], "include"), [], id)?.name;
    expect(match("sha256:abab*", ID)).toBe(ID);
    expect(match("sha256:abab*", HEX)).toBe(ID);
    expect(match(HEX, HEX)).toBe(ID);
    expect(match(HEX, ID)).toBe(ID);
    expect(match("sha256:cd*", ID)).toBeUndefined();
  });

  it("matches untagged images only through an id pattern", () => {
    const match = (pattern: string) =>
      firstMatch(compilePatterns("--include", [pattern], "include"), [], ID);
    expect(match("**")).toBeUndefined();
    expect(match("sha256:abab*")).toBeDefined();
  });

  it("returns the first matching pattern of several, by any of the image's names", () => {
    const got = firstMatch(
      compilePatterns("--include", ["quay.io/other/*", "quay.io/acme/*"], "include"),
      ["docker.io/acme/app:1", "quay.io/acme/app:1"],
      ID,
    );
    expect(got).toMatchObject({
      name: "quay.io/acme/app:1",
      pattern: { source: "quay.io/acme/*" },
    });
  });
});

describe("patterns that can never match are refused", () => {
  (
    [
      ["*", /registry and a path/],
      ["*:latest", /registry and a path/],
      ["?nginx", /registry and a path/],
      ["Nginx", /lowercase/],
      ["acme/App:*", /lowercase/],
      ["docker.io/ACME/**", /lowercase/],
      ["quay.io/Acme/app", /lowercase/],
      [`nginx@sha256:${"AB".repeat(32)}`, /lowercase hex/],
      ["sha256:ABC*", /sha256: followed by lowercase hex/],
      ["sha256:xyz", /sha256: followed by lowercase hex/],
      ["acme//app:*", /empty path segment/],
      ["quay.io/acme/", /empty path segment/],
      ["/acme/app", /a pattern starting with \/ is a regular expression written \/re\/ or \/re\/i/],
      ["$(touch /tmp/x);rm -rf *", /characters no image reference contains/],
      ["#nginx", /characters no image reference contains/],
      ["acme/app:1 ", /characters no image reference contains/],
      ["!nginx:*", /registry and a path/],
    ] as [string, RegExp][]
  ).forEach(([pattern, why]) => {
    for (const role of ["include", "exclude"] as PatternRole[]) {
      it(`refuses --${role} ${JSON.stringify(pattern)}, naming key and value`, () => {
        expectRefused(role, pattern, why);
      });
    }
  });

  it("refuses an empty pattern, naming the option", () => {
    expect(() => compilePatterns("--exclude", [" "], "exclude")).toThrow(ConfigError);
    expect(() => compilePatterns("--exclude", [""], "exclude")).toThrow(/--exclude/);
  });

  it("accepts capitals in a registry host and a tag", () => {
    expect(() =>
      compilePatterns("--include", ["Registry.Example.com/acme/app:V1"], "include"),
    ).not.toThrow();
  });
});
