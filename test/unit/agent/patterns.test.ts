import { describe, expect, it } from "vitest";
import {
  compilePatterns,
  firstMatch,
  normalisePattern,
  normaliseReference,
} from "../../../src/config/patterns.js";
import { ConfigError } from "../../../src/errors.js";

const ID = `sha256:${"ab".repeat(32)}`;

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
    [`docker-pullable://nginx@${ID}`, `docker.io/library/nginx@${ID}`],
  ].forEach(([given, want]) => {
    it(`normalises ${given} to ${want}`, () => {
      expect(normaliseReference(given ?? "")).toBe(want);
    });
  });
});

describe("normalisePattern", () => {
  [
    ["nginx:*", "docker.io/library/nginx:*"],
    ["nginx", "docker.io/library/nginx:latest"],
    ["acme/*", "docker.io/acme/*"],
    ["docker.io/acme/*", "docker.io/acme/*"],
    ["quay.io/acme/**", "quay.io/acme/**"],
    ["**/pause:*", "**/pause:*"],
    ["*/library/nginx:1.*", "*/library/nginx:1.*"],
    ["sha256:ab*", "sha256:ab*"],
    [`nginx@${ID}`, `docker.io/library/nginx@${ID}`],
  ].forEach(([given, want]) => {
    it(`normalises the pattern ${given} to ${want}`, () => {
      expect(normalisePattern(given ?? "")).toBe(want);
    });
  });
});

describe("firstMatch", () => {
  const match = (patterns: string[], names: string[], id = ID) =>
    firstMatch(compilePatterns("--include", patterns), names, id)?.pattern.source;

  it("matches a short pattern against the runtime's long name", () => {
    expect(match(["nginx:1.25"], ["docker.io/library/nginx:1.25"])).toBe("nginx:1.25");
  });
  it("matches a long pattern against a short name", () => {
    expect(match(["docker.io/library/nginx:*"], ["nginx:1.25"])).toBe("docker.io/library/nginx:*");
  });
  it("does not let * cross a slash", () => {
    expect(match(["docker.io/acme/*"], ["docker.io/acme/team/app:1"])).toBeUndefined();
    expect(match(["docker.io/acme/**"], ["docker.io/acme/team/app:1"])).toBe("docker.io/acme/**");
  });
  it("matches any of an image's names", () => {
    expect(match(["quay.io/acme/*"], ["docker.io/acme/app:1", "quay.io/acme/app:1"])).toBe(
      "quay.io/acme/*",
    );
  });
  it("matches repo digests with a digest pattern", () => {
    expect(match(["acme/app@sha256:*"], [`docker.io/acme/app@${ID}`])).toBe("acme/app@sha256:*");
  });
  it("matches untagged images only through an id pattern", () => {
    expect(match(["**"], [])).toBeUndefined();
    expect(match(["sha256:abab*"], [])).toBe("sha256:abab*");
  });
  it("does not match ids with name patterns", () => {
    expect(match(["*"], [], ID)).toBeUndefined();
  });
  it("takes shell metacharacters as text", () => {
    expect(match(["$(touch /tmp/x);rm -rf *"], ["docker.io/library/app:1"])).toBeUndefined();
  });
  it("treats a leading ! and # as text, not negation or comment", () => {
    expect(match(["!nginx:*"], ["docker.io/library/nginx:1"])).toBeUndefined();
    expect(match(["#nginx"], ["docker.io/library/nginx:1"])).toBeUndefined();
  });
  it("matches names starting with a dot", () => {
    expect(match(["docker.io/acme/*"], ["docker.io/acme/.hidden:1"])).toBe("docker.io/acme/*");
  });
  it("refuses an empty pattern, naming the option", () => {
    expect(() => compilePatterns("--exclude", [" "])).toThrow(ConfigError);
    expect(() => compilePatterns("--exclude", [""])).toThrow(/--exclude/);
  });
});
