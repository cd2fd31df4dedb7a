// The controller's authentication (SharedAgentAuth): one keep-alive agent for every request, and
// one application of the kubeconfig's credentials (files read, token taken) serving the requests of
// the next CREDENTIALS_REUSE_MS, after which a rotated token or certificate is picked up.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { HttpMethod, KubeConfig, RequestContext } from "@kubernetes/client-node";
import { afterEach, describe, expect, it } from "vitest";
import { CREDENTIALS_REUSE_MS, SharedAgentAuth } from "../../../src/kube/clients.js";

let dir: string | undefined;
afterEach(() => {
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

function configWith(token: string, certFile: string): KubeConfig {
  const config = new KubeConfig();
  load(config, token, certFile);
  return config;
}

function load(config: KubeConfig, token: string, certFile: string): void {
  config.loadFromOptions({
    clusters: [{ name: "c", server: "https://127.0.0.1:6443", caData: "Y2E=" }],
    users: [{ name: "u", token, certFile, keyData: "a2V5" }],
    contexts: [{ name: "c", cluster: "c", user: "u" }],
    currentContext: "c",
  });
}

/** A SharedAgentAuth over token-1 and a client certificate file, on a clock the test moves. */
function authWithCertFile(): {
  auth: SharedAgentAuth;
  config: KubeConfig;
  cert: string;
  clock: { now: number };
} {
  dir = mkdtempSync(join(tmpdir(), "kic-auth-"));
  const cert = join(dir, "client.crt");
  writeFileSync(cert, "cert one");
  const clock = { now: 1_000_000 };
  const config = configWith("token-1", cert);
  return { auth: new SharedAgentAuth(config, () => clock.now), config, cert, clock };
}

async function apply(auth: SharedAgentAuth): Promise<RequestContext> {
  const context = new RequestContext("https://127.0.0.1:6443/api/v1/pods", HttpMethod.GET);
  await auth.applySecurityAuthentication(context);
  return context;
}

describe("SharedAgentAuth", () => {
  it("serves the requests of the reuse window with one application: same headers, same agent", async () => {
    const { auth, config, cert, clock } = authWithCertFile();

    const first = await apply(auth);
    expect(first.getHeaders().Authorization).toBe("Bearer token-1");
    const agent = first.getAgent();
    expect(agent).toBeDefined();

    // Rotated meanwhile: not read again within the window.
    load(config, "token-2", cert);
    writeFileSync(cert, "cert two");
    clock.now += CREDENTIALS_REUSE_MS - 1;
    const second = await apply(auth);
    expect(second.getHeaders().Authorization).toBe("Bearer token-1");
    expect(second.getAgent()).toBe(agent);
    auth.close();
  });

  it("applies the credentials again after the window: a rotated token and certificate are used", async () => {
    const { auth, config, cert, clock } = authWithCertFile();
    const agent = (await apply(auth)).getAgent();

    // The same material after the window: the same keep-alive agent.
    clock.now += CREDENTIALS_REUSE_MS;
    expect((await apply(auth)).getAgent()).toBe(agent);

    load(config, "token-2", cert);
    writeFileSync(cert, "cert two");
    clock.now += CREDENTIALS_REUSE_MS;
    const later = await apply(auth);
    expect(later.getHeaders().Authorization).toBe("Bearer token-2");
    expect(later.getAgent()).not.toBe(agent);
    auth.close();
  });

  it("applies them again when the clock went back", async () => {
    let now = 1_000_000;
    const config = new KubeConfig();
    config.loadFromOptions({
      clusters: [{ name: "c", server: "https://127.0.0.1:6443" }],
      users: [{ name: "u", token: "token-1" }],
      contexts: [{ name: "c", cluster: "c", user: "u" }],
      currentContext: "c",
    });
    const auth = new SharedAgentAuth(config, () => now);
    await apply(auth);
    config.loadFromOptions({
      clusters: [{ name: "c", server: "https://127.0.0.1:6443" }],
      users: [{ name: "u", token: "token-2" }],
      contexts: [{ name: "c", cluster: "c", user: "u" }],
      currentContext: "c",
    });
    now -= 10;
    expect((await apply(auth)).getHeaders().Authorization).toBe("Bearer token-2");
    auth.close();
  });
});
