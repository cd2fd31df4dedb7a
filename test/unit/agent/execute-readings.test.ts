// The image filesystem's readings ride beside listings the removals need anyway (issue 22: never
// on the critical path), without moving to the wrong side of a removal: the reading before is
// finished before the first removal call is sent, the one after starts only once the last removal
// call has returned.
import { pino } from "pino";
import { describe, expect, it } from "vitest";
import { executePlan, REMOVE_BATCH } from "../../../src/agent/execute.js";
import type { ImageRecord, Inventory } from "../../../src/agent/inventory.js";
import type { RuntimeAdapter, Usage } from "../../../src/agent/runtime.js";

const hex = (i: number) => i.toString(16).padStart(64, "0");
const images: ImageRecord[] = Array.from({ length: REMOVE_BATCH + 3 }, (_, i) => ({
  id: `sha256:${hex(i + 1)}`,
  names: [`docker.io/acme/app:${String(i)}`],
  digests: [],
  sizeBytes: 1000,
  pinned: false,
  refs: [`docker.io/acme/app:${String(i)}`, `sha256:${hex(i + 1)}`],
}));
const inventory = {
  images,
  containers: [],
  sandboxes: [],
  imageTimesKnown: false,
} as unknown as Inventory;
const idle: Usage = { containers: [], sandboxes: [], imageVolumes: [] };

/** A runtime that records the order of what happens to it; `usage` answers with `usages` in turn. */
function recordingRuntime(events: string[], usages: Usage[] = []): RuntimeAdapter {
  let removed = new Set<string>();
  return {
    measure: () => Promise.resolve(),
    usage: () => {
      events.push("usage");
      return Promise.resolve(usages.shift() ?? idle);
    },
    remove: (batch: readonly ImageRecord[]) => {
      events.push(`remove ${String(batch.length)}`);
      removed = new Set([...removed, ...batch.map((i) => i.id)]);
      return Promise.resolve({ errors: new Map(), alreadyGone: new Map() });
    },
    present: () => {
      events.push("present");
      return Promise.resolve(
        new Map(images.filter((i) => !removed.has(i.id)).map((i) => [i.id, i.names])),
      );
    },
  } as unknown as RuntimeAdapter;
}

describe("image filesystem readings around the removals", () => {
  it("sends no removal before the reading before them has settled", async () => {
    const events: string[] = [];
    let settle = () => {};
    const before = new Promise<void>((resolve) => {
      settle = () => {
        events.push("reading before settled");
        resolve();
      };
    });
    const run = executePlan(images, inventory, recordingRuntime(events), {
      dryRun: false,
      log: pino({ level: "silent" }),
      beforeFirstRemoval: before,
    });
    // The re-check runs meanwhile; the removal waits.
    await new Promise((r) => setTimeout(r, 20));
    expect(events).toEqual(["usage"]);
    settle();
    const done = await run;
    expect(done.deleted).toHaveLength(images.length);
    expect(events.slice(0, 3)).toEqual([
      "usage",
      "reading before settled",
      `remove ${String(REMOVE_BATCH)}`,
    ]);
  });

  it("starts the reading after only when the last batch's removal call has returned", async () => {
    const events: string[] = [];
    await executePlan(images, inventory, recordingRuntime(events), {
      dryRun: false,
      log: pino({ level: "silent" }),
      afterLastRemoval: () => events.push("reading after"),
    });
    expect(events).toEqual([
      "usage",
      `remove ${String(REMOVE_BATCH)}`,
      "present",
      "usage",
      "remove 3",
      "reading after",
      "present",
    ]);
  });

  it("does not call it when the last batch was not removed (its images came into use)", async () => {
    const events: string[] = [];
    const last = images.slice(REMOVE_BATCH);
    const inUse: Usage = {
      containers: last.map((i, n) => ({
        id: `c${String(n)}`,
        name: `app-${String(n)}`,
        images: [i.id],
        state: "running",
      })),
      sandboxes: [],
      imageVolumes: [],
    } as unknown as Usage;
    const done = await executePlan(images, inventory, recordingRuntime(events, [idle, inUse]), {
      dryRun: false,
      log: pino({ level: "silent" }),
      afterLastRemoval: () => events.push("reading after"),
    });
    expect(done.keptLate.map((k) => k.reason)).toEqual(["in-use", "in-use", "in-use"]);
    expect(events).not.toContain("reading after");
  });
});
