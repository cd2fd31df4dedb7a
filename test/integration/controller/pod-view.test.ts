// The run's shared pod view against the real API server and kubelet (issue 22 item 3, issue 26
// item 4): a pod bound to the node mid-run, whose app container does not exist yet (its init
// container sleeps), is protected through the view's watch; a watch that breaks mid-run, and whose
// resourceVersion is then called expired (410), is re-listed from the real server and the pods it
// missed are still protected; per node the run asks the API server for create, log and delete (+ the Event)
// only.
//
// Ordering without sleeps: the controller talks through a loopback proxy (as api-faults.test.ts)
// that tells the test when the view's list, its watch, a helper pod's create and a resourceVersion
// read went by, so each pod is created at a known step. The run visits a Node with no kubelet
// first (its helper stays Pending until the 10 s node timeout): the real node's turn begins after
// the view's own list, so its pods come from the watch, fresh to a resourceVersion read in its turn.
import type { IncomingMessage } from "node:http";
import type { KubeConfig } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runController } from "../../../src/controller/run.js";
import { rotationStart } from "../../../src/controller/node-order.js";
import { createRunSinks } from "../../../src/report/sinks/index.js";
import { kubectl } from "../../support/cluster.js";
import {
  collectingReporter,
  controllerOnCluster,
  kubeFor,
  nodeImageNames,
  silent,
  testRunConfig,
  WORKLOAD_READS,
} from "../../support/controller-on-cluster.js";
import { passOn, startApiProxy, throughProxy, type ApiProxy } from "../../support/api-proxy.js";

const fixture = controllerOnCluster("view", {
  accounts: { kic: { allowPodDeletion: true, events: true } },
});
const { tok, ns, repo, ref, never } = fixture;
const ghost = `kic-ghost-view-${tok}`;
const sa = (): KubeConfig => fixture.account("kic");

type Step = "view-list" | "view-watch" | "helper-create" | "version-read";

/**
 * The loopback proxy in front of the real API server. `on(step)` runs (and is awaited) after the
 * server answered that request and before the answer is passed on; `breakViewWatch` ends the view's
 * first watch once it opened (no event, no clean end) and answers its next one as the server does a
 * watch from an expired version: 410 Gone ("too old resource version").
 */
async function startProxy(hooks: {
  on?: (step: Step, n: number) => Promise<void>;
  breakViewWatch?: boolean;
}): Promise<ApiProxy & { seen: Record<Step, number> }> {
  const seen: Record<Step, number> = {
    "view-list": 0,
    "view-watch": 0,
    "helper-create": 0,
    "version-read": 0,
  };
  const stepOf = (req: IncomingMessage): Step | undefined => {
    const url = new URL(req.url ?? "/", "http://x");
    if (req.method === "POST" && /^\/api\/v1\/namespaces\/[^/]+\/pods$/.test(url.pathname))
      return "helper-create";
    if (req.method !== "GET" || url.pathname !== "/api/v1/pods") return undefined;
    if (url.searchParams.get("watch") === "true") return "view-watch";
    if (url.searchParams.get("limit") === "1" && !url.searchParams.has("fieldSelector"))
      return "version-read";
    if (url.searchParams.get("fieldSelector")?.startsWith("spec.nodeName!=") === true)
      return "view-list";
    return undefined;
  };
  const proxy = await startApiProxy((req, res, forward) => {
    const step = stepOf(req);
    const n = step === undefined ? 0 : ++seen[step];
    const path = req.url ?? "/";
    const breaking = hooks.breakViewWatch === true && step === "view-watch" && n === 1;
    if (hooks.breakViewWatch === true && step === "view-watch" && n === 2) {
      // The answer the API server gives a watch from a version its watch cache has dropped (after
      // minutes of traffic, so not reproducible on demand on a young cluster): a 200 stream with one
      // ERROR event, Status 410 Expired, then the end.
      const since = new URL(path, "http://x").searchParams.get("resourceVersion") ?? "";
      res.writeHead(200, { "content-type": "application/json" });
      res.end(
        JSON.stringify({
          type: "ERROR",
          object: {
            kind: "Status",
            apiVersion: "v1",
            metadata: {},
            status: "Failure",
            message: `too old resource version: ${since} (${since}0)`,
            reason: "Expired",
            code: 410,
          },
        }) + "\n",
      );
      req.resume();
      return;
    }
    forward((answer) => {
      if (step === "view-watch" || step === undefined || hooks.on === undefined) {
        if (breaking) {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          res.flushHeaders();
          // The watch opens, passes on no event, and its connection dies: no clean end.
          setTimeout(() => {
            answer.destroy();
            req.socket.destroy();
          }, 300);
          return;
        }
        passOn(res, answer);
        if (step === "view-watch") void hooks.on?.(step, n);
        return;
      }
      // Hold the answer until the test did what this step is for.
      const chunks: Buffer[] = [];
      answer.on("data", (c: Buffer) => chunks.push(c));
      answer.on("end", () => {
        void (hooks.on?.(step, n) ?? Promise.resolve()).then(
          () => {
            res.writeHead(answer.statusCode ?? 502, answer.headers);
            res.end(Buffer.concat(chunks));
          },
          () => req.socket.destroy(),
        );
      });
    });
  });
  return { url: proxy.url, close: () => proxy.close(), seen };
}

