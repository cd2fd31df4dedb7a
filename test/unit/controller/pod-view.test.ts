// The shared pod view's logic against a fake API server and a fake watch stream: paging, the cut
// to protection fields, freshness to a resourceVersion read after a node asked, the per-node list
// when the view is not fresh in time, re-watch from the last version and re-list on 410 Gone.
// (The real API server: test/integration/controller/pod-view.test.ts.)
import { ApiException } from "@kubernetes/client-node";
import { pino } from "pino";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { Kube } from "../../../src/kube/api.js";
import {
  BOUND_POD_SELECTOR,
  PodView,
  rvAtLeast,
  type PodViewOptions,
} from "../../../src/controller/pod-view.js";
import { imagesNeededByPods } from "../../../src/controller/pod-images.js";
import type { SlimPod } from "../../../src/controller/pod-slim.js";

const silent = pino({ level: "silent" });

type ListArgs = { limit?: number; _continue?: string; fieldSelector?: string };
type WatchCall = {
  params: Record<string, unknown>;
  send: (type: string, obj: unknown) => void;
  end: (err: unknown) => void;
  aborted: () => boolean;
};

/** A pod as the server sends it: with fields protection never reads (managedFields, env, conditions). */
function pod(ns: string, name: string, node: string, image: string, rv = "1"): SlimPod {
  const full = {
    metadata: {
      namespace: ns,
      name,
      uid: `uid-${ns}-${name}`,
      resourceVersion: rv,
      labels: { app: name },
      managedFields: [{ manager: "kubectl" }],
    },
    spec: {
      nodeName: node,
      containers: [{ name: "app", image, env: [{ name: "A", value: "x".repeat(100) }] }],
    },
    status: { phase: "Running", conditions: [{ type: "Ready" }] },
  };
  return full;
}

/** A fake API server: `pods` is what a consistent list returns; `version` the current revision. */
function fakeServer(initial: SlimPod[]) {
  const state = { pods: initial, version: 100, failNextPage: undefined as number | undefined };
  const lists: ListArgs[] = [];
  const watches: WatchCall[] = [];
  let fenceGate: Promise<void> | undefined;
  const core = {
    listPodForAllNamespaces: async (args: ListArgs) => {
      lists.push(args);
      if (args.limit === 1 && args.fieldSelector === undefined) {
        await fenceGate;
        return { metadata: { resourceVersion: String(state.version) }, items: [] };
      }
      if (args.fieldSelector?.startsWith("spec.nodeName=") === true) {
        const node = args.fieldSelector.slice("spec.nodeName=".length);
        return {
          metadata: { resourceVersion: String(state.version) },
          items: state.pods.filter((p) => p.spec?.nodeName === node),
        };
      }
      expect(args.fieldSelector).toBe(BOUND_POD_SELECTOR);
      const from = Number(args._continue ?? 0);
      if (state.failNextPage !== undefined && from === state.failNextPage) {
        state.failNextPage = undefined;
        throw new ApiException(410, "Gone", '{"reason":"Expired"}', {});
      }
      const to = Math.min(state.pods.length, from + (args.limit ?? state.pods.length));
      return {
        metadata: {
          resourceVersion: String(state.version),
          ...(to < state.pods.length ? { _continue: String(to) } : {}),
        },
        items: state.pods.slice(from, to),
      };
    },
  };
  const watch = {
    watch: (
      _path: string,
      params: Record<string, unknown>,
      cb: (type: string, obj: unknown) => void,
      done: (err: unknown) => void,
    ) => {
      const abort = new AbortController();
      let ended = false;
      watches.push({
        params,
        send: (t, o) => {
          if (!ended) cb(t, o);
        },
        end: (err) => {
          if (ended) return;
          ended = true;
          done(err);
        },
        aborted: () => abort.signal.aborted,
      });
      return Promise.resolve(abort);
    },
  };
  const kube = { core, watch } as unknown as Pick<Kube, "core" | "watch">;
  return {
    kube,
    state,
    lists,
    watches,
    gateFences: () => {
      let open: () => void = () => {};
      fenceGate = new Promise((r) => (open = r));
      return () => {
        fenceGate = undefined;
        open();
      };
    },
  };
}

