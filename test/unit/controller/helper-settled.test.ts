// When the controller stops waiting for a helper pod: at a terminal phase, a Pending that will not
// change, or as soon as the agent's container has ended (issue 22: the kubelet sets the terminal
// phase only after tearing down the pod's sandbox, a second or more after the agent's last line).
import type { V1ContainerState } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import { settled } from "../../../src/controller/helper-outcome.js";
import { pod as podOf, type Plain } from "./fixtures.js";

const pod = (phase: string, name: string, state: Plain<V1ContainerState>) =>
  podOf({
    status: {
      phase,
      containerStatuses: [{ name, state, image: "x", imageID: "", ready: false, restartCount: 0 }],
    },
  });
const terminated = (exitCode: number): Plain<V1ContainerState> => ({ terminated: { exitCode } });

describe("when a helper pod has settled", () => {
  [
    {
      what: "Running, agent still running",
      pod: pod("Running", "agent", { running: {} }),
      settled: false,
    },
    { what: "Running, agent ended 0", pod: pod("Running", "agent", terminated(0)), settled: true },
    { what: "Running, agent ended 1", pod: pod("Running", "agent", terminated(1)), settled: true },
    {
      what: "Running, another container ended (not the agent's)",
      pod: pod("Running", "sidecar", terminated(0)),
      settled: false,
    },
    {
      what: "Pending, container being created",
      pod: pod("Pending", "agent", { waiting: { reason: "ContainerCreating" } }),
      settled: false,
    },
    {
      what: "Pending, image cannot be pulled",
      pod: pod("Pending", "agent", { waiting: { reason: "ErrImageNeverPull" } }),
      settled: true,
    },
    { what: "Succeeded", pod: pod("Succeeded", "agent", terminated(0)), settled: true },
    {
      what: "Failed, agent still running (deadline)",
      pod: pod("Failed", "agent", { running: {} }),
      settled: true,
    },
    { what: "no status yet", pod: podOf({}), settled: false },
  ].forEach((t) => {
    it(`${t.settled ? "stops" : "keeps"} waiting: ${t.what}`, () => {
      expect(settled(t.pod)).toBe(t.settled);
    });
  });
});
