// Sweep scale: the real controller (node dist/cli.js run) against the local cluster's real
// kube-apiserver, over N kwok-simulated nodes, doing its full API work: list nodes, per node list
// its pods, create the helper pod, watch it (kwok moves it Pending -> Running -> Succeeded), read
// its log (kwok serves a canned agent result through the API server's pods/log), delete it.
//   vite-node bench/sweep.ts          (bench/run.sh builds bench/results/dist first)
// Environment (defaults in brackets):
//   BENCH_SWEEP_NODES [10,100,1000]   BENCH_SWEEP_CONCURRENCY [1,10,50]
//   BENCH_SWEEP_REPS [3]              repetitions per (N, concurrency), interleaved
//   BENCH_SWEEP_SLOW_REPS [1]         repetitions for concurrency 1 at N >= 1000 (minutes each)
//   BENCH_SWEEP_IMAGES [1000]         images per node in the canned agent result (log size)
//   BENCH_SWEEP_PODS [5]              ordinary pods on every fake node (what --protect is made of)
//   BENCH_SWEEP_AGENT_MS [0]          how long kwok lets each agent "run" (0: pure controller cost)
//   BENCH_SWEEP_KEPT [matched]        matched: the result lists only kept images an --include matched,
//                                     as the agent does (no-match ones are counted); all: every
//                                     kept image, as agents before eee09ae did
//   BENCH_SWEEP_NODE_OPTIONS [chart]  Node.js flags for the controller; default: the chart's
//                                     controller.nodeOptions (chart/values.yaml); "none" for none
//   BENCH_SWEEP_REALISTIC [0]         1: fake nodes as big as real ones (>= 15 KB each: 50
//                                     status.images, cloud labels, managedFields; kwok.sh
//                                     KIC_KWOK_REALISTIC); scenario "realistic". Issue 10:
//                                     BENCH_SWEEP_REALISTIC=1 BENCH_SWEEP_NODES=1000,5000
//                                     BENCH_SWEEP_CONCURRENCY=50 BENCH_SWEEP_REPS=1
// A scenario other than the defaults writes bench/results/sweep-<scenario>.json, not sweep.json.
// Targets (issue 6): 1,000 nodes at concurrency 50 in <= 60 s, <= 6 API requests per node, peak RSS
// <= 150 MB, linear growth; concurrency 1 ("each node in turn") is the baseline for the ratios.
// Issue 10 (realistic nodes, up to 5,000): every node done, peak RSS <= 150 MB, <= 4 requests per
// node plus the run's own (node list pages, sweep list, watch list and watch).
import { execFile } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { cacheDir } from "./lib/images.js";
import { cannedAgentLog } from "./lib/canned-log.js";
import { repoRoot, startReport, table, writeReport } from "./lib/output.js";
import { benchCli, cleanEnv, runCli } from "./lib/proc.js";
import { fitLine, growthExponent, median, round } from "./lib/stats.js";

const execFileAsync = promisify(execFile);
const numbers = (name: string, fallback: number[]): number[] => {
  const v = process.env[name];
  if (v === undefined || v.trim() === "") return fallback;
  const list = v.split(",").map((s) => Number(s.trim()));
  if (list.some((n) => !Number.isInteger(n) || n < 1)) {
    process.stderr.write(
      `bench: ${name} must be a comma-separated list of whole numbers >= 1, got '${v}'\n`,
    );
    process.exit(2);
  }
  return list;
};
const NODES = numbers("BENCH_SWEEP_NODES", [10, 100, 1000]).sort((a, b) => a - b);
const CONCURRENCY = numbers("BENCH_SWEEP_CONCURRENCY", [1, 10, 50]).sort((a, b) => a - b);
const REPS = numbers("BENCH_SWEEP_REPS", [3])[0] ?? 3;
// 0 skips concurrency 1 at N >= 1000 (with a simulated agent time it takes N x that time).
const SLOW_REPS =
  process.env.BENCH_SWEEP_SLOW_REPS === "0" ? 0 : (numbers("BENCH_SWEEP_SLOW_REPS", [1])[0] ?? 1);
