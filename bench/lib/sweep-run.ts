// One run of the real controller over the fake nodes: spawned as in production (bench/lib/proc.ts),
// its JSON run summary read, its API calls sorted into the node's, the run's own and the Events,
// and the server's counts and the cluster's CPU diffed around it.
import { mkdirSync, writeFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { join } from "node:path";
import { cleanEnv, runCli, runCommandArgs } from "./proc.js";
import { round } from "./stats.js";
import {
  clusterCpu,
  countDiff,
  HELPER_NS,
  machineBusyCpu,
  serverCount,
  sleep,
  waitNoHelperPods,
} from "./sweep-cluster.js";
import { NODE_OPTIONS } from "./sweep-config.js";

/**
 * Calls a run makes once (or once per page), not per node; the run report is read and written once.
 * `listPodForAllNamespaces` is the shared pod view's: its list pages, its resourceVersion reads
 * (shared by the nodes waiting for one) and the per-node lists it fell back to, all three counted
 * apart in `podView`.
 */
const RUN_CALLS = new Set([
  "listNode",
  "listNamespacedPod",
  "listPodForAllNamespaces",
  "watch",
  "readNamespacedConfigMap",
  "replaceNamespacedConfigMap",
  "createNamespacedConfigMap",
  // Workload protection: each kind listed once per run, in pages.
  "listDeploymentForAllNamespaces",
  "listStatefulSetForAllNamespaces",
  "listDaemonSetForAllNamespaces",
  "listReplicaSetForAllNamespaces",
  "listJobForAllNamespaces",
  "listCronJobForAllNamespaces",
]);
/**
 * The audit Event per node (chart default events.enabled): counted apart from the cleanup's own
 * calls, which the issue-10 target bounds (it was written before Events existed).
 */
const EVENT_CALL = "createNamespacedEvent";

export interface SweepRun {
  nodes: number;
  concurrency: number;
  rep: number;
  exitCode: number;
  wallS: number;
  controllerS: number | undefined;
  ok: number;
  failed: number;
  /**
   * Selected nodes the run did not visit because they were not Ready when listed (a fake node's
   * heartbeat late on an overloaded machine), with the first reasons: `ok` then falls short of N.
   */
  skipped: number;
  skippedWhy: string[];
  firstFailures: string[];
  requests: number | undefined;
  requestsPerNode: number | undefined;
  requestsByCall: Record<string, number> | undefined;
  /** Requests made for nodes (not the run's node list pages, sweep list, watch), per node. */
  nodeCallsPerNode: number | undefined;
  /** Requests the run made once: node list pages, sweep and watch lists, watch, run report. */
  runCalls: number | undefined;
  /** Events recorded per node (the audit sink), apart from nodeCallsPerNode. */
  eventCallsPerNode: number | undefined;
  nodeListPages: number | undefined;
  /** What the shared pod view did (list pages, re-lists, version reads, nodes served by it). */
  podView: Record<string, number> | undefined;
  serverRequests: number;
  serverRequestsPerNode: number;
  /**
   * Every request the API server served during the run, by `verb resource[/subresource]`, from
   * every user (the controller, kwok moving pods along, the controller-manager): where its CPU goes.
   */
  serverByVerb: Record<string, number>;
  /** Watch events the API server sent during the run, by kind, and their bytes. */
  watchEvents: Record<string, number>;
  watchEventBytes: Record<string, number>;
  peakRssMiB: number | undefined;
  /** The controller's V8 heap: largest size, and largest in use right after a full collection. */
  heapTotalMiB: number | undefined;
  liveAfterMajorGcMiB: number | undefined;
  majorGcs: number | undefined;
  controllerCpuS: number | undefined;
  clusterCpuS: Record<string, number>;
  /** CPU seconds the 2 (or N) cores could give during the run: cores x wall. */
  cpuCeilingS: number;
  /** CPU seconds the whole machine was busy during the run (every process). */
  machineBusyS: number;
  /** machineBusyS minus the cluster's and the controller's: other sessions' work meanwhile. */
  othersCpuS: number | undefined;
  /** 1-minute load average just before and just after the run. */
  load1mStart: number;
  load1mEnd: number;
}

export async function sweepOnce(
  nodes: number,
  concurrency: number,
  rep: number,
  kubeconfig: string,
): Promise<SweepRun> {
  await waitNoHelperPods();
  const server0 = await serverCount();
  const cpu0 = clusterCpu();
  const busy0 = machineBusyCpu();
  const load1mStart = round(loadavg()[0] ?? 0, 2);
  const run = await runCli(
    runCommandArgs(kubeconfig, HELPER_NS, "kic-bench", [
      "--node-selector",
      "kube-image-cleanup.io/bench=fake",
      "--concurrency",
      String(concurrency),
      "--include",
      "registry.example.com/**/app-1*",
      "--helper-image",
      "docker.io/library/kube-image-cleanup:bench",
      "--node-timeout",
      "5m",
      // The chart's defaults: an Event per node (on unless --events=false) and the run report.
      "--report-configmap",
      "kic-bench-report",
    ]),
    cleanEnv({ KUBECONFIG: "" }),
    NODE_OPTIONS,
  );
  const keep = process.env.BENCH_SWEEP_KEEP_OUTPUT;
  if (keep !== undefined && keep !== "") {
    // The controller's own output, for a closer look (e.g. with --trace-gc in BENCH_SWEEP_NODE_OPTIONS).
    mkdirSync(keep, { recursive: true });
    const base = join(keep, `controller-${nodes}n-c${concurrency}-rep${rep}`);
    writeFileSync(`${base}.stdout`, run.stdout);
    writeFileSync(`${base}.stderr`, run.stderr);
  }
  const cpu1 = clusterCpu();
  const busy1 = machineBusyCpu();
  const load1mEnd = round(loadavg()[0] ?? 0, 2);
  // The API server counts a request when it is dispatched; give the last ones a moment to land.
  await sleep(500);
  const server1 = await serverCount();
  let summary:
    | {
        durationMs?: number;
        ok?: number;
        failed?: number;
        requests?: {
          total: number;
          perNode?: number;
          byCall: Record<string, number>;
          podView?: Record<string, number>;
        };
      }
    | undefined;
  const failures: string[] = [];
  let skipped: { node?: string; reason?: string }[] = [];
  for (const line of run.stdout.split("\n")) {
    if (line.includes('"run summary"')) summary = JSON.parse(line) as typeof summary;
    else if (line.includes('"run start"'))
      skipped = (JSON.parse(line) as { skipped?: typeof skipped }).skipped ?? [];
    else if (line.includes('"node failed"') && failures.length < 3) {
      const r = JSON.parse(line) as { node?: string; reason?: string };
      failures.push(`${r.node ?? "?"}: ${r.reason ?? "?"}`);
    }
  }
  if (summary === undefined) {
    throw new Error(
      `the controller printed no run summary (exit ${run.code}):\n${run.stderr.slice(-3000)}\n${run.stdout.slice(-2000)}`,
    );
  }
  const clusterCpuS: Record<string, number> = {};
  for (const [k, v] of Object.entries(cpu1)) clusterCpuS[k] = round(v - (cpu0[k] ?? v), 1);
  const controllerCpuS = run.cpuMs === undefined ? undefined : run.cpuMs / 1000;
  const machineBusyS = busy1 - busy0;
  const ownCpuS = Object.values(clusterCpuS).reduce((a, b) => a + b, 0) + (controllerCpuS ?? 0);
  const serverRequests = server1.flow - server0.flow + (server1.logs - server0.logs);
  const byCall = summary.requests?.byCall;
  let nodeCalls: number | undefined;
  let runCalls: number | undefined;
  let eventCalls: number | undefined;
  if (byCall !== undefined) {
    nodeCalls = 0;
    runCalls = 0;
    eventCalls = 0;
    for (const [call, n] of Object.entries(byCall)) {
      if (RUN_CALLS.has(call)) runCalls += n;
      else if (call === EVENT_CALL) eventCalls += n;
      else nodeCalls += n;
    }
  }
  return {
    nodes,
    concurrency,
    rep,
    exitCode: run.code,
    wallS: round(run.wallMs / 1000, 2),
    controllerS: summary.durationMs === undefined ? undefined : round(summary.durationMs / 1000, 2),
    ok: summary.ok ?? 0,
    failed: summary.failed ?? 0,
    skipped: skipped.length,
    skippedWhy: [...new Set(skipped.map((x) => x.reason ?? "?"))].slice(0, 3),
    firstFailures: failures,
    requests: summary.requests?.total,
    requestsPerNode: summary.requests?.perNode,
    requestsByCall: summary.requests?.byCall,
    nodeCallsPerNode: nodeCalls === undefined ? undefined : round(nodeCalls / nodes, 2),
    runCalls,
    eventCallsPerNode: eventCalls === undefined ? undefined : round(eventCalls / nodes, 2),
    nodeListPages: byCall?.listNode,
    podView: summary.requests?.podView,
    serverRequests,
    serverRequestsPerNode: round(serverRequests / nodes, 2),
    serverByVerb: countDiff(server0.byVerb, server1.byVerb),
    watchEvents: countDiff(server0.watchEvents, server1.watchEvents),
    watchEventBytes: countDiff(server0.watchEventBytes, server1.watchEventBytes),
    peakRssMiB: run.peakRssMiB === undefined ? undefined : round(run.peakRssMiB, 1),
    heapTotalMiB: run.heapTotalMiB === undefined ? undefined : round(run.heapTotalMiB, 1),
    liveAfterMajorGcMiB:
      run.liveAfterMajorGcMiB === undefined ? undefined : round(run.liveAfterMajorGcMiB, 1),
    majorGcs: run.majorGcs,
    controllerCpuS: controllerCpuS === undefined ? undefined : round(controllerCpuS, 2),
    clusterCpuS,
    cpuCeilingS: round((cpus().length * run.wallMs) / 1000, 1),
    machineBusyS: round(machineBusyS, 1),
    othersCpuS: controllerCpuS === undefined ? undefined : round(machineBusyS - ownCpuS, 1),
    load1mStart,
    load1mEnd,
  };
}
