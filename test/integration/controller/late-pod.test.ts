// A pod bound to the node after the controller read the node's protect list (issue 26 item 4), on
// the real cluster: the kubelet creates its sandbox and runs its init container while the agent is
// held between removal batches, so the pod's app image is neither protected nor used by any
// container. The agent must delete nothing more once it sees that pod's sandbox, and the run log
// must say so; an image the batch in flight took that the pod needs must be said too.
import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { kubectl } from "../../support/cluster.js";
import {
  collectingReporter,
  controllerOnCluster,
  eventually,
  nodeImageNames,
  testRunConfig,
} from "../../support/controller-on-cluster.js";
import { argvOf, holdRemoval, releaseHeld } from "../../support/held-removal.js";

const f = controllerOnCluster("late-pod", { accounts: { kic: { allowPodDeletion: true } } });

/** Candidates for three removal batches (25 each), so the agent is between batches at least twice. */
const COUNT = 60;

interface PodStatus {
  status?: { initContainerStatuses?: { state?: { running?: unknown } }[] };
}

describe("a pod bound to the node while the agent deletes", () => {
  it("stops the agent's removals once the pod's sandbox runs, and the run log names the pod and what it lost", async () => {
    const tok = randomBytes(2).toString("hex");
    const bulk = f.images(Array.from({ length: COUNT }, (_, i) => f.ref(`bulk:v${String(i)}`)));
    // The init container's image matches no --include: the init container sleeps, so the app
    // containers are not created and nothing uses their images.
    const [init] = f.images([f.ref("init:v1")]);
    if (init === undefined) throw new Error("no init image");
    const { lines, nodes, reporter } = collectingReporter();
    const running = f.run(
      "kic",
      testRunConfig(f.ns, `late-${tok}`, {
        include: [f.ref("bulk:*")],
        nodes: [f.nodeName],
        // ctr: a client held by SIGSTOP goes on when let go (crictl's call timeouts would fail it).
        client: "ctr",
        "node-timeout": "3m",
      }),
      { report: reporter, runId: `late-${tok}` },
    );
    // Held inside the first removal call: its images are in the held process's argv.
    const held = await holdRemoval(bulk);
    const inCall = new Set(held.flatMap((pid) => argvOf(pid)));
    const first = bulk.filter((i) => inCall.has(i.name));
    const later = bulk.filter((i) => !inCall.has(i.name));
    const inFlight = first[0];
    const next = later[0];
    if (inFlight === undefined || next === undefined)
      throw new Error(`held call names ${String(first.length)} of ${String(COUNT)} images`);

    // Bound now, after the helper pod was created: not in the agent's protect list.
    const late = "late";
    await kubectl(["apply", "-f", "-"], {
      input: JSON.stringify({
        apiVersion: "v1",
        kind: "Pod",
        metadata: { name: late, namespace: f.ns },
        spec: {
          nodeName: f.nodeName,
          restartPolicy: "Never",
          terminationGracePeriodSeconds: 0,
          initContainers: [{ name: "wait", image: init.name, imagePullPolicy: "Never" }],
          containers: [
            { name: "a", image: inFlight.name, imagePullPolicy: "Never" },
            { name: "b", image: next.name, imagePullPolicy: "Never" },
          ],
        },
      }),
    });
    // Its sandbox runs and its init container sleeps: what the kubelet does before it looks at the
    // app containers' images at all.
    await eventually(async () => {
      const p = JSON.parse(
        await kubectl(["get", "pod", "-n", f.ns, late, "-o", "json"]),
      ) as PodStatus;
      return p.status?.initContainerStatuses?.[0]?.state?.running === undefined ? undefined : true;
    }, "the late pod's init container to run");
    releaseHeld(held);
    await running;

    const node = nodes[0];
    const log = lines.join("\n").slice(-5000);
    const onNode = new Set(nodeImageNames());
    // The images after the held batch are all still there: the agent stopped at its next re-check.
    for (const i of later) expect(onNode.has(i.name), `${i.name}\n${log}`).toBe(true);
    expect(node?.status, log).toBe("ok");
    expect(node?.result?.stopped).toBe("pod-arrived");
    expect(node?.result?.arrivedPods).toEqual([`${f.ns}/${late}`]);
    const kept = node?.result?.kept.find((k) => k.names.includes(next.name));
    expect(kept?.reason).toBe("not-attempted");
    expect(kept?.detail).toContain(
      `pod ${f.ns}/${late} was bound to the node after the protect list was read`,
    );
    expect(lines).toContain(
      `    note: pod ${f.ns}/${late} bound to the node after its protect list was read: deleted nothing more, ${String(later.length)} planned images left for the next run`,
    );
    // The held batch went on: its images are gone, the one the late pod needs with them, and the
    // node's section says so.
    for (const i of first) expect(onNode.has(i.name), i.name).toBe(false);
    expect(node?.result?.deleted.map((d) => d.names[0]).sort()).toEqual(
      first.map((i) => i.name).sort(),
    );
    expect(log).toContain(
      `    note: deleted an image that a pod bound to the node after its protect list was read needs: ${inFlight.name} (pod ${f.ns}/${late}); the kubelet will pull it again`,
    );
    await kubectl(["delete", "pod", "-n", f.ns, late, "--wait=false"]);
  });
});
