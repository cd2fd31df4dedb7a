import type { V1ContainerState, V1ContainerStatus, V1PodStatus } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import { explainPod, latestWarnings, podState } from "../../../src/controller/pod-diagnosis.js";
import { event as warningEvent, pod, type Plain } from "./fixtures.js";

const pinned = { nodeName: "node-a", containers: [{ name: "agent", image: "kic:1" }] };

/** The helper pod, bound to node-a, with `status`. */
const onNodeA = (status: Plain<V1PodStatus>) => pod({ spec: pinned, status });

/** The status of the helper pod's one container, `agent`, in `state`. */
const agent = (state: Plain<V1ContainerState>): Plain<V1ContainerStatus> => ({
  name: "agent",
  image: "kic:1",
  imageID: "",
  ready: false,
  restartCount: 0,
  state,
});

const event = (reason: string, message: string, at: string, type = "Warning", count?: number) =>
  warningEvent({
    type,
    reason,
    message,
    lastTimestamp: new Date(at),
    ...(count === undefined ? {} : { count }),
  });

describe("podState", () => {
  it("treats ImagePullBackOff and ErrImageNeverPull as stuck: waiting longer will not help", () => {
    for (const reason of [
      "ImagePullBackOff",
      "ErrImageNeverPull",
      "InvalidImageName",
      "CreateContainerConfigError",
    ]) {
      const state = podState(
        onNodeA({
          phase: "Pending",
          containerStatuses: [agent({ waiting: { reason, message: "m" } })],
        }),
      );
      expect(state).toEqual({ kind: "stuck", why: `container agent cannot start: ${reason}: m` });
    }
  });

  it("keeps waiting while the container is being created", () => {
    const state = podState(
      onNodeA({
        phase: "Pending",
        containerStatuses: [agent({ waiting: { reason: "ContainerCreating" } })],
      }),
    );
    expect(state.kind).toBe("pending");
  });

  it("maps the phases", () => {
    expect(podState(pod({ status: { phase: "Succeeded" } })).kind).toBe("succeeded");
    expect(podState(pod({ status: { phase: "Failed" } })).kind).toBe("failed");
    expect(podState(pod({ status: { phase: "Running" } })).kind).toBe("running");
    expect(podState(pod({})).kind).toBe("pending");
  });
});

describe("explainPod", () => {
  it("reports a full node as the kubelet's OutOfcpu rejection (nodeName skips the scheduler)", () => {
    const why = explainPod(
      onNodeA({
        phase: "Failed",
        reason: "OutOfcpu",
        message:
          "Pod was rejected: Node didn't have enough resource: cpu, requested: 10, used: 3995, capacity: 4000",
      }),
      [],
    );
    expect(why).toBe(
      "kubelet rejected the pod: OutOfcpu (Pod was rejected: Node didn't have enough resource: cpu, requested: 10, used: 3995, capacity: 4000); " +
        "the node has no CPU left for the helper's request: lower --helper-cpu-request or free the node",
    );
  });

  it("reports OutOfmemory with the memory hint", () => {
    expect(
      explainPod(onNodeA({ phase: "Failed", reason: "OutOfmemory", message: "m" }), []),
    ).toMatch(/OutOfmemory .*--helper-memory-request/);
  });

  it("reports an image that cannot be pulled, with the pull error event", () => {
    const why = explainPod(
      onNodeA({
        phase: "Pending",
        conditions: [
          {
            type: "Ready",
            status: "False",
            reason: "ContainersNotReady",
            message: "containers with unready status: [agent]",
          },
        ],
        containerStatuses: [
          agent({
            waiting: { reason: "ImagePullBackOff", message: 'Back-off pulling image "kic:1"' },
          }),
        ],
      }),
      [event("Failed", 'Failed to pull image "kic:1": not found', "2025-01-01T00:00:01Z")],
    );
    expect(why).toBe(
      'container agent cannot start: ImagePullBackOff: Back-off pulling image "kic:1"; events: Failed: Failed to pull image "kic:1": not found',
    );
  });

  // Pending: the kubelet never took the pod up (node down); Running: the agent was still at work.
  it.each([
    [
      "Pending",
      "the pod was still Pending after 10m (--node-timeout): the kubelet on node-a has not taken the pod up (is the node up and Ready?)",
    ],
    ["Running", "the agent was still running after 10m (--node-timeout): phase Running"],
  ])("says what a %s pod was at the timeout", (phase, why) => {
    expect(explainPod(onNodeA({ phase }), [], "10m")).toBe(why);
  });

  it("reports conditions and sandbox events of a pod stuck creating", () => {
    const why = explainPod(
      onNodeA({
        phase: "Pending",
        conditions: [
          { type: "PodReadyToStartContainers", status: "False" },
          { type: "Initialized", status: "True" },
          { type: "Ready", status: "False", reason: "ContainersNotReady" },
        ],
        containerStatuses: [agent({ waiting: { reason: "ContainerCreating" } })],
      }),
      [
        event(
          "FailedCreatePodSandBox",
          "failed to setup network",
          "2025-01-01T00:00:02Z",
          "Warning",
          5,
        ),
      ],
      "2m",
    );
    expect(why).toBe(
      "the pod was still Pending after 2m (--node-timeout): Ready=False ContainersNotReady; events: FailedCreatePodSandBox: failed to setup network (x5)",
    );
  });

  it("reports a container that exited non-zero with its termination message", () => {
    const why = explainPod(
      onNodeA({
        phase: "Failed",
        containerStatuses: [
          agent({ terminated: { exitCode: 137, reason: "OOMKilled", message: "" } }),
        ],
      }),
      [],
    );
    expect(why).toBe("container agent exited 137 (OOMKilled)");
  });

  it("reports a deadline", () => {
    expect(
      explainPod(
        onNodeA({ phase: "Failed", reason: "DeadlineExceeded", containerStatuses: [] }),
        [],
      ),
    ).toBe("the pod ran past its activeDeadlineSeconds (--node-timeout)");
  });
});

describe("latestWarnings", () => {
  it("keeps the newest event per reason, newest last, and skips Normal events", () => {
    expect(
      latestWarnings([
        event("Failed", "old", "2025-01-01T00:00:01Z"),
        event("Pulling", "pulling", "2025-01-01T00:00:02Z", "Normal"),
        event("BackOff", "backoff", "2025-01-01T00:00:03Z"),
        event("Failed", "new", "2025-01-01T00:00:04Z"),
      ]),
    ).toEqual(["BackOff: backoff", "Failed: new"]);
  });
});