/**
 * A run through `proxy` as the service account, one node at a time: the ghost node (no kubelet,
 * 10 s timeout) first, then the real node; `include` the run's one pattern.
 */
async function runGhostFirst(proxy: ApiProxy, runName: string, include: string) {
  const { nodes, reporter } = collectingReporter();
  const config = testRunConfig(ns, runName, {
    include: [include],
    nodes: [ghost, fixture.nodeName],
    concurrency: 1,
    "node-timeout": "10s",
    "skip-not-ready": false,
  });
  const { summary } = await runController(config, {
    kube: kubeFor(
      throughProxy(proxy.url, sa().getCurrentUser()?.token, ns),
      "service account kic via proxy",
    ),
    log: silent,
    report: reporter,
    signal: never(),
    now: ghostFirst(),
    podView: { freshWaitMs: 30_000 },
  });
  return { nodes, summary };
}

const apply = (obj: unknown) => kubectl(["apply", "-f", "-"], { input: JSON.stringify(obj) });

/** A pod bound to the real node whose app container is not created while its init container sleeps. */
const initPod = (name: string, init: string, app: string) =>
  fixture.pod(name, {
    initContainers: [{ name: "wait", image: init, imagePullPolicy: "Never" }],
    containers: [{ name: "app", image: app, imagePullPolicy: "Never" }],
  });

/** A pod that never starts (a missing ConfigMap): no container exists. On the real node by default. */
const stuckPod = (name: string, image: string, node = fixture.nodeName) =>
  fixture.pod(name, {
    nodeName: node,
    containers: [
      {
        name: "c",
        image,
        imagePullPolicy: "Never",
        volumeMounts: [{ name: "cfg", mountPath: "/cfg" }],
      },
    ],
    volumes: [{ name: "cfg", configMap: { name: `missing-${tok}` } }],
  });

/** A start time whose rotation puts the Node without kubelet first (it sorts before kic-node). */
function ghostFirst(): () => number {
  let offset = 0;
  while (rotationStart(2, Date.now() + offset) !== 0) offset += 60_000;
  return () => Date.now() + offset;
}

function keptReasons(
  result: { kept: { names: string[]; reason: string; detail?: string }[] } | undefined,
) {
  const out: Record<string, string> = {};
  for (const k of result?.kept ?? []) {
    const name = k.names.find((n) => n.startsWith(repo));
    if (name !== undefined)
      out[name] = `${k.reason}${k.detail === undefined ? "" : `: ${k.detail}`}`;
  }
  return out;
}

