// Sink: one Event about each Node as it is done (src/report/node-event.ts builds it). RBAC: only
// `create` on events in namespace default. Forbidden once, it stops trying for the rest of the run
// (one note, not one per node).
import type { AuditApi } from "../../kube/api.js";
import { statusOf, toKubeApiError } from "../../kube/errors.js";
import { discardAnswer } from "../../kube/slim-list.js";
import { NODE_EVENTS_NAMESPACE, nodeEvent } from "../node-event.js";
import type { RunSink } from "../../run-model/sink.js";

export function createNodeEventSink(
  api: Pick<AuditApi, "createNamespacedEvent">,
  now: () => number = Date.now,
): RunSink {
  // The run that was refused: later runs of `schedule` try again (the Role may have been fixed).
  let forbiddenIn: string | undefined;
  return {
    name: "events",
    async node(result, ctx) {
      if (forbiddenIn === ctx.runId) return;
      // Only the name is used after the create is sent: the node's full result (its agent's kept
      // and deleted lists) is not held while Events wait for the API server.
      const node = result.node;
      const body = nodeEvent({
        result,
        runId: ctx.runId,
        instance: ctx.instance,
        now: new Date(now()),
      });
      try {
        // The recorded Event in the answer is never read: not even parsed.
        await api.createNamespacedEvent(
          { namespace: NODE_EVENTS_NAMESPACE, body },
          { middleware: [discardAnswer], middlewareMergeStrategy: "append" },
        );
      } catch (err) {
        const forbidden = statusOf(err) === 403;
        if (forbidden) forbiddenIn = ctx.runId;
        const e = toKubeApiError(err, {
          verb: "create",
          resource: "events",
          namespace: NODE_EVENTS_NAMESPACE,
        });
        throw new Error(
          `no Event for node ${node}: ${e.message}` +
            (forbidden
              ? "; no more Events are recorded in this run (or set events.enabled=false)"
              : ""),
        );
      }
    },
  };
}