const never = () => new AbortController().signal;
const imagesOf = (pods: SlimPod[]) => imagesNeededByPods(pods).images;

let view: PodView | undefined;

/** A view of a fake server holding `pods`, listed and watching; stopped after the test. */
async function startedView(pods: SlimPod[], options: PodViewOptions = {}) {
  const s = fakeServer(pods);
  const v = new PodView(s.kube, silent, options);
  view = v;
  await v.start();
  return { s, v };
}
afterEach(() => {
  view?.stop();
  view = undefined;
});

describe("rvAtLeast", () => {
  it.each([
    ["10", "9", true],
    ["10", "10", true],
    ["9", "10", false],
    ["100000000000000000001", "100000000000000000000", true],
    [undefined, "1", false],
    ["abc", "1", false],
    ["5", "x", false],
  ] as const)("%s >= %s is %s (non-numeric versions are never compared)", (have, want, ok) => {
    expect(rvAtLeast(have, want)).toBe(ok);
  });
});

describe("PodView", () => {
  it("lists bound, unfinished pods page by page and keeps only what protection reads", async () => {
    const pods = Array.from({ length: 5 }, (_, i) => pod("ns", `p${i}`, `n${i % 2}`, `img:${i}`));
    const { s, v } = await startedView(pods, { pageSize: 2 });
    expect(s.lists.map((l) => l._continue)).toEqual([undefined, "2", "4"]);
    expect(s.lists.every((l) => l.limit === 2)).toBe(true);
    expect(v.size).toBe(5);
    expect(v.stats.listPages).toBe(3);
    const [first] = v.podsOnNode("n0");
    expect(first).toEqual({
      metadata: { namespace: "ns", name: "p0", uid: "uid-ns-p0" },
      spec: { nodeName: "n0", containers: [{ name: "app", image: "img:0" }] },
      status: { phase: "Running" },
    });
    expect(imagesOf(v.podsOnNode("n1"))).toEqual(["img:1", "img:3"]);
    // The watch starts where the list's snapshot was taken.
    expect(s.watches[0]?.params).toMatchObject({
      fieldSelector: BOUND_POD_SELECTOR,
      resourceVersion: "100",
      allowWatchBookmarks: true,
    });
  });

  it("restarts a list whose continue token expired part-way (410) and keeps every pod once", async () => {
    const pods = Array.from({ length: 5 }, (_, i) => pod("ns", `p${i}`, "n", `img:${i}`));
    const s = fakeServer(pods);
    s.state.failNextPage = 2;
    view = new PodView(s.kube, silent, { pageSize: 2 });
    await view.start();
    expect(view.size).toBe(5);
    expect(s.lists.map((l) => l._continue)).toEqual([undefined, "2", undefined, "2", "4"]);
  });

  it("serves a node from the view once the watch delivered events up to a version read after the node asked", async () => {
    const { s, v } = await startedView([pod("ns", "old", "n", "img:old")], { freshWaitMs: 60_000 });
    // A pod bound after the list; the server is at 101 when the node asks.
    s.state.version = 101;
    const asked = v.podsOn("n", never());
    await vi.waitFor(() => {
      expect(s.lists.filter((l) => l.limit === 1)).toHaveLength(1);
    });
    let settled = false;
    void asked.then(() => (settled = true));
    await new Promise((r) => setTimeout(r, 20));
    expect(settled).toBe(false); // the view is at 100: not fresh yet
    s.watches[0]?.send("ADDED", pod("ns", "late", "n", "img:late", "101"));
    const got = await asked;
    expect(got.from).toBe("view");
    expect(imagesOf(got.pods)).toEqual(["img:late", "img:old"]);
    expect(v.stats).toMatchObject({ fenceReads: 1, fromView: 1, nodeLists: 0 });
    // No per-node list was made.
    expect(s.lists.some((l) => l.fieldSelector?.startsWith("spec.nodeName=") === true)).toBe(false);
  });

  it("serves the nodes that asked before the view's own list was sent (a run's first wave) from that list, with no read of their own", async () => {
    const s = fakeServer([pod("ns", "a", "n1", "img:a"), pod("ns", "b", "n2", "img:b")]);
    view = new PodView(s.kube, silent, { freshWaitMs: 60_000 });
    const started = view.start();
    const first = await Promise.all([view.podsOn("n1", never()), view.podsOn("n2", never())]);
    await started;
    expect(first.map((f) => [f.from, imagesOf(f.pods)])).toEqual([
      ["view", ["img:a"]],
      ["view", ["img:b"]],
    ]);
    expect(view.stats).toMatchObject({ fenceReads: 0, fromView: 2, nodeLists: 0 });
    // A node asking later needs a read sent after it asked.
    s.state.version = 101;
    const later = view.podsOn("n1", never());
    await vi.waitFor(() => {
      expect(view?.stats.fenceReads).toBe(1);
    });
    s.watches[0]?.send("BOOKMARK", { metadata: { resourceVersion: "101" } });
    expect((await later).from).toBe("view");
  });

  it("takes a helper pod create sent after the node asked as its fence, with no read of its own", async () => {
    const { s, v } = await startedView([pod("ns", "a", "n", "img:a")], {
      freshWaitMs: 60_000,
      writeFenceWaitMs: 60_000,
    });
    const asked = v.podsOn("n", never());
    // Another node's create, answered at 130; the watch then delivers its event.
    await v.fenceWrite(() => Promise.resolve({ metadata: { resourceVersion: "130" } }));
    s.watches[0]?.send("ADDED", pod("ns", "helper", "other", "img:h", "130"));
    const got = await asked;
    expect(got.from).toBe("view");
    expect(v.stats).toMatchObject({ fenceReads: 0, fromView: 1 });
  });

  it("does not take a create sent before the node asked: it reads the version when no later one comes", async () => {
    const { s, v } = await startedView([pod("ns", "a", "n", "img:a")], {
      freshWaitMs: 60_000,
      writeFenceWaitMs: 20,
    });
    let answer: (v: { metadata: { resourceVersion: string } }) => void = () => {};
    const early = v.fenceWrite(
      () => new Promise<{ metadata: { resourceVersion: string } }>((r) => (answer = r)),
    );
    s.state.version = 140;
    const asked = v.podsOn("n", never());
    answer({ metadata: { resourceVersion: "120" } }); // sent before the node asked
    await early;
    await vi.waitFor(() => {
      expect(v.stats.fenceReads).toBe(1);
    });
    s.watches[0]?.send("BOOKMARK", { metadata: { resourceVersion: "140" } });
    expect((await asked).from).toBe("view");
  });

  it("takes a bookmark as proof that nothing changed up to its version", async () => {
    const { s, v } = await startedView([pod("ns", "a", "n", "img:a")], { freshWaitMs: 60_000 });
    s.state.version = 150;
    const asked = v.podsOn("n", never());
    await vi.waitFor(() => {
      expect(v.stats.fenceReads).toBe(1);
    });
    s.watches[0]?.send("BOOKMARK", { metadata: { resourceVersion: "150" } });
    const got = await asked;
    expect(got.from).toBe("view");
    expect(imagesOf(got.pods)).toEqual(["img:a"]);
  });

  it("forgets a pod the watch says is deleted (or finished: it leaves the selector)", async () => {
    const { s, v } = await startedView([
      pod("ns", "a", "n", "img:a"),
      pod("ns", "b", "n", "img:b"),
    ]);
    s.watches[0]?.send("DELETED", pod("ns", "a", "n", "img:a", "101"));
    expect(imagesOf(v.podsOnNode("n"))).toEqual(["img:b"]);
    expect(v.version).toBe("101");
  });

  it("reads the node's own pods (consistent list) when the view does not reach the version in time", async () => {
    const { s, v } = await startedView([pod("ns", "a", "n", "img:a")], { freshWaitMs: 30 });
    s.state.version = 120;
    s.state.pods.push(pod("ns", "b", "n", "img:b"));
    const got = await v.podsOn("n", never());
    expect(got.from).toBe("list");
    expect(imagesOf(got.pods)).toEqual(["img:a", "img:b"]);
    expect(s.lists.at(-1)).toEqual({ fieldSelector: "spec.nodeName=n" });
    expect(v.stats).toMatchObject({ fenceReads: 1, fromView: 0, nodeLists: 1 });
  });

  it("shares one version read among the nodes that asked while another read was in flight", async () => {
    const { s, v } = await startedView([pod("ns", "a", "n", "img:a")], { freshWaitMs: 60_000 });
    const open = s.gateFences();
    const first = v.currentVersion();
    const later = [v.currentVersion(), v.currentVersion(), v.currentVersion()];
    open();
    await first;
    await Promise.all(later);
    // One read for the first caller; the three that came while it was in flight share a second,
    // sent after they asked.
    expect(v.stats.fenceReads).toBe(2);
  });

  it("re-opens a broken watch from the last version it saw, without listing again", async () => {
    const { s, v } = await startedView([pod("ns", "a", "n", "img:a")]);
    s.watches[0]?.send("MODIFIED", pod("ns", "a", "n", "img:a2", "105"));
    s.watches[0]?.end(new Error("socket hang up"));
    await vi.waitFor(() => {
      expect(s.watches).toHaveLength(2);
    });
    expect(s.watches[1]?.params.resourceVersion).toBe("105");
    expect(v.stats).toMatchObject({ rewatches: 1, relists: 0, listPages: 1 });
    expect(imagesOf(v.podsOnNode("n"))).toEqual(["img:a2"]);
  });

  it("re-opens a watch the server ended (its timeout) at once, from the last version", async () => {
    const { s } = await startedView([pod("ns", "a", "n", "img:a")]);
    s.watches[0]?.end(null);
    await vi.waitFor(() => {
      expect(s.watches).toHaveLength(2);
    });
    expect(s.watches[1]?.params.resourceVersion).toBe("100");
  });

  it("lists everything again when the watch's version expired (410 Gone), dropping pods deleted meanwhile", async () => {
    const { s, v } = await startedView([
      pod("ns", "a", "n", "img:a"),
      pod("ns", "gone", "n", "img:gone"),
    ]);
    // While the watch was down: `gone` was deleted, `new` was bound; the server moved on.
    s.state.pods = [pod("ns", "a", "n", "img:a"), pod("ns", "new", "n", "img:new")];
    s.state.version = 300;
    s.watches[0]?.send("ERROR", {
      code: 410,
      reason: "Expired",
      message: "too old resource version",
    });
    s.watches[0]?.end(null);
    await vi.waitFor(() => {
      expect(s.watches).toHaveLength(2);
    });
    expect(v.stats).toMatchObject({ relists: 1, listPages: 2 });
    expect(imagesOf(v.podsOnNode("n"))).toEqual(["img:a", "img:new"]);
    expect(s.watches[1]?.params.resourceVersion).toBe("300");
  });

  it("stops the watch when stopped", async () => {
    const { s, v } = await startedView([]);
    v.stop();
    expect(s.watches[0]?.aborted()).toBe(true);
  });

  it("says which verb was refused when the watch is forbidden", async () => {
    const s = fakeServer([]);
    s.kube.watch.watch = (_p, _q, _cb, done) => {
      done(new ApiException(403, "Forbidden", '{"message":"pods is forbidden"}', {}));
      return Promise.resolve(new AbortController());
    };
    view = new PodView(s.kube, silent);
    await expect(view.start()).rejects.toThrow(/watch.*pods/);
  });
});
