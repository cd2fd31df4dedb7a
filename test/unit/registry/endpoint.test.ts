import { describe, expect, it } from "vitest";
import { isLoopbackRegistry, manifestEndpoint } from "../../../src/registry/endpoint.js";

const digest = `sha256:${"a".repeat(64)}`;

describe("manifestEndpoint", () => {
  [
    {
      name: "nginx",
      url: "https://registry-1.docker.io/v2/library/nginx/manifests/latest",
      registry: "docker.io",
    },
    {
      name: "bitnami/redis:7",
      url: "https://registry-1.docker.io/v2/bitnami/redis/manifests/7",
      registry: "docker.io",
    },
    {
      name: "index.docker.io/x/y:1",
      url: "https://registry-1.docker.io/v2/x/y/manifests/1",
      registry: "docker.io",
    },
    {
      name: `quay.io/x/y@${digest}`,
      url: `https://quay.io/v2/x/y/manifests/${digest}`,
      registry: "quay.io",
    },
    {
      name: `quay.io/x/y:1.2@${digest}`,
      url: `https://quay.io/v2/x/y/manifests/${digest}`,
      registry: "quay.io",
    },
    {
      name: "127.0.0.1:5100/team/app:v1",
      url: "http://127.0.0.1:5100/v2/team/app/manifests/v1",
      registry: "127.0.0.1:5100",
    },
    {
      name: "localhost:5000/app:v1",
      url: "http://localhost:5000/v2/app/manifests/v1",
      registry: "localhost:5000",
    },
    {
      name: "registry.example.com:5000/team/app:v1",
      url: "https://registry.example.com:5000/v2/team/app/manifests/v1",
      registry: "registry.example.com:5000",
    },
  ].forEach((t) => {
    it(`asks ${t.url} about ${t.name}`, () => {
      expect(manifestEndpoint(t.name)).toMatchObject({ url: t.url, registry: t.registry });
    });
  });

  it("has no endpoint for image ids and strings that are no reference", () => {
    expect(manifestEndpoint(digest)).toBeUndefined();
    expect(manifestEndpoint("a".repeat(64))).toBeUndefined();
    expect(manifestEndpoint("http://evil/x")).toBeUndefined();
    expect(manifestEndpoint("nginx:1.25\nX-Injected: 1")).toBeUndefined();
  });
});

describe("isLoopbackRegistry", () => {
  [
    ["localhost", true],
    ["localhost:5000", true],
    ["127.0.0.1:5100", true],
    ["127.12.0.9", true],
    ["[::1]:5000", true],
    ["127.0.0.1.example.com", false],
    ["10.0.0.1:5000", false],
    ["registry.local", false],
  ].forEach(([host, loopback]) => {
    it(`${String(host)} is ${loopback === true ? "" : "not "}loopback`, () => {
      expect(isLoopbackRegistry(String(host))).toBe(loopback);
    });
  });
});
