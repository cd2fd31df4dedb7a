// A loopback HTTP proxy in front of the local cluster's real API server, for tests that need to see,
// hold or break the controller's requests at a known step. The proxy speaks TLS to the server (with
// the admin kubeconfig's CA) and plain HTTP to the client; what to do with each request is the
// test's, through `handle`.
import { readFileSync } from "node:fs";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { request as httpsRequest } from "node:https";
import type { AddressInfo } from "node:net";
import { KubeConfig } from "@kubernetes/client-node";
import { adminKubeConfig } from "./controller-on-cluster.js";

export interface ApiProxy {
  /** http://127.0.0.1:<port> */
  readonly url: string;
  close(): Promise<void>;
}

/** Sends the request on to the API server; `onAnswer` gets the server's answer. */
export type Forward = (onAnswer: (answer: IncomingMessage) => void) => void;

/**
 * Starts the proxy. `handle` is called for every request: it answers it itself, or calls
 * `forward` and decides what becomes of the server's answer (passOn for the usual).
 */
export async function startApiProxy(
  handle: (req: IncomingMessage, res: ServerResponse, forward: Forward) => void,
): Promise<ApiProxy> {
  const admin = adminKubeConfig().getCurrentCluster();
  if (!admin) throw new Error("no cluster in the admin kubeconfig");
  const upstream = new URL(admin.server);
  const ca =
    admin.caData !== undefined
      ? Buffer.from(admin.caData, "base64")
      : readFileSync(admin.caFile ?? "");
  const server = createServer((req, res) => {
    handle(req, res, (onAnswer) => {
      const up = httpsRequest(
        {
          host: upstream.hostname,
          port: upstream.port,
          method: req.method,
          path: req.url,
          headers: { ...req.headers, host: upstream.host },
          ca,
        },
        onAnswer,
      );
      up.on("error", () => req.socket.destroy());
      req.pipe(up);
    });
  });
  // No idle timeout on kept-alive connections: the client must never reuse one the proxy is
  // closing at that moment (a "socket hang up" that is not the fault under test).
  server.keepAliveTimeout = 0;
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: async () => {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
}

/** Passes the server's answer on as it comes: headers at once (a watch has no body until an event). */
export function passOn(res: ServerResponse, answer: IncomingMessage): void {
  res.writeHead(answer.statusCode ?? 502, answer.headers);
  res.flushHeaders();
  answer.pipe(res);
}

/** A kubeconfig with `token` aimed at the proxy at `url`, namespace `ns`. */
export function throughProxy(url: string, token: string | undefined, ns: string): KubeConfig {
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