describe("the run's shared pod view (real API server and kubelet)", () => {
  beforeAll(async () => {
    await apply({
      apiVersion: "v1",
      kind: "Node",
      metadata: { name: ghost, labels: { "kubernetes.io/os": "linux" } },
    });
  });

  afterAll(async () => {
    await kubectl([
      "delete",
      "pods",
      "-n",
      ns,
      "--all",
      "--force",
      "--grace-period=0",
      "--ignore-not-found",
    ]);
    await kubectl(["delete", "node", ghost, "--ignore-not-found"]);
  });

  it("protects the image of a pod bound to the node mid-run whose app container does not exist yet (init container running)", async () => {
    fixture.images([ref("init:v1"), ref("late:v1"), ref("free:v1")]);
    let created = false;
    const proxy = await startProxy({
      on: async (step) => {
        // While the first node (no kubelet) waits out its timeout, after the view listed: a pod
        // bound to the real node, known to the run only through the watch.
        if (step === "helper-create" && !created) {
          created = true;
          await apply(initPod("late", ref("init:v1"), ref("late:v1")));
          await kubectl([
            "wait",
            "-n",
            ns,
            "pod/late",
            "--for=jsonpath={.status.initContainerStatuses[0].state.running}",
            "--timeout=60s",
          ]);
        }
        // The real node's version read: a pod event after it (on the other node), so the watch of
        // a quiet cluster reaches that version without waiting for a bookmark.
        if (step === "version-read")
          await apply(stuckPod(`tick-a${String(proxy.seen["version-read"])}`, "tick:v1", ghost));
      },
    });
    try {
      const { nodes, summary } = await runGhostFirst(proxy, `late-${tok}`, ref("*"));
      expect(summary.nodes.map((n) => n.node)).toEqual([ghost, fixture.nodeName]);
      const real = nodes.find((n) => n.node === fixture.nodeName);
      expect(real?.status, real?.reason).toBe("ok");
      const app = await kubectl(["get", "pod", "late", "-n", ns, "-o", "json"]);
      // Still true when the agent ran: the app container had not been created.
      expect(
        (JSON.parse(app) as { status: { containerStatuses?: { state?: object }[] } }).status
          .containerStatuses?.[0]?.state,
      ).toMatchObject({ waiting: {} });
      const reasons = keptReasons(real?.result);
      expect(reasons[ref("late:v1")]).toMatch(
        /^protected: needed by pod kic-view-\w+\/late \(Pending\)/,
      );
      expect(reasons[ref("init:v1")]).toMatch(/^in-use/);
      const onNode = nodeImageNames();
      expect(onNode).toContain(ref("late:v1"));
      // The same run deleted what no pod needs: the protection above is not a run that deleted nothing.
      expect(onNode).not.toContain(ref("free:v1"));
      expect(real?.result?.deleted.flatMap((d) => d.names)).toEqual([ref("free:v1")]);
      // The real node's pods came from the view (no per-node list), fresh to a read in its turn.
      expect(summary.requests.podView).toMatchObject({ fromView: 2, nodeLists: 0, fenceReads: 1 });
    } finally {
      await proxy.close();
    }
  }, 180_000);

  it("re-lists after its watch broke mid-run and its resourceVersion was called expired (410), and protects the pod it missed", async () => {
    fixture.images([ref("relisted:v1")]);
    let madeMissed = false;
    const proxy = await startProxy({
      breakViewWatch: true,
      on: async (step, n) => {
        // After the view listed, before its watch comes back: only a re-list can see this pod.
        if (step === "view-list" && n === 1 && !madeMissed) {
          madeMissed = true;
          await apply(stuckPod("missed", ref("relisted:v1")));
        }
        if (step === "version-read") await apply(stuckPod(`tick-b${String(n)}`, "tick:v1", ghost));
      },
    });
    try {
      const { nodes, summary } = await runGhostFirst(proxy, `relist-${tok}`, ref("relisted:*"));
      const real = nodes.find((n) => n.node === fixture.nodeName);
      expect(real?.status, real?.reason).toBe("ok");
      const reasons = keptReasons(real?.result);
      expect(Object.keys(reasons)).toEqual([ref("relisted:v1")]);
      expect(reasons[ref("relisted:v1")]).toMatch(/^protected: needed by pod kic-view-\w+\/missed/);
      expect(nodeImageNames()).toContain(ref("relisted:v1"));
      // Broken, re-watched from its version, which the server had dropped: one re-list.
      expect(proxy.seen["view-list"]).toBe(2);
      expect(proxy.seen["view-watch"]).toBeGreaterThanOrEqual(3);
      expect(summary.requests.podView).toMatchObject({ relists: 1, nodeLists: 0 });
      expect(summary.requests.podView?.rewatches).toBeGreaterThanOrEqual(1);
    } finally {
      await proxy.close();
    }
  }, 180_000);

  it("asks per node only create, log and delete, plus the node's Event; everything else is the run's own", async () => {
    fixture.images([ref("once:v1")]);
    const config = testRunConfig(ns, `count-${tok}`, {
      include: [ref("once:*")],
      nodes: [fixture.nodeName],
    });
    const kube = kubeFor(sa(), "service account kic");
    const { nodes, reporter } = collectingReporter();
    const { summary } = await runController(config, {
      kube,
      log: silent,
      report: reporter,
      sinks: createRunSinks(config.audit, kube),
      signal: never(),
    });
    expect(nodes[0]?.status, nodes[0]?.reason).toBe("ok");
    expect(nodes[0]?.result?.deleted.map((d) => d.names)).toEqual([[ref("once:v1")]]);
    expect(summary.requests.byCall).toEqual({
      // per node
      createNamespacedPod: 1,
      readNamespacedPodLog: 1,
      deleteNamespacedPod: 1,
      createNamespacedEvent: 1,
      // the run's: sweep list, helper watch list + watch, node list, pod view list + watch
      listNamespacedPod: 2,
      watch: 2,
      listNode: 1,
      listPodForAllNamespaces: 1,
      ...WORKLOAD_READS,
    });
    expect(summary.requests.podView).toEqual({
      listPages: 1,
      relists: 0,
      rewatches: 0,
      fenceReads: 0,
      fromView: 1,
      nodeLists: 0,
    });
  }, 120_000);
});
