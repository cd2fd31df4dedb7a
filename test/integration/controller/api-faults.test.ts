// The controller behind a fault-injecting proxy in front of the real API server (issue 10 item 6): a
// tiny loopback HTTP proxy forwards every request to the real kube-apiserver, and for the first
// helper pod create it lets the server create the pod but never passes the answer on: the
// connection is reset, or held until the run is interrupted. The helper pod then exists with its
// agent running; the controller must find it by name and observe it, or delete it.
import { readFileSync } from "node:fs";
import { createServer, type IncomingMessage, type Server } from "node:http";
import { request as httpsRequest } from "node:https";
import type { AddressInfo } from "node:net";
import { KubeConfig } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runSelector } from "../../../src/run-model/labels.js";
import {
  adminKubeConfig,
  collectingReporter,
  eventually,
  kubeFor,
  podsWith,
  testRunConfig,
  controllerOnCluster,
} from "../../support/controller-on-cluster.js";

const fixture = controllerOnCluster("fault", { accounts: { kic: { allowPodDeletion: true } } });
const { tok, ns } = fixture;

type Action = "reset" | "hold";

interface Fault {
  action: Action;
  /** Resolves once the API server answered the request the proxy did not pass on. */
  answered: Promise<number>;
}

/** The fault-injecting proxy: plain HTTP on loopback, forwarding to the real API server. */
async function startProxy(): Promise<{
  url: string;
  failNextPodCreate: (action: Action) => Fault;
  close: () => Promise<void>;
}> {
  const admin = adminKubeConfig().getCurrentCluster();
  if (!admin) throw new Error("no cluster in the admin kubeconfig");
  const upstream = new URL(admin.server);
  const ca =
    admin.caData !== undefined
      ? Buffer.from(admin.caData, "base64")
      : readFileSync(admin.caFile ?? "");
  let pending: { action: Action; done: (status: number) => void } | undefined;
  const isPodCreate = (req: IncomingMessage) =>
    req.method === "POST" && /^\/api\/v1\/namespaces\/[^/]+\/pods(\?|$)/.test(req.url ?? "");
  const server: Server = createServer((req, res) => {
    const fault = pending !== undefined && isPodCreate(req) ? pending : undefined;
    if (fault) pending = undefined;
    const up = httpsRequest(
      {
        host: upstream.hostname,
        port: upstream.port,
        method: req.method,
        path: req.url,
        headers: { ...req.headers, host: upstream.host },
        ca,
      },
      (answer) => {
        if (fault === undefined) {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          // At once, not with the first byte of the body: a watch has none until an event.
          res.flushHeaders();
          answer.pipe(res);
          return;
        }
        answer.resume();
        answer.on("end", () => {
          fault.done(answer.statusCode ?? 0);
          // "reset": the connection dies after the server acted; "hold": no answer, ever.
          if (fault.action === "reset") req.socket.destroy();
        });
      },
    );
    up.on("error", () => req.socket.destroy());
    req.pipe(up);
  });
  // No idle timeout on kept-alive connections: the client must never reuse one the proxy is
  // closing at that moment (a "socket hang up" that is not the fault under test).
  server.keepAliveTimeout = 0;
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    failNextPodCreate: (action) => {
      let done: (status: number) => void = () => {};
      const answered = new Promise<number>((r) => (done = r));
      pending = { action, done };
      return { action, answered };
    },
    close: async () => {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
}

/** The service account's credentials, aimed at the proxy (plain HTTP on loopback). */
function throughProxy(url: string): KubeConfig {
  const token = fixture.account("kic").getCurrentUser()?.token;
  const kc = new KubeConfig();
  kc.loadFromOptions({
    // client-node allows plain HTTP only with skipTLSVerify; the proxy verifies the real server.
    clusters: [{ name: "proxy", server: url, skipTLSVerify: true }],
    users: [{ name: "kic", token }],
    contexts: [{ name: "kic", cluster: "proxy", user: "kic", namespace: ns }],
    currentContext: "kic",
  });
  return kc;
}

let proxy: Awaited<ReturnType<typeof startProxy>>;

describe("helper pod creates without an answer (fault-injecting proxy, real API server)", () => {
  beforeAll(async () => {
    proxy = await startProxy();
  });

  afterAll(async () => {
    await proxy.close();
  });

  const args = () => ({
    include: ["demo.local/nothing-matches:*"],
    nodes: [fixture.nodeName],
    "dry-run": true,
  });

  it("finds a helper pod whose create lost its answer (connection reset after the server created it) and observes it to the end", async () => {
    const fault = proxy.failNextPodCreate("reset");
    const runId = `it-${tok}-reset`;
    const { summary } = await fixture.run(
      kubeFor(throughProxy(proxy.url), "sa via proxy"),
      testRunConfig(ns, `reset-${tok}`, args()),
      { report: collectingReporter().reporter, runId },
    );
    // The server did create it: the fault hit after the pod existed.
    expect(await fault.answered).toBe(201);
    const node = summary.nodes[0];
    expect(node?.status, node?.reason).toBe("ok");
    expect(node?.totals).toBeDefined();
    expect(summary.requests.byCall.readNamespacedPod).toBe(1);
    expect(summary.requests.byCall.deleteNamespacedPod).toBe(1);
    const left = await podsWith(ns, runSelector(`reset-${tok}`, runId));
    expect(left.every((p) => p.metadata.deletionTimestamp !== undefined)).toBe(true);
  });

  it("deletes by name a helper pod whose create was in flight when the run was interrupted (SIGTERM)", async () => {
    const fault = proxy.failNextPodCreate("hold");
    const runId = `it-${tok}-hold`;
    const stop = new AbortController();
    const t0 = Date.now();
    const run = fixture.run(
      kubeFor(throughProxy(proxy.url), "sa via proxy"),
      testRunConfig(ns, `hold-${tok}`, args()),
      { report: collectingReporter().reporter, signal: stop.signal, runId },
    );
    const ended = run.then(() => 0);
    expect(await Promise.race([fault.answered, ended])).toBe(201);
    stop.abort("SIGTERM");
    const { summary } = await run;
    // Not the 60 s client timeout: the interrupt ends the call in flight.
    expect(Date.now() - t0).toBeLessThan(30_000);
    const node = summary.nodes[0];
    expect(node?.status).toBe("interrupted");
    expect(node?.reason).toMatch(
      /^the run was stopped while the helper pod was being created \(createNamespacedPod was cut short: the run was interrupted \(SIGTERM\)\); deleted it by name in case it was$/,
    );
    expect(summary.interruptedBy).toBe("SIGTERM");
    await eventually(
      async () =>
        (await podsWith(ns, runSelector(`hold-${tok}`, runId))).every(
          (p) => p.metadata.deletionTimestamp !== undefined,
        )
          ? true
          : undefined,
      "the helper pod to be deleted",
    );
  }, 60_000);
});
