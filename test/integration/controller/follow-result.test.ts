// A node settles on the agent's result as it arrives in its followed log (issue 22 item 1), against
// the real API server and kubelet: one log request per node when the result arrives; the same
// result when the followed stream is cut before it (a loopback proxy in front of the real API
// server breaks the follow), read once the container's end is reported; and an agent that prints
// no result still explained.
import { Writable } from "node:stream";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runController } from "../../../src/controller/run.js";
import {
  collectingReporter,
  kubeFor,
  nodeImageNames,
  testRunConfig,
  controllerOnCluster,
} from "../../support/controller-on-cluster.js";
import { passOn, startApiProxy, throughProxy, type ApiProxy } from "../../support/api-proxy.js";

const fixture = controllerOnCluster("follow", { accounts: { kic: { allowPodDeletion: true } } });
const { tok, ns, ref } = fixture;

/** A debug logger whose records the test reads. */
function debugLog(): { log: pino.Logger; messages: () => string[] } {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      lines.push(...chunk.toString().split("\n").filter(Boolean));
      cb();
    },
  });
  return {
    log: pino({ level: "debug" }, sink),
    messages: () => lines.map((l) => (JSON.parse(l) as { msg: string }).msg),
  };
}

const ARRIVED = "the agent's result arrived in its followed log";

/**
 * A proxy that passes everything on, but cuts every followed log read: the answer's headers and
 * its first chunk go through, then the connection is destroyed (before the agent's result: the
 * agent's first record is written at its start, its result a second or more later).
 */
async function cuttingProxy(): Promise<ApiProxy & { cut: () => number }> {
  let cut = 0;
  const proxy = await startApiProxy((req, res, forward) => {
    const follow = /\/log\?.*follow=true/.test(req.url ?? "");
    forward((answer) => {
      if (!follow || (answer.statusCode ?? 0) >= 300) {
        passOn(res, answer);
        return;
      }
      res.writeHead(answer.statusCode ?? 200, answer.headers);
      answer.once("data", (chunk: Buffer) => {
        res.write(chunk);
        cut++;
        answer.destroy();
        req.socket.destroy();
      });
    });
  });
  return { ...proxy, cut: () => cut };
}

describe("a node settles on the agent's result in its followed log (real API server and kubelet)", () => {
  let proxy: Awaited<ReturnType<typeof cuttingProxy>>;
  beforeAll(async () => {
    fixture.images([ref("a:v1"), ref("b:v1")]);
    proxy = await cuttingProxy();
  });
  afterAll(async () => {
    await proxy.close();
  });

  it("takes the agent's result from the followed log as it arrives: one log request, images deleted", async () => {
    const { log, messages } = debugLog();
    const { nodes, reporter } = collectingReporter();
    const { summary } = await runController(
      testRunConfig(ns, `arrive-${tok}`, { include: [ref("a:*")], nodes: [fixture.nodeName] }),
      { kube: fixture.kube("kic"), log, signal: fixture.never(), report: reporter },
    );
    const node = nodes[0];
    expect(node?.status, node?.reason).toBe("ok");
    expect(node?.result?.deleted.map((d) => d.names)).toEqual([[ref("a:v1")]]);
    expect(nodeImageNames()).not.toContain(ref("a:v1"));
    expect(messages()).toContain(ARRIVED);
    expect(summary.requests.byCall.readNamespacedPodLog).toBe(1);
    expect(summary.requests.byCall.createNamespacedPod).toBe(1);
    expect(summary.requests.byCall.deleteNamespacedPod).toBe(1);
  });

  it("still gets the node's result when the followed stream is cut before it: read once the container's end is reported", async () => {
    const { log, messages } = debugLog();
    const { nodes, reporter } = collectingReporter();
    const kube = kubeFor(
      throughProxy(proxy.url, fixture.account("kic").getCurrentUser()?.token, ns),
      "sa via proxy",
    );
    const before = proxy.cut();
    const { summary } = await runController(
      testRunConfig(ns, `cut-${tok}`, { include: [ref("b:*")], nodes: [fixture.nodeName] }),
      { kube, log, signal: fixture.never(), report: reporter },
    );
    const node = nodes[0];
    expect(proxy.cut() - before).toBe(1);
    expect(node?.status, node?.reason).toBe("ok");
    expect(node?.result?.deleted.map((d) => d.names)).toEqual([[ref("b:v1")]]);
    expect(nodeImageNames()).not.toContain(ref("b:v1"));
    expect(messages()).not.toContain(ARRIVED);
    // The cut follow, then the one read after the container's end.
    expect(summary.requests.byCall.readNamespacedPodLog).toBe(2);
  });

  it("explains an agent that prints no result (it cannot reach the runtime's socket) from its log and exit code", async () => {
    const { nodes, reporter } = collectingReporter();
    await fixture.run(
      "kic",
      testRunConfig(ns, `noresult-${tok}`, {
        include: [ref("nothing:*")],
        nodes: [fixture.nodeName],
        socket: `/run/kic-absent-${tok}.sock`,
      }),
      { report: reporter },
    );
    const node = nodes[0];
    expect(node?.status).toBe("failed");
    expect(node?.reason).toMatch(/^the agent exited [1-9]\d*: no agent result; its log ends: .+/);
    expect(node?.reason).toContain(`kic-absent-${tok}.sock`);
  });
});
