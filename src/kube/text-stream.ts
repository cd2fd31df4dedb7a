// Reading a streamed answer (a followed pod log) as it arrives, through the generated client's own
// call: the call stays one counted, time-limited request of its narrow interface, and its caller
// marks it with `streamText` to see the text grow and to end it once it has what it waits for.
//
// client-node's HTTP library reads every answer whole (node-fetch's text()), so a followed log
// would only be returned when the container ended. The library below sends marked requests itself
// (node:http/https, with the agent and headers the configuration's authentication set) and hands
// the text to the caller's `onText` chunk by chunk; every other request goes to client-node's own.
import { request as httpRequest, type IncomingMessage } from "node:http";
import { request as httpsRequest } from "node:https";
import {
  IsomorphicFetchHttpLibrary,
  Observable,
  ResponseContext,
  wrapHttpLibrary,
  type HttpLibrary,
  type ObservableMiddleware,
  type RequestContext,
} from "@kubernetes/client-node";

export interface TextStream {
  /**
   * The text so far, after each chunk; `true` ends the request there, and the call returns that
   * text as its answer.
   */
  onText: (text: string) => boolean;
  /** Ends the request (the call then fails with this signal's reason). */
  signal?: AbortSignal;
}

/** The marked requests (a middleware sees the same RequestContext the library is then given). */
const streams = new WeakMap<RequestContext, TextStream>();

/** A per-call middleware that makes the call's answer a text stream read as it arrives. */
export function streamText(stream: TextStream): ObservableMiddleware {
  return {
    pre: (context: RequestContext) => {
      streams.set(context, stream);
      return new Observable(Promise.resolve(context));
    },
    post: (response: ResponseContext) => new Observable(Promise.resolve(response)),
  };
}

/** The configuration's HTTP library: marked requests streamed, the rest client-node's own. */
export function streamingHttpLibrary(): HttpLibrary {
  const plain = new IsomorphicFetchHttpLibrary();
  return wrapHttpLibrary({
    send: (request: RequestContext): Promise<ResponseContext> => {
      const stream = streams.get(request);
      if (stream === undefined) return plain.send(request).toPromise();
      streams.delete(request);
      return sendStreamed(request, stream);
    },
  });
}

function sendStreamed(request: RequestContext, stream: TextStream): Promise<ResponseContext> {
  const url = new URL(request.getUrl());
  const signals = [request.getSignal(), stream.signal].filter(
    (s): s is AbortSignal => s !== undefined,
  );
  const send = url.protocol === "https:" ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = send(url, {
      method: request.getHttpMethod(),
      headers: request.getHeaders(),
      agent: request.getAgent(),
    });
    let settled = false;
    /** Why the caller or the call's limits ended the request, when they did. */
    let ended: Error | undefined;
    const stop = (event: Event) => {
      const reason: unknown = (event.target as AbortSignal).reason;
      ended = reason instanceof Error ? reason : new Error(String(reason));
      req.destroy(ended);
    };
    const unlink = () => {
      for (const s of signals) s.removeEventListener("abort", stop);
    };
    for (const s of signals) {
      if (s.aborted) {
        reject(s.reason as Error);
        return;
      }
      s.addEventListener("abort", stop, { once: true });
    }
    req.on("error", (err) => {
      unlink();
      if (!settled) reject(ended ?? err);
    });
    req.on("response", (res: IncomingMessage) => {
      const status = res.statusCode ?? 0;
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(res.headers))
        if (v !== undefined) headers[k] = Array.isArray(v) ? v.join(", ") : v;
      res.setEncoding("utf8");
      // The body is read now (a stream cannot wait for the generated code to ask for it); the
      // generated code then gets it, whole or cut at the point the caller asked for, as text.
      const body = new Promise<string>((done, fail) => {
        let text = "";
        res.on("data", (chunk: string) => {
          if (settled) return;
          text += chunk;
          // Error answers (a container not started yet, 404) are read whole and thrown as usual.
          if (status >= 200 && status < 300 && stream.onText(text)) {
            settled = true;
            unlink();
            // Nothing more is wanted of this answer: a chunked HTTP/1.1 answer ends only with its
            // connection, which the keep-alive agent then replaces.
            req.destroy();
            done(text);
          }
        });
        res.on("end", () => {
          settled = true;
          unlink();
          done(text);
        });
        res.on("error", (err) => {
          unlink();
          if (!settled) fail(ended ?? err);
        });
        res.on("aborted", () => {
          unlink();
          if (!settled) fail(ended ?? new Error("the streamed answer was cut off"));
        });
      });
      // A failed body read (cut, aborted) must not become an unhandled rejection before the
      // generated code asks for the text.
      body.catch(() => undefined);
      const bytes = body.then((t) => Buffer.from(t, "utf8"));
      bytes.catch(() => undefined);
      resolve(new ResponseContext(status, headers, { text: () => body, binary: () => bytes }));
    });
    req.end();
  });
}
