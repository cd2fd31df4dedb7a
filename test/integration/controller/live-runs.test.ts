// Runs that overlap, runs cut short and big node lists, against the real API server and kubelet:
// a manual run during a scheduled one (issue 10 item 4), the nodes a run did not reach (item 7),
// and the node list in pages (item 5).
import { describe, expect, it } from "vitest";
import { instanceLabels, RUN_ID_LABEL, runSelector } from "../../../src/run-model/labels.js";
import { listNodeFacts } from "../../../src/controller/node-list.js";
import { rotateNodes } from "../../../src/controller/node-order.js";
import type { Kube } from "../../../src/kube/api.js";
import { ensureCluster, kubectl } from "../../support/cluster.js";
import {
  collectingReporter,
  eventually,
  kubeFor,
  podsWith,
  testRunConfig,
  controllerOnCluster,
  removeGhostNode,
} from "../../support/controller-on-cluster.js";

const fixture = controllerOnCluster("live", { accounts: { kic: { allowPodDeletion: true } } });
const { tok, ns } = fixture;

const apply = (obj: unknown) => kubectl(["apply", "-f", "-"], { input: JSON.stringify(obj) });

function standIn(name: string, finished: boolean) {
  const c = ensureCluster();
  return apply(
    fixture.pod(name, {
      containers: [
        finished
          ? // A controller pod whose run is over: the project's image, `--version`, exit 0.
            { name: "c", image: c.image, imagePullPolicy: "Never", args: ["--version"] }
          : { name: "c", image: "registry.k8s.io/pause:kic", imagePullPolicy: "Never" },
      ],
    }),
  );
}

async function uidOf(pod: string): Promise<string> {
  return kubectl(["get", "pod", "-n", ns, pod, "-o", "jsonpath={.metadata.uid}"]);
}

async function phaseOf(pod: string): Promise<string> {
  return kubectl(["get", "pod", "-n", ns, pod, "-o", "jsonpath={.status.phase}"]);
}

/** The same clients, whose pod log reads wait for `gate`: holds a run between its agent and its end. */
function gateLogReads(kube: Kube, gate: Promise<void>): Kube {
  return {
    ...kube,
    core: {
      ...kube.core,
      readNamespacedPodLog: async (param) => {
        await gate;
        return kube.core.readNamespacedPodLog(param);
      },
    },
    withInterrupt: (signal) => gateLogReads(kube.withInterrupt(signal), gate),
  };
}