const IMAGES = numbers("BENCH_SWEEP_IMAGES", [1000])[0] ?? 1000;
const PODS_PER_NODE = Number(process.env.BENCH_SWEEP_PODS ?? 5);
const AGENT_MS = Number(process.env.BENCH_SWEEP_AGENT_MS ?? 0);
const KEPT = process.env.BENCH_SWEEP_KEPT === "all" ? "all" : "matched";
const REALISTIC = process.env.BENCH_SWEEP_REALISTIC === "1";
/** The chart's default NODE_OPTIONS for the controller: what an installed controller runs with. */
function chartNodeOptions(): string {
  const values = readFileSync(join(repoRoot, "chart/values.yaml"), "utf8");
  return /^\s*nodeOptions:\s*"([^"]*)"/m.exec(values)?.[1] ?? "";
}
const CHART_NODE_OPTIONS = chartNodeOptions();
const NODE_OPTIONS_GIVEN = process.env.BENCH_SWEEP_NODE_OPTIONS;
const NODE_OPTIONS = (
  NODE_OPTIONS_GIVEN === undefined
    ? CHART_NODE_OPTIONS
    : NODE_OPTIONS_GIVEN === "none"
      ? ""
      : NODE_OPTIONS_GIVEN
)
  .split(/\s+/)
  .filter(Boolean);
const SCENARIO = [
  REALISTIC ? "realistic" : "",
  AGENT_MS > 0 ? `agent${AGENT_MS}ms` : "",
  IMAGES !== 1000 ? `${IMAGES}img` : "",
  KEPT === "all" ? "kept-all" : "",
  NODE_OPTIONS.join(" ") === CHART_NODE_OPTIONS
    ? ""
    : NODE_OPTIONS.length === 0
      ? "no-node-options"
      : NODE_OPTIONS.join("")
          .replace(/[^a-z0-9=]+/gi, "-")
          .replace(/^-|-$/g, ""),
]
  .filter(Boolean)
  .join("-");

const TARGET = {
  nodes: 1000,
  concurrency: 50,
  wallS: 60,
  requestsPerNode: 6,
  rssMB: 150,
  /** Issue 10: calls made for each node (pods list, create, log, delete; more only on trouble). */
  nodeCallsPerNode: 4,
};
/** Calls a run makes once (or once per page), not per node; the run report is read and written once. */
const RUN_CALLS = new Set([
  "listNode",
  "listNamespacedPod",
  "watch",
  "readNamespacedConfigMap",
  "replaceNamespacedConfigMap",
  "createNamespacedConfigMap",
]);
/**
 * The audit Event per node (chart default events.enabled): counted apart from the cleanup's own
 * calls, which the issue-10 target bounds (it was written before Events existed).
 */
const EVENT_CALL = "createNamespacedEvent";
const HELPER_NS = "kic-bench";
const LOAD_NS = "kic-bench-load";
const FLOW_SCHEMA = "kic-bench-controller";

const state = join(cacheDir, "cluster");
const bin = join(cacheDir, "bin");
const adminKubeconfig = join(state, "admin.kubeconfig");
const kwokSh = join(repoRoot, "test/cluster/kwok.sh");
const sweepEnv = join(repoRoot, "bench/lib/sweep-env.sh");
const log = (m: string) =>
  process.stderr.write(`[bench sweep ${new Date().toISOString().slice(11, 19)}] ${m}\n`);

if (!existsSync(benchCli)) {
  process.stderr.write(`bench: ${benchCli} missing; run through bench/run.sh (it builds it)\n`);
  process.exit(2);
}

