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
//   BENCH_SWEEP_WORKLOADS [0]         suspended CronJobs + 0-replica Deployments for workload protection
//   BENCH_SWEEP_WORKLOAD_IMAGES [1000] distinct images their templates name
//   BENCH_SWEEP_CREATES [32]          pods (and, beside them, workloads) created at once in the set-up
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
//   BENCH_SWEEP_KEEP_OUTPUT []        a directory: each run's controller stdout and stderr kept there
//   BENCH_SWEEP_CLUSTER [up]          running: use the running cluster as it is (no up.sh, which
//                                     re-imports the app image), e.g. beside others holding it
// A scenario other than the defaults writes bench/results/sweep-<scenario>.json, not sweep.json.
// The parts: the settings above (lib/sweep-config.ts), the cluster side (lib/sweep-cluster.ts),
// one run of the controller (lib/sweep-run.ts), the figures and tables (lib/sweep-report.ts).
// Targets (issue 6): 1,000 nodes at concurrency 50 in <= 60 s, <= 6 API requests per node, peak RSS
// <= 150 MB, linear growth; concurrency 1 ("each node in turn") is the baseline for the ratios.
// Issue 10 (realistic nodes, up to 5,000): every node done, peak RSS <= 150 MB, <= 4 requests per
// node plus the run's own (node list pages, sweep list, watch list and watch).
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { cannedAgentLog } from "./lib/canned-log.js";
import { repoRoot } from "./lib/output.js";
import { benchCli } from "./lib/proc.js";
import { round } from "./lib/stats.js";
import {
  ensureLoadPods,
  ensureWorkloads,
  HELPER_NS,
  kwokSh,
  log,
  nodeObjectBytes,
  sh,
  state,
  sweepEnv,
  waitForKwokFree,
} from "./lib/sweep-cluster.js";
import {
  AGENT_MS,
  CONCURRENCY,
  IMAGES,
  KEPT,
  NODES,
  REALISTIC,
  REPS,
  SLOW_REPS,
  WORKLOADS,
} from "./lib/sweep-config.js";
import { startSweepReport, writeSweepReport } from "./lib/sweep-report.js";
import { sweepOnce, type SweepRun } from "./lib/sweep-run.js";

if (!existsSync(benchCli)) {
  process.stderr.write(`bench: ${benchCli} missing; run through bench/run.sh (it builds it)\n`);
  process.exit(2);
}

const report = startSweepReport();

const runs: SweepRun[] = [];
let canned: ReturnType<typeof cannedAgentLog> | undefined;
const nodeBytes: Record<number, number[]> = {};
/** Set once kwok and the fake nodes are ours: only then does cleaning up remove them. */
let acquired = false;
let failure: unknown;
try {
  if (process.env.BENCH_SWEEP_CLUSTER === "running") {
    // Beside others who hold the cluster: up.sh would re-import this checkout's app image, which
    // the sweep does not run (kwok finishes its helper pods), under everyone's feet.
    log("using the running cluster as it is (BENCH_SWEEP_CLUSTER=running)");
  } else {
    log("bringing the cluster up (idempotent)");
    await sh(join(repoRoot, "test/cluster/up.sh"), []);
  }
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
    // Pods and workloads at once: the workloads' wait for kube-controller-manager's ReplicaSets
    // overlaps the pods' creation.
    const setupStarted = Date.now();
    const [, workloads] = await Promise.all([
      ensureLoadPods(n),
      WORKLOADS > 0 ? ensureWorkloads() : undefined,
    ]);
    if (workloads !== undefined) {
      report.workloads = workloads;
      log(`workloads: ${JSON.stringify(report.workloads)}`);
    }
    log(`pods and workloads ready after ${round((Date.now() - setupStarted) / 1000, 0)} s`);
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
            `RSS ${r.peakRssMiB ?? "?"} MiB, heap ${r.heapTotalMiB ?? "?"} MiB (live after full GCs <= ${r.liveAfterMajorGcMiB ?? "?"} MiB, ${r.majorGcs ?? "?"} of them), CPU ${r.controllerCpuS ?? "?"} s; cluster CPU ${JSON.stringify(r.clusterCpuS)}` +
            `\n  server requests (all users): ${Object.entries(r.serverByVerb)
              .sort((a, b) => b[1] - a[1])
              .map(([k, v]) => `${k} ${v}`)
              .join(", ")}` +
            `\n  watch events sent: ${JSON.stringify(r.watchEvents)} bytes ${JSON.stringify(r.watchEventBytes)}` +
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

if (runs.length > 0 && canned !== undefined) writeSweepReport(report, runs, canned, nodeBytes);
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