describe("runs that overlap, are cut short, or list many nodes (real API server and kubelet)", () => {
  it("two runs of one release at once leave each other's helper pods alone and both finish ok; leftovers of finished runs are still swept", async () => {
    const instance = `live-${tok}`;
    await standIn("controller-a", false);
    await standIn("controller-b", false);
    await standIn("controller-done", true);
    await eventually(
      async () => ((await phaseOf("controller-done")) === "Succeeded" ? true : undefined),
      "the finished controller stand-in to succeed",
    );
    const owner = async (name: string) => ({ name, uid: await uidOf(name), namespace: ns });
    const leftover = (name: string, runId: string, ownerRef?: { name: string; uid: string }) =>
      apply({
        apiVersion: "v1",
        kind: "Pod",
        metadata: {
          name,
          namespace: ns,
          labels: { ...instanceLabels(instance), [RUN_ID_LABEL]: runId },
          ...(ownerRef
            ? { ownerReferences: [{ apiVersion: "v1", kind: "Pod", ...ownerRef }] }
            : {}),
        },
        spec: {
          nodeName: fixture.nodeName,
          restartPolicy: "Never",
          activeDeadlineSeconds: 90,
          terminationGracePeriodSeconds: 0,
          containers: [{ name: "c", image: "registry.k8s.io/pause:kic", imagePullPolicy: "Never" }],
        },
      });
    const args = {
      include: ["demo.local/nothing-matches:*"],
      nodes: [fixture.nodeName],
      "dry-run": true,
    };
    // Run A (the scheduled run): held after its agent finished, before it reads the log.
    let release = () => {};
    const gate = new Promise<void>((r) => (release = r));
    const runA = `it-${tok}-a`;
    const a = fixture.run(
      gateLogReads(kubeFor(fixture.account("kic"), "sa"), gate),
      { ...testRunConfig(ns, instance, args), owner: await owner("controller-a") },
      { report: collectingReporter().reporter, runId: runA },
    );
    const podA = await eventually(async () => {
      const [p] = await podsWith(ns, runSelector(instance, runA));
      return p !== undefined && (await phaseOf(p.metadata.name)) === "Succeeded"
        ? p.metadata.name
        : undefined;
    }, "run A's helper pod to finish");

    // Planted after A's own sweep: a run that is over (its controller pod finished) left a helper
    // pod; a run from outside the cluster (no owner) has one that is younger than its deadline.
    const done = await owner("controller-done");
    await leftover("leftover-finished-run", "20260101t000000-dead", {
      name: done.name,
      uid: done.uid,
    });
    await leftover("leftover-no-owner", "20260101t000000-cli0");

    // Run B (`kubectl create job --from=cronjob/...`) starts while A is still running.
    const b = collectingReporter();
    const { summary: sb } = await fixture.run(
      "kic",
      { ...testRunConfig(ns, instance, args), owner: await owner("controller-b") },
      { report: b.reporter },
    );
    expect(sb.nodes[0]?.status, sb.nodes[0]?.reason).toBe("ok");
    expect(b.lines).toContain("  swept:       1 helper pod left by earlier runs deleted");
    expect(b.lines).toContain(
      "  in progress: 2 helper pods of other runs of this release still running (left alone)",
    );
    const [stillA] = await podsWith(ns, runSelector(instance, runA));
    expect(stillA?.metadata.name).toBe(podA);
    expect(stillA?.metadata.deletionTimestamp).toBeUndefined();

    release();
    const { summary: sa } = await a;
    expect(sa.nodes[0]?.status, sa.nodes[0]?.reason).toBe("ok");
    expect(sa.nodes[0]?.totals).toBeDefined();

    const names = async () =>
      (await podsWith(ns, `app.kubernetes.io/instance=${instance}`))
        .filter((p) => p.metadata.deletionTimestamp === undefined)
        .map((p) => p.metadata.name);
    expect(await names()).toEqual(["leftover-no-owner"]);

    // A run a quarter of an hour later: the ownerless pod is past its deadline and goes too.
    const later = Date.now() + 15 * 60_000;
    const t0 = Date.now();
    const c = collectingReporter();
    await fixture.run("kic", testRunConfig(ns, instance, args), {
      report: c.reporter,
      now: () => later + (Date.now() - t0),
    });
    expect(c.lines).toContain("  swept:       1 helper pod left by earlier runs deleted");
    await eventually(
      async () => ((await names()).length === 0 ? true : undefined),
      "the ownerless leftover to be swept",
    );
  });

  it("names the nodes a run cut short did not reach, in the rotated order it would have visited them", async () => {
    // Node objects no kubelet serves: helper pods on them stay Pending, so the run is still on its
    // first node when it is interrupted (as by the Job's activeDeadlineSeconds).
    const ghosts = ["a", "b", "c", "d"].map((s) => `kic-ghost-${tok}-${s}`);
    for (const name of ghosts)
      await apply({
        apiVersion: "v1",
        kind: "Node",
        metadata: { name, labels: { "kubernetes.io/os": "linux", "kic-live": tok } },
      });
    try {
      const base = Date.parse("2026-03-01T03:00:00Z");
      const t0 = Date.now();
      const order = rotateNodes(ghosts, base);
      const stop = new AbortController();
      const instance = `cut-${tok}`;
      const { lines, reporter } = collectingReporter();
      const run = fixture.run(
        "kic",
        testRunConfig(ns, instance, {
          include: ["demo.local/nothing-matches:*"],
          "node-selector": `kic-live=${tok}`,
          "skip-not-ready": false,
          "node-timeout": "60s",
          // One node at a time, so three are still waiting when the run is stopped.
          concurrency: 1,
        }),
        { report: reporter, signal: stop.signal, now: () => base + (Date.now() - t0) },
      );
      await eventually(
        async () =>
          (await podsWith(ns, `app.kubernetes.io/instance=${instance}`)).length > 0
            ? true
            : undefined,
        "the first helper pod",
      );
      stop.abort("SIGTERM");
      const { summary } = await run;
      expect(summary.nodes.map((n) => [n.node, n.status])).toEqual([[order[0], "interrupted"]]);
      expect(summary.notStarted).toEqual(order.slice(1));
      expect(lines).toContain(
        `  order:       by name from ${order[0] ?? ""}, then around (rotated by the run's start time)`,
      );
      const at = lines.indexOf(
        "3 nodes not reached by this run (the next run starts at another node):",
      );
      expect(at).toBeGreaterThan(0);
      expect(lines.slice(at + 1, at + 4)).toEqual(order.slice(1).map((n) => `  ${n}`));
    } finally {
      for (const name of ghosts) await removeGhostNode(ns, name);
    }
  });

  it("lists nodes page by page, cut down to what selection reads, and keeps every one", async () => {
    const kube = kubeFor(fixture.account("kic"), "sa");
    const names = (await kubectl(["get", "nodes", "-o", "jsonpath={.items[*].metadata.name}"]))
      .split(" ")
      .filter(Boolean)
      .sort();
    const listing = await listNodeFacts(kube, "", 1);
    expect(listing.nodes.map((n) => n.name).sort()).toEqual(names);
    expect(listing.pages).toBeGreaterThanOrEqual(names.length);
    // What selection reads survives the cut-down pages (the real node is Ready, Linux).
    expect(listing.nodes.find((n) => n.name === fixture.nodeName)).toEqual({
      name: fixture.nodeName,
      windows: false,
      deleting: false,
      ready: true,
      notReady: "",
      unschedulable: false,
    });
    expect(kube.requests.byCall.listNode).toBe(listing.pages);
  });
});
