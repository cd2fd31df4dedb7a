// The controller behind a fault-injecting proxy in front of the real API server (issue 10 item 6): a
// tiny loopback HTTP proxy forwards every request to the real kube-apiserver, and for the first
// helper pod create it lets the server create the pod but never passes the answer on: the
// connection is reset, or held until the run is interrupted. The helper pod then exists with its
// agent running; the controller must find it by name and observe it, or delete it.
import type { IncomingMessage } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runSelector } from "../../../src/run-model/labels.js";
import {
  collectingReporter,
  eventually,
  kubeFor,
  podsWith,
  testRunConfig,
  controllerOnCluster,
} from "../../support/controller-on-cluster.js";
import { passOn, startApiProxy, throughProxy, type ApiProxy } from "../../support/api-proxy.js";

const fixture = controllerOnCluster("fault", { accounts: { kic: { allowPodDeletion: true } } });
const { tok, ns } = fixture;

type Action = "reset" | "hold";

interface Fault {
  action: Action;
  /** Resolves once the API server answered the request the proxy did not pass on. */
  answered: Promise<number>;
}

/** The fault-injecting proxy: plain HTTP on loopback, forwarding to the real API server. */
async function startProxy(): Promise<ApiProxy & { failNextPodCreate: (action: Action) => Fault }> {
  let pending: { action: Action; done: (status: number) => void } | undefined;
  const isPodCreate = (req: IncomingMessage) =>
    req.method === "POST" && /^\/api\/v1\/namespaces\/[^/]+\/pods(\?|$)/.test(req.url ?? "");
  const proxy = await startApiProxy((req, res, forward) => {
    const fault = pending !== undefined && isPodCreate(req) ? pending : undefined;
    if (fault) pending = undefined;
    forward((answer) => {
      if (fault === undefined) {
        passOn(res, answer);
        return;
      }
      answer.resume();
      answer.on("end", () => {
        fault.done(answer.statusCode ?? 0);
        // "reset": the connection dies after the server acted; "hold": no answer, ever.
        if (fault.action === "reset") req.socket.destroy();
      });
    });
  });
  return {
    url: proxy.url,
    close: () => proxy.close(),
    failNextPodCreate: (action) => {
      let done: (status: number) => void = () => {};
      const answered = new Promise<number>((r) => (done = r));
      pending = { action, done };
      return { action, answered };
    },
  };
}

/** The service account's credentials, aimed at the proxy (plain HTTP on loopback). */
const viaProxy = (url: string) =>
  throughProxy(url, fixture.account("kic").getCurrentUser()?.token, ns);

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
      kubeFor(viaProxy(proxy.url), "sa via proxy"),
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
      kubeFor(viaProxy(proxy.url), "sa via proxy"),
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
