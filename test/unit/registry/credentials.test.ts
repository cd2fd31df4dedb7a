import { describe, expect, it } from "vitest";
import {
  basicAuthorization,
  credentialFor,
  credentialStore,
  describeCredentials,
  parseDockerConfig,
  registryOfKey,
} from "../../../src/registry/credentials.js";

const b64 = (s: string) => Buffer.from(s).toString("base64");

describe("parseDockerConfig", () => {
  it("reads auth and username/password entries, keyed by registry host", () => {
    const parsed = parseDockerConfig(
      JSON.stringify({
        auths: {
          "https://index.docker.io/v1/": { auth: b64("hub:pa:ss") },
          "127.0.0.1:5100": { username: "kic", password: "secret" },
        },
      }),
      "ns/pull",
    );
    expect(parsed).toEqual({
      entries: [
        ["docker.io", { username: "hub", password: "pa:ss", source: "ns/pull" }],
        ["127.0.0.1:5100", { username: "kic", password: "secret", source: "ns/pull" }],
      ],
    });
  });

  [
    { text: "{not json", problem: "ns/s: .dockerconfigjson is not JSON" },
    { text: "{}", problem: 'ns/s: .dockerconfigjson has no "auths" object' },
    {
      text: JSON.stringify({ auths: { "q.io": { auth: b64("nocolon") } } }),
      problem: 'auths entry "q.io" has neither',
    },
    {
      text: JSON.stringify({ auths: { "": {} } }),
      problem: 'auths entry "" names no registry host',
    },
  ].forEach((t) => {
    it(`refuses ${t.text.slice(0, 40)}`, () => {
      const parsed = parseDockerConfig(t.text, "ns/s");
      expect("problem" in parsed ? parsed.problem : "").toContain(t.problem);
    });
  });

  it("never quotes a password in its problems", () => {
    const parsed = parseDockerConfig('{"auths": {"q.io": {"password": "hunter2"', "ns/s");
    expect(JSON.stringify(parsed)).not.toContain("hunter2");
  });
});

describe("credentials lookup", () => {
  const store = credentialStore([
    ["docker.io", { username: "a", password: "1", source: "ns/first" }],
    ["docker.io", { username: "b", password: "2", source: "ns/second" }],
    ["127.0.0.1:5100", { username: "c", password: "3", source: "ns/local" }],
  ]);

  it("matches Docker Hub under each of its names, and hosts with their port; the first Secret wins", () => {
    expect(credentialFor(store, "docker.io")?.source).toBe("ns/first");
    expect(credentialFor(store, "registry-1.docker.io")?.source).toBe("ns/first");
    expect(credentialFor(store, "127.0.0.1:5100")?.source).toBe("ns/local");
    expect(credentialFor(store, "127.0.0.1")).toBeUndefined();
  });

  it("keys: scheme and path dropped, host lower-cased", () => {
    expect(registryOfKey("https://Quay.IO/v1/")).toBe("quay.io");
    expect(registryOfKey("registry.hub.docker.com")).toBe("docker.io");
    expect(registryOfKey("user@host")).toBeUndefined();
  });

  it("describes a credential by its source, and builds Basic authorization", () => {
    const c = credentialFor(store, "127.0.0.1:5100");
    expect(describeCredentials(c)).toBe("the credentials of ns/local");
    expect(describeCredentials(undefined)).toBe("no credentials");
    expect(c && basicAuthorization(c)).toBe(`Basic ${b64("c:3")}`);
  });
});
