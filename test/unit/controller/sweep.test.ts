import { describe, expect, it } from "vitest";
import { runIsOver, type OwnerState } from "../../../src/controller/sweep.js";
import { pod } from "./fixtures.js";

const now = Date.parse("2026-06-01T12:00:00Z");
const createdAgo = (seconds: number, activeDeadlineSeconds?: number) =>
  pod({
    metadata: { name: "kic-x", creationTimestamp: new Date(now - seconds * 1000) },
    spec: activeDeadlineSeconds === undefined ? {} : { activeDeadlineSeconds },
  });

const cases: {
  name: string;
  age: number;
  deadline?: number;
  owner: OwnerState | undefined;
  over: string | undefined;
}[] = [
  {
    name: "leaves a young pod whose controller pod is running (a run in progress)",
    age: 30,
    deadline: 600,
    owner: "running",
    over: undefined,
  },
  {
    name: "leaves a young pod without an owner (a run from outside the cluster may own it)",
    age: 30,
    deadline: 600,
    owner: undefined,
    over: undefined,
  },
  {
    name: "leaves a young pod whose owner could not be read",
    age: 30,
    deadline: 600,
    owner: "unknown",
    over: undefined,
  },
  {
    name: "sweeps a pod whose controller pod is gone",
    age: 30,
    deadline: 600,
    owner: "gone",
    over: "its run's controller pod is gone",
  },
  {
    name: "sweeps a pod whose controller pod has finished",
    age: 30,
    deadline: 600,
    owner: "finished",
    over: "its run's controller pod has finished",
  },
  {
    name: "sweeps any pod older than its own activeDeadlineSeconds plus collection time",
    age: 600 + 121,
    deadline: 600,
    owner: "running",
    over: "older than its node timeout",
  },
  {
    name: "uses this run's node timeout for a pod without activeDeadlineSeconds",
    age: 90 + 121,
    owner: undefined,
    over: "older than its node timeout",
  },
  {
    name: "gives a pod at its deadline the time to be collected",
    age: 600 + 60,
    deadline: 600,
    owner: undefined,
    over: undefined,
  },
];

describe("runIsOver", () => {
  cases.forEach((c) => {
    it(c.name, () => {
      expect(runIsOver(createdAgo(c.age, c.deadline), c.owner, 90, now)).toBe(c.over);
    });
  });
});
