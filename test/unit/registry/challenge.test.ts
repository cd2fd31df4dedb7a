import { describe, expect, it } from "vitest";
import { parseChallenges } from "../../../src/registry/challenge.js";

describe("parseChallenges", () => {
  it("reads Docker Hub's Bearer challenge", () => {
    expect(
      parseChallenges(
        'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/nginx:pull"',
      ),
    ).toEqual([
      {
        scheme: "bearer",
        params: {
          realm: "https://auth.docker.io/token",
          service: "registry.docker.io",
          scope: "repository:library/nginx:pull",
        },
      },
    ]);
  });

  it("reads a Basic challenge, token values, escapes, commas in quotes and spaces around =", () => {
    expect(parseChallenges('Basic realm="basic-realm"')).toEqual([
      { scheme: "basic", params: { realm: "basic-realm" } },
    ]);
    expect(
      parseChallenges('Bearer realm = "https://a/t?x=1,y=2", Service=reg, error="say \\"no\\""'),
    ).toEqual([
      {
        scheme: "bearer",
        params: { realm: "https://a/t?x=1,y=2", service: "reg", error: 'say "no"' },
      },
    ]);
  });

  it("reads several challenges in one value", () => {
    expect(parseChallenges('Basic realm="r", Bearer realm="https://a/t",service="s"')).toEqual([
      { scheme: "basic", params: { realm: "r" } },
      { scheme: "bearer", params: { realm: "https://a/t", service: "s" } },
    ]);
  });

  [
    "",
    'Bearer realm="unterminated',
    "Bearer realm=",
    '"quoted" realm=x',
    'Bearer realm="a" garbage="',
  ].forEach((value) => {
    it(`answers nothing to ${JSON.stringify(value)}`, () => {
      expect(parseChallenges(value)).toEqual([]);
    });
  });
});
