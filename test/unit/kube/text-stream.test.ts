// A followed pod log read as it arrives (src/kube/text-stream.ts), through the generated client's
// own readNamespacedPodLog against a loopback HTTP server that streams the way the API server does
// (chunked, open until the container ends): the caller sees the text grow and ends the read once it
// has what it waits for; unmarked calls and error answers behave as before.
import { createServer, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { CoreV1Api, ServerConfiguration, createConfiguration } from "@kubernetes/client-node";
import { afterEach, describe, expect, it } from "vitest";
import { streamText, streamingHttpLibrary } from "../../../src/kube/text-stream.js";

let server: Server | undefined;
afterEach(async () => {
  server?.closeAllConnections();
  await new Promise((r) => server?.close(r));
  server = undefined;
});

/** A server whose log answers are written by `answer`; the requests' ends are recorded. */
async function logServer(
  answer: (res: ServerResponse, follow: boolean) => void,
): Promise<{ api: CoreV1Api; closed: string[] }> {
  const closed: string[] = [];
  const s = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://x");
    res.on("close", () => closed.push(url.pathname));
    answer(res, url.searchParams.get("follow") === "true");
  });
  server = s;
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  const port = (s.address() as AddressInfo).port;
  const api = new CoreV1Api(
    createConfiguration({
      baseServer: new ServerConfiguration(`http://127.0.0.1:${String(port)}`, {}),
      httpApi: streamingHttpLibrary(),
    }),
  );
  return { api, closed };
}

const read = { name: "p", namespace: "ns", container: "agent", follow: true };

describe("a followed log read as it arrives", () => {
  it("returns the text as soon as the caller has what it waits for, with the stream still open", async () => {
    const { api, closed } = await logServer((res) => {
      res.writeHead(200, { "content-type": "text/plain" });
      res.write("line 1\n");
      setTimeout(() => res.write("the result\n"), 50);
      // Never ended by the server: only the caller's stop ends it.
    });
    const seen: string[] = [];
    const text = await api.readNamespacedPodLog(read, {
      middleware: [
        streamText({
          onText: (t) => {
            seen.push(t);
            return t.includes("the result\n");
          },
        }),
      ],
      middlewareMergeStrategy: "append",
    });
    expect(text).toBe("line 1\nthe result\n");
    expect(seen).toEqual(["line 1\n", "line 1\nthe result\n"]);
    // The request was ended by the client: the server saw its connection close.
    await new Promise((r) => setTimeout(r, 50));
    expect(closed).toEqual(["/api/v1/namespaces/ns/pods/p/log"]);
  });

  it("returns the whole text when the stream ends before the caller found anything", async () => {
    const { api } = await logServer((res) => {
      res.writeHead(200, { "content-type": "text/plain" });
      res.write("a\n");
      setTimeout(() => res.end("b\n"), 20);
    });
    const text = await api.readNamespacedPodLog(read, {
      middleware: [streamText({ onText: () => false })],
      middlewareMergeStrategy: "append",
    });
    expect(text).toBe("a\nb\n");
  });

  it("fails with the caller's reason when its signal ends the read", async () => {
    const { api } = await logServer((res) => {
      res.writeHead(200, { "content-type": "text/plain" });
      res.write("a\n");
    });
    const stop = new AbortController();
    setTimeout(() => {
      stop.abort(new Error("stopped by the test"));
    }, 50);
    await expect(
      api.readNamespacedPodLog(read, {
        middleware: [streamText({ onText: () => false, signal: stop.signal })],
        middlewareMergeStrategy: "append",
      }),
    ).rejects.toThrow("stopped by the test");
  });

  it("throws an error answer as the generated client does (a container not started yet)", async () => {
    const { api } = await logServer((res) => {
      res.writeHead(400, { "content-type": "application/json" });
      res.end(
        JSON.stringify({
          kind: "Status",
          status: "Failure",
          message: 'container "agent" in pod "p" is waiting to start: ContainerCreating',
          code: 400,
        }),
      );
    });
    const error = await api
      .readNamespacedPodLog(read, {
        middleware: [streamText({ onText: () => true })],
        middlewareMergeStrategy: "append",
      })
      .then(
        () => undefined,
        (e: unknown) => e as { code?: number; body?: unknown },
      );
    expect(error?.code).toBe(400);
    expect(String(error?.body)).toContain("is waiting to start");
  });

  it("leaves unmarked calls to client-node's own library", async () => {
    const { api } = await logServer((res, follow) => {
      res.writeHead(200, { "content-type": "text/plain" });
      res.end(follow ? "followed\n" : "read once\n");
    });
    expect(await api.readNamespacedPodLog({ ...read, follow: false })).toBe("read once\n");
  });
});
