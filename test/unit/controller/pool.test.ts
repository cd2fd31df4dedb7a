import { describe, expect, it } from "vitest";
import { createLimiter, forEachBounded } from "../../../src/controller/pool.js";

const tick = () => new Promise((r) => setTimeout(r, 1));

describe("forEachBounded", () => {
  it("never has more than the limit in flight and runs every item in order of start", async () => {
    let inFlight = 0;
    let peak = 0;
    const started: number[] = [];
    const items = Array.from({ length: 20 }, (_, i) => i);
    const left = await forEachBounded(items, 3, new AbortController().signal, async (i) => {
      started.push(i);
      inFlight++;
      peak = Math.max(peak, inFlight);
      await tick();
      inFlight--;
    });
    expect(peak).toBe(3);
    expect(started).toEqual(items);
    expect(left).toEqual([]);
  });

  it("with a limit of 1 runs each item in turn", async () => {
    const log: string[] = [];
    await forEachBounded(["a", "b"], 1, new AbortController().signal, async (x) => {
      log.push(`start ${x}`);
      await tick();
      log.push(`end ${x}`);
    });
    expect(log).toEqual(["start a", "end a", "start b", "end b"]);
  });

  it("starts nothing after the signal aborts and returns what never started", async () => {
    const abort = new AbortController();
    const started: number[] = [];
    const left = await forEachBounded([1, 2, 3, 4, 5], 2, abort.signal, async (i) => {
      started.push(i);
      if (i === 2) abort.abort("SIGTERM");
      await tick();
    });
    expect(started).toEqual([1, 2]);
    expect(left).toEqual([3, 4, 5]);
  });
});

describe("createLimiter", () => {
  it("never runs more than its limit at once, and runs every call", async () => {
    const limit = createLimiter(2);
    let inFlight = 0;
    let peak = 0;
    const results = await Promise.all(
      Array.from({ length: 9 }, (_, i) =>
        limit.run(async () => {
          inFlight++;
          peak = Math.max(peak, inFlight);
          await tick();
          inFlight--;
          return i;
        }),
      ),
    );
    expect(peak).toBe(2);
    expect(results).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8]);
  });

  it("frees the slot of a call that failed", async () => {
    const limit = createLimiter(1);
    await expect(limit.run(() => Promise.reject(new Error("boom")))).rejects.toThrow("boom");
    await expect(limit.run(() => Promise.resolve("next"))).resolves.toBe("next");
  });
});
