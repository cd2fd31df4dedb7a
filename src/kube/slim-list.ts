// An answer cut down before client-node parses it: its middleware sees the raw JSON, so a big list
// page (every pod, every node with its image list) is turned into model objects only as far as the
// caller reads it, and a write's answer (a created or deleted pod) only as far as its identity and
// resourceVersion. One middleware for any list, one for any object: `slim` says what is kept.
import {
  Observable,
  type ObservableMiddleware,
  type RequestContext,
  type ResponseContext,
} from "@kubernetes/client-node";

/**
 * Middleware that replaces each item of a 200 list response with `slim(item)`; others pass. The
 * items are the server's JSON, whatever type `slim` reads them as (hence `never`: any `slim` fits).
 */
export function slimListMiddleware(slim: (item: never) => unknown): ObservableMiddleware {
  return {
    pre: (context: RequestContext) => new Observable(Promise.resolve(context)),
    post: (response: ResponseContext) => {
      if (response.httpStatusCode !== 200) return new Observable(Promise.resolve(response));
      const full = response.body;
      let text: Promise<string> | undefined;
      const slimText = () =>
        (text ??= full.text().then((raw) => {
          const list = JSON.parse(raw) as { items?: never[] };
          return JSON.stringify({ ...list, items: (list.items ?? []).map(slim) });
        }));
      response.body = {
        text: slimText,
        binary: async () => Buffer.from(await slimText()),
      };
      return new Observable(Promise.resolve(response));
    },
  };
}

/**
 * Middleware that replaces the text of a 2xx answer with `rewrite(text)`; others (errors, whose
 * Status client-node reads) pass. The answer is read to its end all the same: the keep-alive
 * connection is then free for the next call.
 */
function rewriteAnswer(rewrite: (text: string) => string): ObservableMiddleware {
  return {
    pre: (context: RequestContext) => new Observable(Promise.resolve(context)),
    post: (response: ResponseContext) => {
      if (response.httpStatusCode < 200 || response.httpStatusCode > 299)
        return new Observable(Promise.resolve(response));
      const full = response.body;
      let text: Promise<string> | undefined;
      const rewritten = () => (text ??= full.text().then(rewrite));
      response.body = {
        text: rewritten,
        binary: async () => Buffer.from(await rewritten()),
      };
      return new Observable(Promise.resolve(response));
    },
  };
}

/**
 * Middleware that replaces the object of a 2xx answer with `slim(object)`. For writes whose answer
 * the caller barely reads: client-node would otherwise turn the whole object (a pod with its
 * status and managedFields) into model objects, for a resourceVersion.
 */
export function slimObjectMiddleware(slim: (object: never) => unknown): ObservableMiddleware {
  return rewriteAnswer((raw) => JSON.stringify(slim(JSON.parse(raw) as never)));
}

/** What a write's answer keeps: the object's kind and identity, and its resourceVersion. */
export interface ObjectIdentity {
  apiVersion?: string;
  kind?: string;
  metadata?: { name?: string; namespace?: string; uid?: string; resourceVersion?: string };
}

/** `slimObjectMiddleware` keeping an object's kind, name, namespace, uid and resourceVersion. */
export const identityOnly = slimObjectMiddleware((o: ObjectIdentity): ObjectIdentity => {
  const m = o.metadata;
  return {
    apiVersion: o.apiVersion,
    kind: o.kind,
    metadata:
      m === undefined
        ? undefined
        : {
            name: m.name,
            namespace: m.namespace,
            uid: m.uid,
            resourceVersion: m.resourceVersion,
          },
  };
});

/**
 * Middleware that reads a 2xx answer and drops it (`{}`): for writes whose answer the caller never
 * reads (a deleted pod, a recorded Event). Not even parsed; errors pass with their Status.
 */
export const discardAnswer: ObservableMiddleware = rewriteAnswer(() => "{}");
