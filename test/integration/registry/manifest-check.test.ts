// The registry client against a real registry (Debian's docker-registry, distribution 2.8) on
// loopback: served, no longer served (a manifest deleted between two checks), refused, unreachable,
// no answer in time, with Basic auth and with Docker Hub's Bearer token flow.
import { createServer, type Server } from "node:http";
import { createServer as createTcpServer, type Socket } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { credentialStore, type CredentialStore } from "../../../src/registry/credentials.js";
import { manifestChecker } from "../../../src/registry/manifest-check.js";
import { freePort } from "../../support/pushgateway.js";
import { registryWithImage, startRegistry, type TestRegistry } from "../../support/registry.js";

const TIMEOUT_MS = 3000;

function storeFor(registry: TestRegistry, password = registry.password): CredentialStore {
  return credentialStore([
    [registry.host, { username: registry.user, password, source: "kic-test/pull-secret" }],
  ]);
}

describe("a registry anyone may pull from", () => {
  let registry: TestRegistry;
  beforeAll(async () => {
    registry = await startRegistry("none");
  });
  afterAll(() => registry.stop());

  it("serves a pushed tag and its digest, and no longer serves them once the manifest is deleted", async () => {
    const ref = `${registry.host}/team/app:v1`;
    const digest = await registry.push(ref);
    const checker = manifestChecker({ credentials: credentialStore([]), timeoutMs: TIMEOUT_MS });
    expect(await checker.check(ref)).toEqual({ kind: "served", digest });
    expect(await checker.check(`${registry.host}/team/app@${digest}`)).toEqual({
      kind: "served",
      digest,
    });

    await registry.deleteManifest("team/app", digest);

    expect(await checker.check(ref)).toEqual({
      kind: "not-served",
      detail: `${registry.host} no longer serves team/app:v1 (HTTP 404)`,
    });
    expect(await checker.check(`${registry.host}/team/app@${digest}`)).toEqual({
      kind: "not-served",
      detail: `${registry.host} no longer serves team/app@${digest} (HTTP 404)`,
    });
  });

  it("does not serve an image that never existed", async () => {
    const checker = manifestChecker({ credentials: credentialStore([]), timeoutMs: TIMEOUT_MS });
    expect(await checker.check(`${registry.host}/no/such:image`)).toMatchObject({
      kind: "not-served",
    });
  });
});

describe("a registry with Basic auth (htpasswd)", () => {
  const pushed = registryWithImage("htpasswd", "private/app:v1");

  it("serves the image to the pull Secret's credentials", async () => {
    const checker = manifestChecker({
      credentials: storeFor(pushed.registry),
      timeoutMs: TIMEOUT_MS,
    });
    expect(await checker.check(pushed.ref)).toEqual({ kind: "served", digest: pushed.digest });
  });

  it("without credentials: says the registry needs them and which Secret to add", async () => {
    const checker = manifestChecker({ credentials: credentialStore([]), timeoutMs: TIMEOUT_MS });
    expect(await checker.check(pushed.ref)).toEqual({
      kind: "denied",
      detail: `${pushed.registry.host} needs credentials (HTTP 401) and no credentials name it: add its image pull Secret`,
    });
  });

  it("with a wrong password: names the Secret, never the password", async () => {
    const checker = manifestChecker({
      credentials: storeFor(pushed.registry, "wrong-password"),
      timeoutMs: TIMEOUT_MS,
    });
    const verdict = await checker.check(pushed.ref);
    expect(verdict).toEqual({
      kind: "denied",
      detail: `${pushed.registry.host} refused the credentials of kic-test/pull-secret for private/app:v1 (HTTP 401)`,
    });
    expect(JSON.stringify(verdict)).not.toContain("wrong-password");
  });
});

