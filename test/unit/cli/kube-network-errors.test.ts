// createKube's clients name the server and the kubeconfig source when a call gets no answer, and
// pass every answer through unchanged. A loopback HTTP listener stands in for the API server's
// transport here; the controller's integration tests talk to the real one.
import { createServer, type Server } from "node:http";
import { KubeConfig } from "@kubernetes/client-node";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createKube } from "../../../src/kube/clients.js";

const silent = pino({ level: "silent" });

function kubeAt(server: string) {
  const config = new KubeConfig();
  config.loadFromOptions({
    clusters: [{ name: "c", server, skipTLSVerify: true }],
    users: [{ name: "u", token: "t" }],
    contexts: [{ name: "c", cluster: "c", user: "u" }],
    currentContext: "c",
  });
  return createKube({ config, source: "kubeconfig test.yaml (--kubeconfig)" }, silent);
}

let http: Server | undefined;
let port = 0;

beforeAll(async () => {
  http = createServer((_req, res) => {
    res.writeHead(200, { "content-type": "application/json" });
    res.end(
      JSON.stringify({
        apiVersion: "v1",
        kind: "PodList",
        metadata: {},
        items: [{ metadata: { name: "p1" } }],
      }),
    );
  });
  await new Promise<void>((resolve) => http?.listen(0, "127.0.0.1", resolve));
  const address = http.address();
  port = typeof address === "object" && address !== null ? address.port : 0;
});

afterAll(() => {
  http?.close();
});

describe("createKube", () => {
  it("passes an answer through unchanged", async () => {
    const kube = kubeAt(`http://127.0.0.1:${port}`);
    const list = await kube.core.listNamespacedPod({ namespace: "default" });
    expect(list.items.map((p) => p.metadata?.name)).toEqual(["p1"]);
    expect(kube.requests.total).toBe(1);
    kube.close();
  });

  it("names the server and the kubeconfig source, not the request URL, when nothing answers", async () => {
    const kube = kubeAt("https://127.0.0.1:1");
    const err = await kube.core
      .listNamespacedPod({ namespace: "default", labelSelector: "a=b" })
      .catch((e: unknown) => e);
    expect((err as Error).message).toBe(
      "https://127.0.0.1:1 (kubeconfig test.yaml (--kubeconfig)): connect ECONNREFUSED 127.0.0.1:1",
    );
    kube.close();
  });
});
