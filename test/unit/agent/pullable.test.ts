import { describe, expect, it } from "vitest";
import { findUnpullable } from "../../../src/agent/pullable.js";
import type { ManifestChecker, ManifestVerdict } from "../../../src/registry/manifest-check.js";

const id = (n: number) => `sha256:${String(n).repeat(64).slice(0, 64)}`;

function checker(verdicts: Record<string, ManifestVerdict>): ManifestChecker & { asked: string[] } {
  const asked: string[] = [];
  return {
    asked,
    check: (name) => {
      asked.push(name);
      return Promise.resolve(verdicts[name] ?? { kind: "served", digest: undefined });
    },
  };
}

describe("findUnpullable", () => {
  it("keeps an image when any of its names is not served, refused or unanswered; asks about every name", async () => {
    const c = checker({
      "r.io/a:old": { kind: "not-served", detail: "r.io no longer serves a:old (HTTP 404)" },
      "r.io/b@sha256:bb": {
        kind: "denied",
        detail: "r.io refused no credentials for b (HTTP 401)",
      },
      "down.io/c:1": { kind: "unreachable", detail: "down.io not reached: ECONNREFUSED" },
    });
    const out = await findUnpullable(
      [
        { id: id(1), names: ["r.io/a:new", "r.io/a:old"] },
        { id: id(2), names: ["r.io/b:1", "r.io/b@sha256:bb"] },
        { id: id(3), names: ["down.io/c:1"] },
        { id: id(4), names: ["r.io/d:1", "r.io/d@sha256:dd", id(4)] },
      ],
      c,
    );
    expect(Object.fromEntries(out)).toEqual({
      [id(1)]: "r.io no longer serves a:old (HTTP 404)",
      [id(2)]: "r.io refused no credentials for b (HTTP 401): not known to be pullable",
      [id(3)]: "down.io not reached: ECONNREFUSED: not known to be pullable",
    });
    // The id is no name a registry serves: never asked about.
    expect(c.asked).not.toContain(id(4));
    expect(c.asked).toEqual(expect.arrayContaining(["r.io/d:1", "r.io/d@sha256:dd"]));
  });

  it("keeps an image known by no tag or repo digest", async () => {
    const out = await findUnpullable([{ id: id(5), names: [id(5)] }], checker({}));
    expect(out.get(id(5))).toBe("known by no tag or repo digest a registry could serve it under");
  });

  it("asks about nothing after the deadline and keeps what it did not ask about", async () => {
    const c = checker({});
    const out = await findUnpullable([{ id: id(6), names: ["r.io/e:1"] }], c, {
      deadlineMs: 10,
      now: () => 10,
    });
    expect(c.asked).toEqual([]);
    expect(out.get(id(6))).toBe("not asked: the node's deadline came first");
  });
});
