// --unused-for: which clock labels a run writes, and what the plan keeps or deletes by them. The
// labels themselves are proven on real containerd in test/integration/agent/unused-for.test.ts.
import { describe, expect, it } from "vitest";
import { compilePatterns } from "../../../src/config/patterns.js";
import { formatDuration } from "../../../src/config/duration.js";
import type { ImageRecord, Inventory } from "../../../src/agent/inventory.js";
import { clockSubjects, planDeletions, type PlanOptions } from "../../../src/agent/plan.js";
import {
  formatClockValue,
  parseClockValue,
  planClockChanges,
  unusedForDetail,
  type ClockReading,
} from "../../../src/agent/unused-clock.js";
import {
  describeNeededBy,
  fromProtectEntry,
  toProtectEntry,
} from "../../../src/config/protect-entries.js";

const id = (c: string) => `sha256:${c.repeat(64).slice(0, 64)}`;
const DAY = 86_400_000;
const NOW = Date.UTC(2026, 11, 7, 12, 0, 0);

function image(c: string, name: string): ImageRecord {
  return {
    id: id(c),
    names: [name],
    digests: [],
    sizeBytes: 10,
    pinned: false,
    refs: [name, id(c)],
  };
}

const reading = (sinceMs: number | undefined, refs = ["r"]): ClockReading => ({ sinceMs, refs });

describe("clock labels a run writes", () => {
  const a = image("a", "docker.io/acme/a:1");
  const b = image("b", "docker.io/acme/b:1");
  const c = image("c", "docker.io/acme/c:1");

  it("starts a clock (now) on an image seen unused for the first time", () => {
    const out = planClockChanges([a], new Set(), new Map(), NOW);
    expect(out.start).toEqual([{ image: a, sinceMs: NOW }]);
    expect(out.stop).toEqual([]);
    expect(out.state.get(a.id)).toBe(NOW);
  });

  it("keeps a running clock as it is: no write", () => {
    const out = planClockChanges([a], new Set(), new Map([[a.id, reading(NOW - 3 * DAY)]]), NOW);
    expect(out.start).toEqual([]);
    expect(out.stop).toEqual([]);
    expect(out.state.get(a.id)).toBe(NOW - 3 * DAY);
  });

  it("stops the clock of an image seen in use, on every record that carries it", () => {
    const readings = new Map([[a.id, reading(NOW - DAY, ["docker.io/acme/a:1", a.id])]]);
    const out = planClockChanges([a], new Set([a.id]), readings, NOW);
    expect(out.stop).toEqual([{ image: a, refs: ["docker.io/acme/a:1", a.id] }]);
    expect(out.state.get(a.id)).toBe("in-use");
  });

  it("writes nothing for an image in use without a clock", () => {
    const out = planClockChanges([a], new Set([a.id]), new Map(), NOW);
    expect(out.start).toEqual([]);
    expect(out.stop).toEqual([]);
  });

  it("starts again a clock whose value is no time (not knowing is not 'long ago')", () => {
    const out = planClockChanges([a], new Set(), new Map([[a.id, reading(undefined)]]), NOW);
    expect(out.start).toEqual([{ image: a, sinceMs: NOW }]);
  });

  it("makes at most the cap of writes, removals first; an image left without a clock has none", () => {
    const readings = new Map([[a.id, reading(NOW - DAY)]]);
    const out = planClockChanges([a, b, c], new Set([a.id]), readings, NOW, 2);
    expect(out.stop.map((s) => s.image)).toEqual([a]);
    expect(out.start.map((s) => s.image)).toEqual([b]);
    expect(out.deferred).toBe(1);
    expect(out.state.has(c.id)).toBe(false);
  });
});

describe("clock values", () => {
  it("writes RFC 3339 in UTC, whole seconds, and reads it back", () => {
    const text = formatClockValue(NOW + 123);
    expect(text).toBe("2026-12-07T12:00:00Z");
    expect(parseClockValue(text)).toBe(NOW);
    expect(parseClockValue("2026-12-07T13:00:00+01:00")).toBe(NOW);
  });

  it.each(["", "yesterday", "1765108800", "2026-12-07", "2026-13-45T99:00:00Z"])(
    "reads %j as no time",
    (value) => {
      expect(parseClockValue(value)).toBeUndefined();
    },
  );

  it("says why an image is kept: since when, its age and the rule", () => {
    expect(unusedForDetail(NOW - 3 * DAY, 14 * 86_400, NOW, formatDuration)).toBe(
      "unused since 2026-12-04T12:00:00Z (3d < 14d)",
    );
    expect(unusedForDetail(NOW - 14 * DAY, 14 * 86_400, NOW, formatDuration)).toBeUndefined();
    expect(unusedForDetail(undefined, 60, NOW, formatDuration)).toMatch(/^no clock yet/);
    expect(unusedForDetail("in-use", 60, NOW, formatDuration)).toMatch(/in use/);
  });
});