async function sh(file: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<string> {
  const r = await execFileAsync("bash", [file, ...args], {
    encoding: "utf8",
    env: { ...process.env, ...env },
    maxBuffer: 64 << 20,
  });
  return r.stdout;
}

async function kubectl(args: string[], input?: string): Promise<string> {
  const child = execFileAsync(join(bin, "kubectl"), ["--kubeconfig", adminKubeconfig, ...args], {
    encoding: "utf8",
    maxBuffer: 256 << 20,
  });
  if (input !== undefined) child.child.stdin?.end(input);
  return (await child).stdout;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Requests the API server saw from the controller: APF's dispatched count for the controller's own
 * FlowSchema (every request but pods/log, which is long-running and bypasses APF), plus the
 * server's pods/log count (all users: a concurrent test reading logs would add to it).
 */
async function serverCount(): Promise<{ flow: number; logs: number }> {
  const text = await kubectl(["get", "--raw", "/metrics"]);
  let flow = 0;
  let logs = 0;
  const value = (line: string) => Number(line.slice(line.lastIndexOf(" ") + 1));
  for (const line of text.split("\n")) {
    if (
      line.startsWith("apiserver_flowcontrol_dispatched_requests_total{") &&
      line.includes(`flow_schema="${FLOW_SCHEMA}"`)
    ) {
      flow += value(line);
    } else if (
      line.startsWith("apiserver_request_total{") &&
      line.includes('resource="pods"') &&
      line.includes('subresource="log"')
    ) {
      logs += value(line);
    }
  }
  return { flow, logs };
}

/** CPU seconds used so far by the cluster's processes (utime + stime from /proc). */
function clusterCpu(): Record<string, number> {
  const out: Record<string, number> = {};
  const tick = 100; // USER_HZ on Linux
  for (const name of ["kube-apiserver", "etcd", "kwok", "kube-controller-manager"]) {
    try {
      const pid = readFileSync(join(state, "pids", `${name}.pid`), "utf8").trim();
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      out[name] = (Number(fields[11]) + Number(fields[12])) / tick;
    } catch {
      // Not running (kwok between phases): no figure.
    }
  }
  return out;
}

/**
 * kwok and the fake nodes are shared (test/cluster/kwok.sh): when someone else is using them, wait
 * rather than take them away; give up after BENCH_SWEEP_WAIT_MIN minutes (default 30).
 */
async function waitForKwokFree(): Promise<void> {
  const limitMin = Number(process.env.BENCH_SWEEP_WAIT_MIN ?? 30);
  const until = Date.now() + limitMin * 60_000;
  for (;;) {
    const status = await sh(kwokSh, ["status"]);
    const nodes = Number(/fake nodes: (\d+)/.exec(status)?.[1] ?? 0);
    if (!status.startsWith("kwok running") && nodes === 0) return;
    if (Date.now() > until) {
      throw new Error(
        `kwok or fake nodes are in use by someone else for ${limitMin} min (${status.trim().replace(/\n/g, "; ")}); ` +
          "run test/cluster/kwok.sh stop when they are done, or raise BENCH_SWEEP_WAIT_MIN",
      );
    }
    log(`kwok in use by someone else (${status.trim().replace(/\n/g, "; ")}); waiting`);
    await sleep(30_000);
  }
}

const fakeName = (i: number) => `kic-fake-${String(i).padStart(5, "0")}`;

/** Size of fake node objects as the API server returns them (JSON bytes): first, middle, last. */
async function nodeObjectBytes(n: number): Promise<number[]> {
  const picks = [...new Set([0, Math.floor(n / 2), n - 1])];
  return Promise.all(
    picks.map(async (i) =>
      Buffer.byteLength(await kubectl(["get", "node", fakeName(i), "-o", "json"])),
    ),
  );
}
const nodeBytes: Record<number, number[]> = {};

/** Ordinary pods on fake nodes 0..n-1 (PODS_PER_NODE each), created once and kept Running by kwok. */
const loadPods = new Set<string>();
async function ensureLoadPods(n: number): Promise<void> {
  if (PODS_PER_NODE === 0) return;
  const missing: object[] = [];
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < PODS_PER_NODE; k++) {
      const name = `load-${String(i).padStart(5, "0")}-${k}`;
      if (loadPods.has(name)) continue;
      loadPods.add(name);
      const app = (i * PODS_PER_NODE + k) % 400;
      missing.push({
        apiVersion: "v1",
        kind: "Pod",
        metadata: { name, namespace: LOAD_NS, labels: { app: `app-${app}` } },
        spec: {
          nodeName: fakeName(i),
          tolerations: [{ operator: "Exists" }],
          ...(k === 0
            ? {
                initContainers: [
                  { name: "init", image: `registry.example.com/platform/init:v${app % 7}` },
                ],
              }
            : {}),
          containers: [
            { name: "app", image: `registry.example.com/acme/app-${app}:v${1 + (app % 5)}` },
            ...(k % 2 === 0
              ? [{ name: "sidecar", image: "docker.io/envoyproxy/envoy:v1.31.0" }]
              : []),
          ],
        },
      });
    }
  }
  if (missing.length === 0) return;
  log(`creating ${missing.length} pods on fake nodes`);
  const parts = 8;
  const per = Math.ceil(missing.length / parts);
  await Promise.all(
    Array.from({ length: parts }, (_, p) => missing.slice(p * per, (p + 1) * per))
      .filter((items) => items.length > 0)
      .map((items) =>
        kubectl(["create", "-f", "-"], JSON.stringify({ apiVersion: "v1", kind: "List", items })),
      ),
  );
  const want = loadPods.size;
  for (let i = 0; i < 600; i++) {
    const running = (
      await kubectl([
        "get",
        "pods",
        "-n",
        LOAD_NS,
        "--field-selector=status.phase=Running",
        // The server's table (a row per pod), not the objects: 25,000 pods are ~50 MB as JSON.
        "--no-headers",
      ])
    )
      .split("\n")
      .filter(Boolean).length;
    if (running >= want) return;
    await sleep(want > 5000 ? 3000 : 1000);
  }
  throw new Error(`pods on fake nodes not Running after 600 s`);
}

