// Following a running agent's log, so that its node settles when the agent's result has arrived
// rather than when the kubelet reports its container's end: the kubelet notices that end by
// relisting the runtime (about once a second), which put up to a second on every node in socket
// mode. The followed read is the node's one log request; the agent's result is its own verdict.
import type { V1Pod } from "@kubernetes/client-node";
import { serverMessage } from "../kube/errors.js";
import { streamText } from "../kube/text-stream.js";
import { AGENT_CONTAINER } from "./helper-pod.js";
import type { NodeRunContext } from "./node-context.js";

/** The agent's container runs: its log can be followed. */
export const agentRunning = (pod: V1Pod): boolean =>
  pod.status?.containerStatuses?.some(
    (s) => s.name === AGENT_CONTAINER && s.state?.running !== undefined,
  ) === true;

/**
 * Follows the agent's log until `arrived` finds what the node waits for in it (the request is then
 * ended and the text returned), or the read ends without it, breaks or is stopped by `signal`
 * (undefined: the caller goes the way it went before, the container's end and one read).
 */
export async function followAgentLog(
  name: string,
  ctx: Pick<NodeRunContext, "kube" | "namespace" | "log">,
  arrived: (text: string) => boolean,
  signal: AbortSignal,
): Promise<string | undefined> {
  // Set by the stream's callback (an object: a plain `let` reads as never changed to the checker).
  const seen = { result: false };
  try {
    const text = await ctx.kube.core.readNamespacedPodLog(
      { name, namespace: ctx.namespace, container: AGENT_CONTAINER, follow: true },
      {
        middleware: [
          streamText({
            onText: (t) => {
              seen.result = arrived(t);
              return seen.result;
            },
            signal,
          }),
        ],
        middlewareMergeStrategy: "append",
      },
    );
    // A read that ended on its own (the container's end, a server's time limit) is checked whole:
    // a client that cannot stream (a test double, a proxy that buffers) gives it only here.
    return seen.result || arrived(text) ? text : undefined;
  } catch (err) {
    if (!signal.aborted)
      ctx.log.debug(
        { pod: name, err: serverMessage(err) },
        "following the helper pod's log failed; reading it once its container has ended",
      );
    return undefined;
  }
}
