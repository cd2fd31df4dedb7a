// Stopping an agent without losing its record (src/controller/agent-stop.ts), against a scripted
// helper pod: its log grows as the agent works, a delete stops the agent (SIGTERM) and the pod goes
// once its container has ended, and reads fail the way the API server's do.
import { ApiException } from "@kubernetes/client-node";
import { pino } from "pino";
import { describe, expect, it } from "vitest";
import type { CoreApi } from "../../../src/kube/api.js";
import {
  readLogUntilGone,
  STOPPING_LOG_MS,
  stopAndRead,
  type StopContext,
} from "../../../src/controller/agent-stop.js";
import { PodCleanup } from "../../../src/controller/pod-cleanup.js";

const id = (c: string) => `sha256:${c.repeat(64)}`;
const start = (batch: number, c: string) =>
  `{"level":30,"batch":${batch},"images":[{"id":"${id(c)}","names":["demo.local/x:${c}"]}],"msg":"removing images"}\n`;
const done = (batch: number, c: string) =>
  `{"level":30,"batch":${batch},"deleted":[{"id":"${id(c)}","names":["demo.local/x:${c}"],"bytes":10}],"failed":[],"msg":"removed images"}\n`;
const B1 = start(1, "a") + done(1, "a");
const B2 = start(2, "b") + done(2, "b");
const B3 = start(3, "c") + done(3, "c");

/** What client-node throws for an answer other than 2xx. */
const apiError = (code: number, message: string) =>
  new ApiException(code, message, JSON.stringify({ kind: "Status", code, message }), {});

/** A helper pod as the API server shows it; each log read answers from `answer`. */
function scriptedPod(
  answer: (read: { follow: boolean; n: number; deleted: boolean }) => Promise<string>,
  opts: { deleteStatus?: number } = {},
) {
  const calls: string[] = [];
  let deleted = false;
  let n = 0;
  const core = {
    readNamespacedPodLog: (p: { follow?: boolean }) => {
      const follow = p.follow === true;
      calls.push(follow ? "follow" : "read");
      return answer({ follow, n: n++, deleted });
    },
    deleteNamespacedPod: () => {
      calls.push("delete");
      if (opts.deleteStatus !== undefined)
        return Promise.reject(apiError(opts.deleteStatus, "forbidden"));
      deleted = true;
      return Promise.resolve({});
    },
  } as unknown as CoreApi;
  const log = pino({ level: "silent" });
  let clock = 0;
  const ctx: StopContext = {
    kube: { core },
    cleanup: new PodCleanup({ core }, "ns", "kic", false, log, () => undefined),
    namespace: "ns",
    log,
    now: () => clock,
    sleep: (ms) => {
      clock += ms;
      return Promise.resolve();
    },
  };
  return { ctx, calls, isDeleted: () => deleted };
}

const gone = () => Promise.reject(apiError(404, 'pods "p" not found'));
const teardown = () => Promise.resolve(""); // what a read during container teardown came back with

describe("stopAndRead", () => {
  it("follows the log from before the delete until the container ends: batches after the first read are on record", async () => {
    // The agent logged batch 1 when the controller first read; it had started batches 2 and 3 by
    // the time SIGTERM arrived, and finished 3 before it exited.
    let ended: (log: string) => void = () => undefined;
    const containerEnds = new Promise<string>((r) => (ended = r));
    const pod = scriptedPod(({ follow, n, deleted }) => {
      if (n === 0) return Promise.resolve(B1);
      if (follow) return containerEnds;
      return deleted ? (n < 3 ? teardown() : gone()) : Promise.resolve(B1);
    });
    const stopping = stopAndRead("p", {
      ...pod.ctx,
      cleanup: {
        remove: async (name: string, abandoned?: boolean) => {
          await pod.ctx.cleanup.remove(name, abandoned);
          ended(B1 + B2 + B3); // SIGTERM: the batch in flight finishes, the container ends
        },
        deletionAllowed: true,
      } as unknown as PodCleanup,
    });
    const partial = await stopping;
    expect(pod.calls.slice(0, 3)).toEqual(["read", "follow", "delete"]);
    expect(partial?.deleted.map((d) => d.names[0])).toEqual([
      "demo.local/x:a",
      "demo.local/x:b",
      "demo.local/x:c",
    ]);
  });

  it("keeps the longest read: a follow that comes back short (teardown) does not hide what the first read saw", async () => {
    const pod = scriptedPod(({ n }) => (n === 0 ? Promise.resolve(B1 + B2) : teardown()));
    const partial = await stopAndRead("p", pod.ctx);
    expect(partial?.deleted).toHaveLength(2);
  });

  it("with deletion not allowed (rbac.allowPodDeletion=false) still follows the log to the container's end", async () => {
    const pod = scriptedPod(
      ({ n, follow }) => Promise.resolve(n === 0 ? B1 : follow ? B1 + B2 : B1),
      { deleteStatus: 403 },
    );
    const partial = await stopAndRead("p", pod.ctx);
    expect(pod.ctx.cleanup.deletionAllowed).toBe(false);
    expect(pod.isDeleted()).toBe(false);
    expect(partial?.deleted).toHaveLength(2);
  });

  it("reads the log of an agent the API did not yet show running (the first read fails, a later one works)", async () => {
    const notYet = () =>
      Promise.reject(
        apiError(400, 'container "agent" in pod "p" is waiting to start: ContainerCreating'),
      );
    const pod = scriptedPod(({ n }) => (n < 3 ? notYet() : Promise.resolve(B1)));
    const partial = await stopAndRead("p", pod.ctx, true);
    expect(partial?.deleted).toHaveLength(1);
  });
});

describe("readLogUntilGone", () => {
  it("does not stop on a single read error: a reset connection is followed again", async () => {
    const pod = scriptedPod(({ n }) =>
      n === 0
        ? Promise.reject(apiError(500, "connection reset by peer"))
        : Promise.resolve(B1 + B2),
    );
    expect(await readLogUntilGone("p", pod.ctx)).toBe(B1 + B2);
    expect(pod.calls).toEqual(["follow", "follow"]);
  });

  it("ends when the pod is gone (404), with nothing read", async () => {
    const pod = scriptedPod(() => gone());
    expect(await readLogUntilGone("p", pod.ctx)).toBeUndefined();
    expect(pod.calls).toEqual(["follow"]);
  });

  it("gives up after its budget when every read fails", async () => {
    const pod = scriptedPod(() => Promise.reject(apiError(503, "unavailable")));
    expect(await readLogUntilGone("p", pod.ctx)).toBeUndefined();
    // One attempt per 300 ms of the budget, then it stops.
    expect(pod.calls.length).toBe(Math.ceil(STOPPING_LOG_MS / 300));
  });
});