async function waitNoHelperPods(): Promise<void> {
  for (let i = 0; i < 600; i++) {
    const left = (await kubectl(["get", "pods", "-n", HELPER_NS, "-o", "name"]))
      .split("\n")
      .filter(Boolean).length;
    if (left === 0) return;
    await sleep(500);
  }
  throw new Error("helper pods of the last run still there after 300 s");
}

interface SweepRun {
  nodes: number;
  concurrency: number;
  rep: number;
  exitCode: number;
  wallS: number;
  controllerS: number | undefined;
  ok: number;
  failed: number;
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
  serverRequests: number;
  serverRequestsPerNode: number;
  peakRssMiB: number | undefined;
  controllerCpuS: number | undefined;
  clusterCpuS: Record<string, number>;
}

async function sweepOnce(
  nodes: number,
  concurrency: number,
  rep: number,
  kubeconfig: string,
): Promise<SweepRun> {
  await waitNoHelperPods();
  const server0 = await serverCount();
  const cpu0 = clusterCpu();
  const run = await runCli(
    [
      "run",
      "--kubeconfig",
      kubeconfig,
      "--namespace",
      HELPER_NS,
      "--instance",
      "kic-bench",
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
      "--output",
      "json",
      "--log-format",
      "json",
      // The chart's defaults: an Event per node (on unless --events=false) and the run report.
      "--report-configmap",
      "kic-bench-report",
    ],
    cleanEnv({ KUBECONFIG: "" }),
    NODE_OPTIONS,
  );
  const cpu1 = clusterCpu();
  // The API server counts a request when it is dispatched; give the last ones a moment to land.
  await sleep(500);
  const server1 = await serverCount();
  let summary:
    | {
        durationMs?: number;
        ok?: number;
        failed?: number;
        requests?: { total: number; perNode?: number; byCall: Record<string, number> };
      }
    | undefined;
  const failures: string[] = [];
  for (const line of run.stdout.split("\n")) {
    if (line.includes('"run summary"')) summary = JSON.parse(line) as typeof summary;
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
    firstFailures: failures,
    requests: summary.requests?.total,
    requestsPerNode: summary.requests?.perNode,
    requestsByCall: summary.requests?.byCall,
    nodeCallsPerNode: nodeCalls === undefined ? undefined : round(nodeCalls / nodes, 2),
    runCalls,
    eventCallsPerNode: eventCalls === undefined ? undefined : round(eventCalls / nodes, 2),
    nodeListPages: byCall?.listNode,
    serverRequests,
    serverRequestsPerNode: round(serverRequests / nodes, 2),
    peakRssMiB: run.peakRssMiB === undefined ? undefined : round(run.peakRssMiB, 1),
    controllerCpuS: run.cpuMs === undefined ? undefined : round(run.cpuMs / 1000, 2),
    clusterCpuS,
  };
}

const report = startReport(SCENARIO === "" ? "sweep" : `sweep-${SCENARIO}`, {
  cluster:
    "the local cluster (test/cluster/up.sh): real etcd + kube-apiserver v1.34 + controller-manager; the real kubelet node kic-node stays beside the fake ones",
  nodes:
    "kwok v0.7.0 (test/cluster/kwok.sh) manages nodes annotated kwok.x-k8s.io/node=fake, labelled kube-image-cleanup.io/bench=fake (the run's --node-selector); leases renewed every 40 s",
  nodeObjects: REALISTIC
    ? "realistic (KIC_KWOK_REALISTIC=1): 50 status.images entries (digest + tag), 22 cloud-provider labels, CSI/provider annotations, managedFields of kubelet, kube-controller-manager, kubectl and kwok; sizes measured per N in nodeObjectBytes"
    : "minimal: 3 labels, 2 annotations, kwok's status",
  helperPods: `kwok stages (test/cluster/kwok/stages.yaml): Pending -> Running at once, Running -> Succeeded after ${AGENT_MS} ms, deleted pods removed; kubectl logs served by kwok ClusterLogs from one canned file through the API server`,
  agentLog: `the real agent's JSON reporter over a synthetic ${IMAGES}-image node (bench/lib/canned-log.ts), in CRI log format with 16 KiB partial lines; kept images listed: ${KEPT === "all" ? "all (as agents before eee09ae did)" : "only those an --include matched, as the agent does (no-match ones counted, not listed)"}`,
  pods: `${PODS_PER_NODE} ordinary pods per fake node (namespace ${LOAD_NS}), so each node's pod list and --protect are not empty`,
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
    "utime+stime of kube-apiserver, etcd, kwok, controller-manager from /proc, diffed around each run: where the 2 cores went",
  repetitions: `${REPS} per (N, concurrency), interleaved; ${SLOW_REPS} for concurrency 1 at N >= 1000; medians`,
});

