// A pod bound to the node after the controller read the protect list: the agent's re-check before
// each removal batch compares the node's running sandboxes with the pods it was told about, and
// deletes nothing more when one is new (which images that pod will pull is not known on the node).
import { pino } from "pino";
import { describe, expect, it } from "vitest";
import { arrivedDetail, arrivedPods } from "../../../src/agent/arrived-pods.js";
import { executePlan, REMOVE_BATCH } from "../../../src/agent/execute.js";
import type { ImageRecord, Inventory, SandboxRecord } from "../../../src/agent/inventory.js";
import type { RuntimeAdapter, Usage } from "../../../src/agent/runtime.js";
import type { KnownPods } from "../../../src/config/protect-entries.js";

const known: KnownPods = { uids: ["uid-web", "uid-static-hash"], helper: "kic/kic-r1-node-a" };
const sandbox = (pod: string, uid: string | undefined, ready: boolean): SandboxRecord => ({
  id: `sb-${pod}`,
  pod,
  ...(uid === undefined ? {} : { uid }),
  ready,
});

describe("arrivedPods: which sandboxes are of pods the controller did not know", () => {
  [
    {
      name: "a known pod's running sandbox",
      s: sandbox("shop/web", "uid-web", true),
      arrived: false,
    },
    {
      name: "a static pod by its config hash (the mirror's annotation)",
      s: sandbox("kube-system/etcd-node-a", "uid-static-hash", true),
      arrived: false,
    },
    {
      name: "the helper pod itself",
      s: sandbox("kic/kic-r1-node-a", "uid-helper", true),
      arrived: false,
    },
    {
      name: "an unknown pod's stopped sandbox (a finished pod the view leaves out)",
      s: sandbox("batch/job-1", "uid-done", false),
      arrived: false,
    },
    {
      name: "a sandbox no kubelet made (no pod UID)",
      s: sandbox("sandbox 0123456789ab", undefined, true),
      arrived: false,
    },
    {
      name: "an unknown pod's running sandbox",
      s: sandbox("shop/new", "uid-new", true),
      arrived: true,
    },
    {
      name: "a known pod's name with a new UID (a StatefulSet pod made again)",
      s: sandbox("shop/web", "uid-web-2", true),
      arrived: true,
    },
    {
      name: "another run's helper pod, not this one",
      s: sandbox("kic/kic-r2-node-a", "uid-other-helper", true),
      arrived: true,
    },
  ].forEach((t) => {
    it(`${t.arrived ? "stops for" : "ignores"} ${t.name}`, () => {
      expect(arrivedPods([t.s], known).map((s) => s.pod)).toEqual(t.arrived ? [t.s.pod] : []);
    });
  });

  it("names each new pod once, sorted, and says what happens to the rest", () => {
    const pods = arrivedPods(
      [
        sandbox("shop/z", "uid-z", true),
        sandbox("shop/a", "uid-a", true),
        { ...sandbox("shop/a", "uid-a", true), id: "sb-again" },
      ],
      known,
    );
    expect(pods.map((p) => p.pod)).toEqual(["shop/a", "shop/z"]);
    expect(arrivedDetail(pods)).toBe(
      "pod shop/a and 1 other pod were bound to the node after the protect list was read (their sandboxes appeared during the run; which images it will pull is not known here): left for the next run",
    );
    expect(arrivedDetail(pods.slice(0, 1))).toMatch(
      /^pod shop\/a was bound .* \(its sandbox appeared/,
    );
  });
});

describe("executePlan with the pods the controller knew", () => {
  const hex = (i: number) => i.toString(16).padStart(64, "0");
  const images: ImageRecord[] = Array.from({ length: REMOVE_BATCH * 2 + 5 }, (_, i) => ({
    id: `sha256:${hex(i + 1)}`,
    names: [`docker.io/acme/app:${String(i)}`],
    digests: [],
    sizeBytes: 100,
    pinned: false,
    refs: [`docker.io/acme/app:${String(i)}`],
  }));
  const inventory: Inventory = {
    images,
    containers: [],
    sandboxes: [],
    imageVolumes: [],
    imageTimesKnown: false,
  };

  /** A runtime whose sandboxes are `sandboxesAt(n)` at the n-th re-check (0-based); removes all. */
  function runtime(sandboxesAt: (n: number) => SandboxRecord[]) {
    let checks = 0;
    const removed = new Set<string>();
    const adapter = {
      measure: () => Promise.resolve(),
      usage: (): Promise<Usage> =>
        Promise.resolve({ containers: [], sandboxes: sandboxesAt(checks++), imageVolumes: [] }),
      remove: (batch: readonly ImageRecord[]) => {
        for (const i of batch) removed.add(i.id);
        return Promise.resolve({ errors: new Map(), alreadyGone: new Map() });
      },
      present: () =>
        Promise.resolve(
          new Map(images.filter((i) => !removed.has(i.id)).map((i) => [i.id, i.names])),
        ),
    } as unknown as RuntimeAdapter;
    return { adapter, removed };
  }
  const options = { dryRun: false, log: pino({ level: "silent" }) };
  const late = sandbox("shop/late", "uid-late", true);

  it("deletes nothing more once a pod it was not told about has a running sandbox", async () => {
    // The new pod's sandbox is there from the second batch's re-check on.
    const { adapter, removed } = runtime((n) => (n >= 1 ? [late] : []));
    const done = await executePlan(images, inventory, adapter, { ...options, knownPods: known });
    expect(done.deleted.map((d) => d.id)).toEqual(images.slice(0, REMOVE_BATCH).map((i) => i.id));
    expect(removed.size).toBe(REMOVE_BATCH);
    expect(done.stopped).toBe("pod-arrived");
    expect(done.arrivedPods).toEqual(["shop/late"]);
    const left = images.slice(REMOVE_BATCH);
    expect(done.keptLate).toHaveLength(left.length);
    for (const k of done.keptLate) {
      expect(k.reason).toBe("not-attempted");
      expect(k.detail).toMatch(
        /^pod shop\/late was bound to the node after the protect list was read/,
      );
    }
  });

  it("deletes nothing at all when the pod came before the first batch", async () => {
    const { adapter, removed } = runtime(() => [late]);
    const done = await executePlan(images, inventory, adapter, { ...options, knownPods: known });
    expect(removed.size).toBe(0);
    expect(done.deleted).toEqual([]);
    expect(done.keptLate).toHaveLength(images.length);
  });

  it("goes on through known pods, the helper itself and finished pods' sandboxes", async () => {
    const { adapter } = runtime(() => [
      sandbox("shop/web", "uid-web", true),
      sandbox("kic/kic-r1-node-a", "uid-helper", true),
      sandbox("batch/job-1", "uid-done", false),
    ]);
    const done = await executePlan(images, inventory, adapter, { ...options, knownPods: known });
    expect(done.deleted).toHaveLength(images.length);
    expect(done.stopped).toBeUndefined();
  });

  it("without the controller's pods (a bare protect list) does not compare sandboxes", async () => {
    const { adapter } = runtime(() => [late]);
    const done = await executePlan(images, inventory, adapter, options);
    expect(done.deleted).toHaveLength(images.length);
  });
});
