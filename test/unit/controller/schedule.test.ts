import { describe, expect, it } from "vitest";
import { createRunScheduler } from "../../../src/controller/schedule.js";

/** A run that finishes when the test says so. */
function controllableRun() {
  const finishers: ((code: number) => void)[] = [];
  const signals: AbortSignal[] = [];
  const run = (signal: AbortSignal) =>
    new Promise<number>((resolve) => {
      signals.push(signal);
      finishers.push(resolve);
      signal.addEventListener("abort", () => {
        resolve(1);
      });
    });
  return { run, finishers, signals };
}

describe("createRunScheduler", () => {
  it("never starts a second run while one is in flight, and says so", async () => {
    const c = controllableRun();
    const notes: string[] = [];
    const s = createRunScheduler(c.run, (m) => notes.push(m));
    const first = s.tick();
    await s.tick();
    expect(c.finishers).toHaveLength(1);
    expect(notes).toEqual(["a run is still in progress: this scheduled run is skipped"]);
    c.finishers[0]?.(0);
    await first;
    expect(s.running).toBe(false);
    const second = s.tick();
    expect(c.finishers).toHaveLength(2);
    c.finishers[1]?.(1);
    await second;
    expect(s.lastExitCode).toBe(1);
  });

  it("aborts the run in flight on stop and waits for it", async () => {
    const c = controllableRun();
    const s = createRunScheduler(c.run, () => undefined);
    void s.tick();
    await s.stop("SIGTERM");
    expect(c.signals[0]?.aborted).toBe(true);
    expect(c.signals[0]?.reason).toBe("SIGTERM");
    expect(s.running).toBe(false);
    await s.tick();
    expect(c.finishers).toHaveLength(1);
  });

  it("keeps scheduling after a run that could not start", async () => {
    const notes: string[] = [];
    const s = createRunScheduler(
      () => Promise.reject(new Error("cannot reach the API server")),
      (m) => notes.push(m),
    );
    await s.tick();
    expect(s.lastExitCode).toBe(2);
    expect(notes).toEqual(["run failed: cannot reach the API server"]);
    await s.tick();
    expect(notes).toHaveLength(2);
  });
});
