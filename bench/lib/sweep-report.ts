// The sweep's report: how each figure is measured (the method, written first), and at the end the
// medians per (N, concurrency), growth with N, the targets of issues 6 and 10, and the tables, to
// bench/results (bench/lib/output.ts).
import type { cannedAgentLog } from "./canned-log.js";
import { startReport, table, writeReport, type BenchReport } from "./output.js";
import { fitLine, growthExponent, median, round } from "./stats.js";
import {
  AGENT_MS,
  CONCURRENCY,
  IMAGES,
  KEPT,
  NODE_OPTIONS,
  CHART_NODE_OPTIONS,
  NODES,
  PODS_PER_NODE,
  REALISTIC,
  REPS,
  SCENARIO,
  SLOW_REPS,
  WORKLOAD_IMAGES,
  WORKLOADS,
} from "./sweep-config.js";
import { LOAD_NS } from "./sweep-cluster.js";
import type { SweepRun } from "./sweep-run.js";

type CannedLog = ReturnType<typeof cannedAgentLog>;

const TARGET = {
  nodes: 1000,
  concurrency: 50,
  wallS: 60,
  requestsPerNode: 6,
  rssMB: 150,
  /** Issue 10: calls made for each node (pods list, create, log, delete; more only on trouble). */
  nodeCallsPerNode: 4,
};

export function startSweepReport(): BenchReport {
  return startReport(SCENARIO === "" ? "sweep" : `sweep-${SCENARIO}`, {
    cluster:
      "the local cluster (test/cluster/up.sh): real etcd + kube-apiserver v1.34 + controller-manager; the real kubelet node kic-node stays beside the fake ones",
    nodes:
      "kwok v0.7.0 (test/cluster/kwok.sh) manages nodes annotated kwok.x-k8s.io/node=fake, labelled kube-image-cleanup.io/bench=fake (the run's --node-selector); leases renewed every 40 s",
    nodeObjects: REALISTIC
      ? "realistic (KIC_KWOK_REALISTIC=1): 50 status.images entries (digest + tag), 22 cloud-provider labels, CSI/provider annotations, managedFields of kubelet, kube-controller-manager, kubectl and kwok; sizes measured per N in nodeObjectBytes"
      : "minimal: 3 labels, 2 annotations, kwok's status",
    helperPods: `kwok stages (test/cluster/kwok/stages.yaml): helper pods Pending -> Running after ${AGENT_MS} ms (the agent's time: the controller settles on the canned result as soon as it follows a running agent's log), then Succeeded, deleted pods removed; kubectl logs served by kwok ClusterLogs from one canned file through the API server`,
    agentLog: `the real agent's JSON reporter over a synthetic ${IMAGES}-image node (bench/lib/canned-log.ts), in CRI log format with 16 KiB partial lines; kept images listed: ${KEPT === "all" ? "all (as agents before eee09ae did)" : "only those an --include matched, as the agent does (no-match ones counted, not listed)"}`,
    pods: `${PODS_PER_NODE} ordinary pods per fake node (namespace ${LOAD_NS}), so each node's pod list and --protect are not empty`,
    workloads:
      WORKLOADS > 0
        ? `${WORKLOADS} workloads in ${LOAD_NS} for workload protection (on, the default): three quarters suspended CronJobs, a quarter Deployments at 0 replicas with their ReplicaSets, naming ${WORKLOAD_IMAGES} distinct images; read once per run in pages of 500 (their calls count as the run's own)`
        : "none created (workload protection on, the default: six empty-ish lists per run)",
    controller:
      "node --import bench/lib/rss-probe.mjs bench/results/dist/cli.js run --output json, own user kic-bench-controller with the chart's RBAC rules (not system:masters); the chart's default sinks: an Event per node in namespace default and the run report ConfigMap kic-bench-report",
    nodeOptions:
      NODE_OPTIONS.length > 0
        ? `${NODE_OPTIONS.join(" ")}${NODE_OPTIONS.join(" ") === CHART_NODE_OPTIONS ? " (the chart's controller.nodeOptions)" : ""}`
        : "none (V8 sizes its heap for this 24 GiB machine; under a container memory limit it collects earlier)",
    wall: "spawn to exit of the controller process (includes Node.js start-up and client set-up)",
    requests:
      "the controller's own counter (summary.requests, per node = total / nodes); cross-checked server side, diffed around each run: apiserver_flowcontrol_dispatched_requests_total for the FlowSchema kic-bench-controller (its user only; every request but pods/log, which is long-running and bypasses APF) plus apiserver_request_total for pods/log (all users)",
    rss: "getrusage ru_maxrss of the controller process at exit (rss-probe preload)",
    clusterCpu:
      "utime+stime of kube-apiserver, etcd, kwok, controller-manager from /proc, diffed around each run: where the 2 cores went; the machine's busy CPU (/proc/stat, all but idle and iowait) diffed the same way, so others' work meanwhile is known; the 1-minute load average just before and after each run",
    repetitions: `${REPS} per (N, concurrency), interleaved; ${SLOW_REPS} for concurrency 1 at N >= 1000; medians`,
  });
}