const runs: SweepRun[] = [];
let canned: ReturnType<typeof cannedAgentLog> | undefined;
/** Set once kwok and the fake nodes are ours: only then does cleaning up remove them. */
let acquired = false;
let failure: unknown;
try {
  log("bringing the cluster up (idempotent)");
  await sh(join(repoRoot, "test/cluster/up.sh"), []);
  await waitForKwokFree();
  acquired = true;
  const kubeconfig = (await sh(sweepEnv, ["setup"])).trim();
  canned = cannedAgentLog(IMAGES, KEPT);
  const logFile = join(state, "kwok", "agent.log");
  mkdirSync(join(state, "kwok"), { recursive: true });
  writeFileSync(logFile, canned.text);
  log(
    `canned agent log: ${canned.images} images, ${canned.deleted} deleted, result record ${round(canned.resultBytes / 1024, 0)} KiB`,
  );
  // A fresh kwok so the stages carry this run's agent time.
  await sh(kwokSh, ["stop"]);
  await sh(kwokSh, ["start"], {
    KIC_KWOK_AGENT_MS: String(AGENT_MS),
    KIC_KWOK_NAMESPACE: HELPER_NS,
    KIC_KWOK_LOG: logFile,
  });
  const started = Date.now();
  for (const n of NODES) {
    await sh(kwokSh, ["nodes", String(n)], REALISTIC ? { KIC_KWOK_REALISTIC: "1" } : {});
    nodeBytes[n] = await nodeObjectBytes(n);
    log(`fake node objects: ${nodeBytes[n].join(", ")} bytes (JSON)`);
    await ensureLoadPods(n);
    const maxReps = Math.max(REPS, SLOW_REPS);
    for (let rep = 0; rep < maxReps; rep++) {
      for (const c of CONCURRENCY) {
        const reps = c === 1 && n >= 1000 ? SLOW_REPS : REPS;
        if (rep >= reps) continue;
        log(`N=${n} concurrency=${c} rep ${rep + 1}/${reps}`);
        const r = await sweepOnce(n, c, rep, kubeconfig);
        runs.push(r);
        log(
          `  ${r.wallS} s, ${r.ok} ok ${r.failed} failed, ${r.requestsPerNode ?? "?"} req/node (server ${r.serverRequestsPerNode}), ` +
            `RSS ${r.peakRssMiB ?? "?"} MiB, CPU ${r.controllerCpuS ?? "?"} s; cluster CPU ${JSON.stringify(r.clusterCpuS)}` +
            (r.firstFailures.length > 0
              ? `\n  first failures: ${r.firstFailures.join(" | ")}`
              : ""),
        );
      }
    }
  }
  report.benchMinutes = round((Date.now() - started) / 60000, 1);
} catch (err) {
  failure = err;
}

/** Figures from the runs so far: written before the cleanup, so a cluster taken down under the
 * benchmark (another suite's cluster:down) still leaves the results it got. */
function finish(): void {
  const cannedLog = canned;
  if (cannedLog === undefined) return;
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
    controllerCpuS: number;
    apiserverCpuS: number;
    allOk: boolean;
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
        controllerCpuS: med((r) => r.controllerCpuS),
        apiserverCpuS: med((r) => r.clusterCpuS["kube-apiserver"], 1),
        allOk: group.every((r) => r.failed === 0 && r.ok === n && r.exitCode === 0),
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
        measured: cell.allOk ? `${cell.nodes} ok in ${cell.wallS} s` : "NOT all nodes ok",
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
          x.controllerCpuS,
          x.apiserverCpuS,
          x.allOk ? "yes" : "NO",
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

if (runs.length > 0) finish();
if (acquired) {
  log("cleaning up: namespaces and the controller's user, then fake nodes and kwok");
  await sh(sweepEnv, ["teardown"]).catch((e: unknown) => {
    log(`teardown failed: ${String(e)}`);
  });
  await sh(kwokSh, ["stop"]).catch((e: unknown) => {
    log(`kwok.sh stop failed: ${String(e)}`);
  });
}
if (failure !== undefined)
  throw failure instanceof Error ? failure : new Error(JSON.stringify(failure));
