// A write's answer cut to the object's identity (identityOnly) before client-node parses it: what
// the caller reads (name, uid, resourceVersion) is there, the rest of the object is not; or dropped
// unparsed (discardAnswer); error answers pass unchanged either way (their Status still says why). A loopback HTTP listener stands in for the
// API server's transport; the controller's cluster tests run these calls against the real one.
/* eslint-disable @typescript-eslint/no-unsafe-class-instance-assignment --
 * client-node's models are classes only for their serializer metadata; request bodies are plain
 * objects, as its own examples pass them. */
import { createServer, type Server } from "node:http";
import { KubeConfig } from "@kubernetes/client-node";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createKube } from "../../../src/kube/clients.js";
import { serverMessage, statusOf } from "../../../src/kube/errors.js";
import { discardAnswer, identityOnly } from "../../../src/kube/slim-list.js";

const pod = {
  apiVersion: "v1",
  kind: "Pod",
  metadata: {
    name: "helper",
    namespace: "ns",
    uid: "u-1",
    resourceVersion: "4711",
    labels: { a: "b" },
    managedFields: [{ manager: "kic", operation: "Update", fieldsV1: { "f:spec": {} } }],
  },
  spec: { nodeName: "n1", containers: [{ name: "agent", image: "x" }] },
  status: { phase: "Pending" },
};

let http: Server | undefined;
let url = "";

beforeAll(async () => {
  http = createServer((req, res) => {
    // The request body read first, as an API server does; a pod named "gone" is refused.
    let sent = "";
    req.on("data", (chunk: Buffer) => (sent += chunk.toString()));
    req.on("end", () => {
      if (req.url?.includes("/pods/gone") || sent.includes('"name":"gone"')) {
        res.writeHead(404, { "content-type": "application/json" });
        res.end(
          JSON.stringify({
            kind: "Status",
            apiVersion: "v1",
            status: "Failure",
            message: 'pods "gone" not found',
            reason: "NotFound",
            code: 404,
          }),
        );
        return;
      }
      res.writeHead(req.method === "POST" ? 201 : 200, { "content-type": "application/json" });
      res.end(JSON.stringify(pod));
    });
  });
  await new Promise<void>((resolve) => http?.listen(0, "127.0.0.1", resolve));
  const address = http.address();
  url = `http://127.0.0.1:${typeof address === "object" && address !== null ? address.port : 0}`;
});

afterAll(() => {
  http?.close();
});

function kube() {
  const config = new KubeConfig();
  config.loadFromOptions({
    clusters: [{ name: "c", server: url, skipTLSVerify: true }],
    users: [{ name: "u", token: "t" }],
    contexts: [{ name: "c", cluster: "c", user: "u" }],
    currentContext: "c",
  });
  return createKube({ config, source: "test" }, pino({ level: "silent" }));
}

const body = { metadata: { name: "helper" } };
const refused = { metadata: { name: "gone" } };

const slim = { middleware: [identityOnly], middlewareMergeStrategy: "append" as const };
const discard = { middleware: [discardAnswer], middlewareMergeStrategy: "append" as const };

describe("identityOnly", () => {
  it("keeps a created object's identity and resourceVersion, nothing else", async () => {
    const k = kube();
    const created = await k.core.createNamespacedPod({ namespace: "ns", body }, slim);
    expect(created.metadata).toEqual({
      name: "helper",
      namespace: "ns",
      uid: "u-1",
      resourceVersion: "4711",
    });
    expect(created.kind).toBe("Pod");
    expect(created.spec).toBeUndefined();
    expect(created.status).toBeUndefined();
    // Without the middleware the whole pod comes back (what the cut leaves out is real).
    const full = await k.core.createNamespacedPod({ namespace: "ns", body });
    expect(full.spec?.nodeName).toBe("n1");
    k.close();
  });

  it("passes an error answer unchanged: its status code and message", async () => {
    const k = kube();
    const err = await k.core
      .createNamespacedPod({ namespace: "ns", body: refused }, slim)
      .catch((e: unknown) => e);
    expect(statusOf(err)).toBe(404);
    expect(serverMessage(err)).toBe('pods "gone" not found');
    k.close();
  });
});

describe("discardAnswer", () => {
  it("drops a delete's answer (read, never parsed): the call resolves with an empty object", async () => {
    const k = kube();
    const deleted = await k.core.deleteNamespacedPod({ name: "helper", namespace: "ns" }, discard);
    expect(deleted).toEqual({});
    // The connection is reused: a second call on it answers too.
    const again = await k.core.deleteNamespacedPod({ name: "helper", namespace: "ns" }, discard);
    expect(again).toEqual({});
    k.close();
  });

  it("passes an error answer unchanged: its status code and message", async () => {
    const k = kube();
    const err = await k.core
      .deleteNamespacedPod({ name: "gone", namespace: "ns" }, discard)
      .catch((e: unknown) => e);
    expect(statusOf(err)).toBe(404);
    expect(serverMessage(err)).toBe('pods "gone" not found');
    k.close();
  });
});