/** Figures from the runs so far: written before the cleanup, so a cluster taken down under the
 * benchmark (another suite's cluster:down) still leaves the results it got. */
export function writeSweepReport(
  report: BenchReport,
  runs: readonly SweepRun[],
  cannedLog: CannedLog,
  nodeBytes: Readonly<Record<number, number[]>>,
): void {
  interface Cell {
    nodes: number;
    concurrency: number;
    runs: number;
    wallS: number;
    controllerS: number;
    nodesPerS: number;
    requestsPerNode: number;
    serverRequestsPerNode: number;
    peakRssMiB: number;
    /** Largest V8 heap, and largest in use right after a full collection (MiB), when recorded. */
    heapMiB: string;
    controllerCpuS: number;
    apiserverCpuS: number;
    etcdCpuS: number;
    kwokCpuS: number;
    controllerManagerCpuS: number;
    othersCpuS: number;
    machineBusyS: number;
    cpuCeilingS: number;
    load1m: string;
    allOk: boolean;
    /** Nodes not visited because not Ready when listed (median), with the first reasons. */
    skipped: number;
    skippedWhy: string;
    ratioVsC1: number | undefined;
    nodeCallsPerNode: number;
    runCalls: number;
    eventCallsPerNode: number;
    nodeListPages: number;
    nodeObjectBytes: number[] | undefined;
  }
  const cells: Cell[] = [];
  for (const n of NODES) {
    for (const c of CONCURRENCY) {
      const group = runs.filter((r) => r.nodes === n && r.concurrency === c);
      if (group.length === 0) continue;
      const med = (f: (r: SweepRun) => number | undefined, digits = 2) =>
        round(median(group.map(f).filter((x): x is number => x !== undefined)), digits);
      const wallS = med((r) => r.wallS);
      cells.push({
        nodes: n,
        concurrency: c,
        runs: group.length,
        wallS,
        controllerS: med((r) => r.controllerS),
        nodesPerS: round(n / wallS, 1),
        requestsPerNode: med((r) => r.requestsPerNode),
        serverRequestsPerNode: med((r) => r.serverRequestsPerNode),
        peakRssMiB: med((r) => r.peakRssMiB, 1),
        heapMiB: group.some((r) => r.heapTotalMiB !== undefined)
          ? `${med((r) => r.heapTotalMiB, 1)} (${med((r) => r.liveAfterMajorGcMiB, 1)})`
          : "-",
        controllerCpuS: med((r) => r.controllerCpuS),
        apiserverCpuS: med((r) => r.clusterCpuS["kube-apiserver"], 1),
        etcdCpuS: med((r) => r.clusterCpuS.etcd, 1),
        kwokCpuS: med((r) => r.clusterCpuS.kwok, 1),
        controllerManagerCpuS: med((r) => r.clusterCpuS["kube-controller-manager"], 1),
        othersCpuS: med((r) => r.othersCpuS, 1),
        machineBusyS: med((r) => r.machineBusyS, 1),
        cpuCeilingS: med((r) => r.cpuCeilingS, 1),
        load1m: group.map((r) => `${r.load1mStart}-${r.load1mEnd}`).join(", "),
        allOk: group.every((r) => r.failed === 0 && r.ok === n && r.exitCode === 0),
        skipped: med((r) => r.skipped, 0),
        skippedWhy: [...new Set(group.flatMap((r) => r.skippedWhy))].slice(0, 3).join("; "),
        ratioVsC1: undefined,
        nodeCallsPerNode: med((r) => r.nodeCallsPerNode),
        runCalls: med((r) => r.runCalls, 0),
        eventCallsPerNode: med((r) => r.eventCallsPerNode),
        nodeListPages: med((r) => r.nodeListPages, 0),
        nodeObjectBytes: nodeBytes[n],
      });
    }
  }
  for (const cell of cells) {
    const base = cells.find((b) => b.nodes === cell.nodes && b.concurrency === 1);
    if (base && cell.concurrency !== 1) cell.ratioVsC1 = round(base.wallS / cell.wallS, 1);
  }
  const growth = CONCURRENCY.map((c) => {
    const points = cells
      .filter((x) => x.concurrency === c)
      .map((x) => ({ x: x.nodes, y: x.wallS }));
    const line = fitLine(points);
    const at = (n: number) => cells.find((x) => x.concurrency === c && x.nodes === n);
    const hi = at(Math.max(...NODES));
    const mid = at(NODES.length > 1 ? (NODES[NODES.length - 2] ?? 0) : 0);
    return {
      concurrency: c,
      secondsPer1000Nodes: round(line.slope * 1000, 1),
      interceptS: round(line.intercept, 1),
      r2: round(line.r2, 4),
      exponent: round(growthExponent(points), 2),
      /** Time per node at the largest N over the next largest: 1 = linear, > 1 = super-linear. */
      perNodeTimeRatio:
        hi && mid ? round(hi.wallS / hi.nodes / (mid.wallS / mid.nodes), 2) : undefined,
    };
  });
  report.config = {
    realistic: REALISTIC,
    nodes: NODES,
    concurrency: CONCURRENCY,
    reps: REPS,
    slowReps: SLOW_REPS,
    imagesPerNode: IMAGES,
    podsPerNode: PODS_PER_NODE,
    agentMs: AGENT_MS,
    kept: KEPT,
    nodeOptions: NODE_OPTIONS,
  };
  report.cannedLog = {
    images: cannedLog.images,
    deleted: cannedLog.deleted,
    kept: cannedLog.kept,
    logBytes: cannedLog.bytes,
    resultBytes: cannedLog.resultBytes,
  };
  report.runs = runs;
  report.cells = cells;
  report.growth = growth;

  const goal = cells.find((x) => x.nodes === TARGET.nodes && x.concurrency === TARGET.concurrency);
  const maxReq = Math.max(...cells.map((x) => x.requestsPerNode));
  const maxRss = Math.max(...cells.map((x) => x.peakRssMiB));
  const goalGrowth = growth.find((g) => g.concurrency === TARGET.concurrency);
  const mb = (mib: number) => round((mib * 1024 * 1024) / 1e6, 0);
  report.targets.push(
    {
      name: `${TARGET.nodes} nodes at concurrency ${TARGET.concurrency}: wall time`,
      target: `<= ${TARGET.wallS} s`,
      measured: goal ? `${goal.wallS} s${goal.allOk ? "" : " (NOT all nodes ok)"}` : "not measured",
      met: goal ? goal.wallS <= TARGET.wallS && goal.allOk : null,
    },
    {
      name: "API requests per node (controller's counter, worst cell)",
      target: `<= ${TARGET.requestsPerNode}`,
      measured: `${maxReq} (server side: ${Math.max(...cells.map((x) => x.serverRequestsPerNode))})`,
      met: maxReq <= TARGET.requestsPerNode,
    },
    {
      name: "controller peak RSS (worst cell)",
      target: `<= ${TARGET.rssMB} MB`,
      measured: `${mb(maxRss)} MB (${maxRss} MiB)${goal ? `; ${mb(goal.peakRssMiB)} MB at ${TARGET.nodes} x ${TARGET.concurrency}` : ""}`,
      met: mb(maxRss) <= TARGET.rssMB,
    },
    {
      name: `linear growth with N at concurrency ${TARGET.concurrency}`,
      target: "time per node at the largest N within 1.25x of the next size",
      measured: goalGrowth
        ? `x${goalGrowth.perNodeTimeRatio ?? "?"} per node; ${goalGrowth.secondsPer1000Nodes} s per 1,000 nodes, R² ${goalGrowth.r2}`
        : "not measured",
      met: goalGrowth?.perNodeTimeRatio === undefined ? null : goalGrowth.perNodeTimeRatio <= 1.25,
    },
  );

  for (const cell of cells.filter((x) => x.concurrency === TARGET.concurrency)) {
    const minBytes = Math.min(...(cell.nodeObjectBytes ?? [0]));
    report.targets.push(
      {
        name: `${cell.nodes} nodes (${REALISTIC ? `realistic, >= ${round(minBytes / 1024, 1)} KiB each` : "minimal objects"}) at concurrency ${cell.concurrency}: every node done`,
        target: `${cell.nodes} ok, exit 0`,
        measured: cell.allOk
          ? `${cell.nodes} ok in ${cell.wallS} s`
          : `NOT all nodes ok${cell.skipped > 0 ? `: ${cell.skipped} not Ready when listed (${cell.skippedWhy}), so not visited` : ""}`,
        met: cell.allOk,
      },
      {
        name: `${cell.nodes} nodes: controller peak RSS`,
        target: `<= ${TARGET.rssMB} MB`,
        measured: `${mb(cell.peakRssMiB)} MB (${cell.peakRssMiB} MiB)`,
        met: mb(cell.peakRssMiB) <= TARGET.rssMB,
      },
      {
        name: `${cell.nodes} nodes: requests per node, plus the run's own`,
        target: `<= ${TARGET.nodeCallsPerNode} per node + pagination`,
        measured: `${cell.nodeCallsPerNode} per node + ${cell.runCalls} for the run (${cell.nodeListPages} node list pages); besides: ${cell.eventCallsPerNode} Event per node (events.enabled)`,
        met: cell.nodeCallsPerNode <= TARGET.nodeCallsPerNode,
      },
    );
  }

  writeReport(
    report,
    [
      table(
        [
          "nodes",
          "concurrency",
          "runs",
          "wall s",
          "nodes/s",
          "x vs conc. 1",
          "req/node (server)",
          "node calls/node + Events/node + run calls",
          "node object bytes",
          "peak RSS MiB",
          "heap MiB (live after full GC)",
          "controller CPU s",
          "apiserver CPU s",
          "all ok",
        ],
        cells.map((x) => [
          x.nodes,
          x.concurrency,
          x.runs,
          x.wallS,
          x.nodesPerS,
          x.concurrency === 1
            ? "1 (base)"
            : x.ratioVsC1 === undefined
              ? "- (no base run)"
              : `${x.ratioVsC1}x`,
          `${x.requestsPerNode} (${x.serverRequestsPerNode})`,
          `${x.nodeCallsPerNode} + ${x.eventCallsPerNode} + ${x.runCalls}`,
          x.nodeObjectBytes?.join("/"),
          x.peakRssMiB,
          x.heapMiB,
          x.controllerCpuS,
          x.apiserverCpuS,
          x.allOk ? "yes" : x.skipped > 0 ? `NO (${x.skipped} not Ready when listed)` : "NO",
        ]),
      ),
      "",
      "Where the CPU went (medians, CPU seconds during the run; the machine's cores x wall is what it could give; others = the machine's busy time minus the cluster's and the controller's, i.e. other sessions' work):",
      "",
      table(
        [
          "nodes",
          "concurrency",
          "apiserver",
          "etcd",
          "kwok",
          "controller-manager",
          "controller",
          "others",
          "machine busy / cores x wall",
          "load 1m start-end",
        ],
        cells.map((x) => [
          x.nodes,
          x.concurrency,
          x.apiserverCpuS,
          x.etcdCpuS,
          x.kwokCpuS,
          x.controllerManagerCpuS,
          x.controllerCpuS,
          x.othersCpuS,
          `${x.machineBusyS} / ${x.cpuCeilingS} (${round((100 * x.machineBusyS) / x.cpuCeilingS, 0)}%)`,
          x.load1m,
        ]),
      ),
      "",
      "Growth with N (least squares over the medians):",
      "",
      table(
        [
          "concurrency",
          "s per 1,000 nodes",
          "intercept s",
          "R²",
          "log-log exponent",
          "time/node at max N vs next",
        ],
        growth.map((g) => [
          g.concurrency,
          g.secondsPer1000Nodes,
          g.interceptS,
          g.r2,
          g.exponent,
          g.perNodeTimeRatio,
        ]),
      ),
      "",
      `Canned agent result: ${cannedLog.images} images per node (${cannedLog.deleted} deleted), ${round(cannedLog.resultBytes / 1024, 0)} KiB per log; ` +
        `${PODS_PER_NODE} pods per fake node; agent time ${AGENT_MS} ms.`,
    ].join("\n"),
  );
}
