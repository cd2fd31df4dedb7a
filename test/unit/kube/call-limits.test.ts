// The client side of every API call, against a loopback HTTP server that accepts requests and never
// answers (a hung API server): the client timeout ends each call, and an interrupt (SIGTERM) ends
// calls in flight at once, except deleting a pod.
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { KubeConfig } from "@kubernetes/client-node";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ApiCallInterrupted, ApiTimeoutError, eitherSignal } from "../../../src/kube/api.js";
import { createKube } from "../../../src/kube/clients.js";
import { isNetworkError, toKubeApiError } from "../../../src/kube/errors.js";

let server: Server;
const seen: IncomingMessage[] = [];
let url = "";

function kubeconfig(): KubeConfig {
  const kc = new KubeConfig();
  // Plain HTTP on loopback: client-node allows it only with skipTLSVerify.
  kc.loadFromOptions({
    clusters: [{ name: "hung", server: url, skipTLSVerify: true }],
    users: [{ name: "u", token: "t" }],
    contexts: [{ name: "c", cluster: "hung", user: "u", namespace: "ns" }],
    currentContext: "c",
  });
  return kc;
}

beforeAll(async () => {
  server = createServer((req) => {
    seen.push(req); // never answered
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

const silent = pino({ level: "silent" });

describe("API call limits", () => {
  it("ends a call the server never answers after the client timeout, as a network error", async () => {
    const kube = createKube({ config: kubeconfig(), source: "test" }, silent, { timeoutMs: 300 });
    const t0 = Date.now();
    const err = await kube.core.listNode({}).catch((e: unknown) => e);
    expect(Date.now() - t0).toBeLessThan(5_000);
    expect(err).toBeInstanceOf(ApiTimeoutError);
    expect(isNetworkError(err)).toBe(true);
    expect(toKubeApiError(err, { verb: "list", resource: "nodes" }).message).toBe(
      "cannot reach the API server to list nodes in all namespaces: no answer from the API server within 0.3 s (client timeout) to listNode; the server or the network is overloaded or down",
    );
    expect(seen.some((r) => r.url?.startsWith("/api/v1/nodes"))).toBe(true);
    kube.close();
  });

  it("cuts calls in flight short when the run is interrupted, but not a pod deletion", async () => {
    const base = createKube({ config: kubeconfig(), source: "test" }, silent, { timeoutMs: 1_500 });
    const interrupt = new AbortController();
    const kube = base.withInterrupt(interrupt.signal);
    const list = kube.core
      .listPodForAllNamespaces({ fieldSelector: "spec.nodeName=n" })
      .catch((e: unknown) => e);
    const del = kube.core
      .deleteNamespacedPod({ name: "p", namespace: "ns" })
      .catch((e: unknown) => e);
    await new Promise((r) => setTimeout(r, 100));
    const t0 = Date.now();
    interrupt.abort("SIGTERM");
    const listErr = await list;
    expect(Date.now() - t0).toBeLessThan(500);
    expect(listErr).toBeInstanceOf(ApiCallInterrupted);
    expect((listErr as Error).message).toBe(
      "listPodForAllNamespaces was cut short: the run was interrupted (SIGTERM)",
    );
    // The deletion keeps going until its own timeout: an interrupted run cleans up with it.
    expect(await del).toBeInstanceOf(ApiTimeoutError);
    expect(Date.now() - t0).toBeGreaterThan(1_000);
    // After the interrupt, no new call (but deletions) is even sent.
    const before = seen.length;
    expect(await kube.core.listNode({}).catch((e: unknown) => e)).toBeInstanceOf(
      ApiCallInterrupted,
    );
    expect(seen.length).toBe(before);
    base.close();
  });
});

describe("eitherSignal", () => {
  it("aborts with the reason of whichever source aborts first", () => {
    const stop = new AbortController();
    const timeout = new AbortController();
    const { signal } = eitherSignal(timeout.signal, stop.signal);
    stop.abort("SIGTERM");
    timeout.abort("late");
    expect(signal.aborted).toBe(true);
    expect(signal.reason).toBe("SIGTERM");
  });

  it("is aborted at once when a source already is", () => {
    const stop = new AbortController();
    stop.abort("SIGINT");
    const { signal } = eitherSignal(new AbortController().signal, stop.signal);
    expect(signal.reason).toBe("SIGINT");
  });

  it("leaves nothing on the run's long-lived signal once the call is over", () => {
    const stop = new AbortController();
    // Node.js keeps AbortSignal.any's followers in this set (never pruned on 20.x: one per call).
    const dependants = () => {
      const key = Object.getOwnPropertySymbols(stop.signal).find(
        (s) => s.description === "kDependantSignals",
      );
      return key === undefined
        ? 0
        : ((stop.signal as unknown as Record<symbol, Set<unknown>>)[key]?.size ?? 0);
    };
    const calls = Array.from({ length: 100 }, () =>
      eitherSignal(new AbortController().signal, stop.signal),
    );
    for (const c of calls) c.unlink();
    expect(dependants()).toBe(0);
    stop.abort("SIGTERM");
    // Unlinked: a call that is over is not aborted afterwards.
    expect(calls.every((c) => !c.signal.aborted)).toBe(true);
  });

  it("is the timeout itself when nothing can interrupt the call", () => {
    const timeout = new AbortController().signal;
    expect(eitherSignal(timeout, undefined).signal).toBe(timeout);
  });
});