describe("a registry with Docker Hub's token flow (WWW-Authenticate: Bearer)", () => {
  const pushed = registryWithImage("token", "private/api:v2");

  it("gets a pull token for the repository with the Secret's credentials and is served", async () => {
    pushed.registry.tokenRequests.length = 0;
    const checker = manifestChecker({
      credentials: storeFor(pushed.registry),
      timeoutMs: TIMEOUT_MS,
    });
    expect(await checker.check(pushed.ref)).toEqual({ kind: "served", digest: pushed.digest });
    expect(await checker.check(`${pushed.registry.host}/private/api@${pushed.digest}`)).toEqual({
      kind: "served",
      digest: pushed.digest,
    });
    // One token for the repository, asked for pull only and reused for the second name.
    expect(pushed.registry.tokenRequests).toEqual([
      "?service=kic-test-registry&scope=repository%3Aprivate%2Fapi%3Apull",
    ]);
  });

  it("a token service that refuses the credentials: denied, naming the Secret", async () => {
    const checker = manifestChecker({
      credentials: storeFor(pushed.registry, "wrong-password"),
      timeoutMs: TIMEOUT_MS,
    });
    expect(await checker.check(pushed.ref)).toEqual({
      kind: "denied",
      detail: expect.stringMatching(
        /^token service 127\.0\.0\.1:\d+ refused the credentials of kic-test\/pull-secret \(HTTP 401\)$/,
      ) as string,
    });
  });
});

describe("registries that give no answer about the image", () => {
  it("a registry nobody listens on: unreachable, and its other images get that answer without asking again", async () => {
    const host = `127.0.0.1:${String(await freePort())}`;
    const checker = manifestChecker({ credentials: credentialStore([]), timeoutMs: TIMEOUT_MS });
    const first = await checker.check(`${host}/a:v1`);
    expect(first).toEqual({ kind: "unreachable", detail: `${host} not reached: ECONNREFUSED` });
    expect(await checker.check(`${host}/b:v1`)).toEqual(first);
  });

  it("a registry that accepts the connection and never answers: cut off after the timeout", async () => {
    const sockets: Socket[] = [];
    const silent = createTcpServer((s) => sockets.push(s));
    const port = await freePort();
    await new Promise<void>((resolve) => silent.listen(port, "127.0.0.1", resolve));
    try {
      const checker = manifestChecker({ credentials: credentialStore([]), timeoutMs: 500 });
      expect(await checker.check(`127.0.0.1:${String(port)}/slow:v1`)).toEqual({
        kind: "unreachable",
        detail: `127.0.0.1:${String(port)} not reached: no answer in time`,
      });
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) =>
        silent.close(() => {
          resolve();
        }),
      );
    }
  });

  // The realm is this machine under a name that is no loopback name (an IPv4-mapped IPv6 address):
  // refused by the rule, and reachable if the rule failed, so the test can tell, and nothing leaves
  // this machine either way.
  it("a registry that names a plain-HTTP token realm on a host that is no loopback name: the realm is not followed", async () => {
    let realmAsked = false;
    const realm: Server = createServer((_req, res) => {
      realmAsked = true;
      res.end('{"token":"x"}');
    });
    const registryLike: Server = createServer((_req, res) => {
      res
        .writeHead(401, {
          "www-authenticate": `Bearer realm="http://[::ffff:7f00:1]:${String(realmPort)}/token",service="x"`,
        })
        .end();
    });
    const realmPort = await freePort();
    const port = await freePort();
    await new Promise<void>((resolve) => realm.listen(realmPort, "127.0.0.1", resolve));
    await new Promise<void>((resolve) => registryLike.listen(port, "127.0.0.1", resolve));
    try {
      const checker = manifestChecker({ credentials: credentialStore([]), timeoutMs: TIMEOUT_MS });
      const verdict = await checker.check(`127.0.0.1:${String(port)}/x:v1`);
      expect(verdict.kind).toBe("unreachable");
      expect(verdict).toMatchObject({
        detail: expect.stringContaining("only HTTPS realms are followed") as string,
      });
      expect(realmAsked).toBe(false);
    } finally {
      await new Promise<void>((resolve) =>
        realm.close(() => {
          resolve();
        }),
      );
      await new Promise<void>((resolve) =>
        registryLike.close(() => {
          resolve();
        }),
      );
    }
  });
});