describe("the plan with --unused-for", () => {
  const a = image("a", "docker.io/acme/a:1");
  const b = image("b", "docker.io/acme/b:1");
  const c = image("c", "docker.io/acme/c:1");
  const inventory: Inventory = {
    images: [a, b, c],
    containers: [],
    sandboxes: [],
    imageTimesKnown: false,
  };
  const options = (state: Map<string, number | "in-use">): PlanOptions => ({
    include: compilePatterns("--include", ["docker.io/acme/*"], "include"),
    exclude: [],
    protect: [],
    nowMs: NOW,
    unusedFor: { seconds: 14 * 86_400, state },
  });

  it("deletes only images whose clock passed N; keeps the others with since when and their age", () => {
    const plan = planDeletions(
      inventory,
      options(
        new Map([
          [a.id, NOW - 15 * DAY],
          [b.id, NOW - 3 * DAY],
          [c.id, NOW],
        ]),
      ),
    );
    expect(plan.delete).toEqual([a]);
    expect(plan.kept).toEqual([
      {
        id: b.id,
        names: b.names,
        reason: "unused-for",
        detail: "unused since 2026-12-04T12:00:00Z (3d < 14d)",
      },
      {
        id: c.id,
        names: c.names,
        reason: "unused-for",
        detail: "unused since 2026-12-07T12:00:00Z (0s < 14d)",
      },
    ]);
  });

  it("keeps an image without a clock", () => {
    const plan = planDeletions(inventory, options(new Map([[a.id, NOW - 15 * DAY]])));
    expect(plan.delete).toEqual([a]);
    expect(plan.kept.map((k) => [k.id, k.reason])).toEqual([
      [b.id, "unused-for"],
      [c.id, "unused-for"],
    ]);
  });

  it("keeps an image a workload names whatever its clock says, naming the workload", () => {
    const plan = planDeletions(inventory, {
      ...options(new Map([[a.id, NOW - 15 * DAY]])),
      protect: [
        { ref: "docker.io/acme/a:1", neededBy: { workload: "cronjob ops/backup", workloads: 2 } },
      ],
    });
    expect(plan.kept[0]).toEqual({
      id: a.id,
      names: a.names,
      reason: "protected",
      detail: "needed by cronjob ops/backup and 1 other workload",
    });
  });
});

describe("what the clocks are about", () => {
  const a = image("a", "docker.io/acme/a:1");
  const b = image("b", "docker.io/acme/b:1");
  const c = image("c", "docker.io/acme/c:1");
  const d = image("d", "docker.io/other/d:1");
  const e = image("e", "docker.io/acme/e:1");
  const inventory: Inventory = {
    images: [a, b, c, d, e],
    containers: [{ id: "x", name: "x", state: "exited", images: [a.id] }],
    sandboxes: [],
    imageTimesKnown: false,
  };

  it("clocks only matched images; in use: containers in any state and pods on the node, not workloads", () => {
    const { matched, inUse } = clockSubjects(inventory, {
      include: compilePatterns("--include", ["docker.io/acme/*"], "include"),
      exclude: compilePatterns("--exclude", ["docker.io/acme/e"], "exclude"),
      protect: [
        { ref: "docker.io/acme/b:1", neededBy: { pod: "shop/web", pods: 1 } },
        { ref: "docker.io/acme/c:1", neededBy: { workload: "deployment shop/api", workloads: 1 } },
      ],
    });
    expect(matched).toEqual([a, b, c]);
    expect([...inUse].sort()).toEqual([a.id, b.id].sort());
  });
});

describe("workload entries in the protect file", () => {
  it("travel as { ref, workload, workloads } and read back the same", () => {
    const p = { ref: "busybox:1.36", neededBy: { workload: "cronjob ops/backup", workloads: 3 } };
    const entry = toProtectEntry(p);
    expect(entry).toEqual({ ref: "busybox:1.36", workload: "cronjob ops/backup", workloads: 3 });
    expect(fromProtectEntry(JSON.parse(JSON.stringify(entry)))).toEqual(p);
    expect(describeNeededBy(p.neededBy)).toBe("needed by cronjob ops/backup and 2 other workloads");
    expect(describeNeededBy({ workload: "deployment a/b", workloads: 1 })).toBe(
      "needed by deployment a/b",
    );
  });
});
