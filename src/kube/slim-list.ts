// A list page cut down before client-node parses it: its middleware sees the raw JSON, so a big page
// (every pod, every node with its image list) is turned into model objects only as far as the
// caller reads it. One middleware for any list: `slim` says what each item keeps.
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
