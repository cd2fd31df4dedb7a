// Node time on the real kubelet: the controller (node dist/cli.js run) against the local cluster's
// one real node, deleting a few images each run, in each helper mode. Per run the controller's own
// figure `helperMs` (node record: from the helper pod's create to its result read) and the agent's
// phase times from its result; the machine's 1-minute load before each run, since other work
// shares it.
//   vite-node bench/node-time.ts   (bench/run.sh builds bench/results/dist and holds the cluster lock)
// Environment: BENCH_NODE_TIME_REPS (runs per helper mode, default 7), BENCH_NODE_TIME_MODES
// (privileged,socket), BENCH_NODE_TIME_IMAGES (images deleted per run, default 2),
// BENCH_NODE_TIME_RUNTIME (containerd: the cluster as it runs; containerd2: bench/run.sh switches
// the node to containerd 2 through test/cluster/on-runtime.sh and back; the result is then
// node-time-containerd2).
// BENCH_NODE_TIME_ARGS: more controller flags, space-separated (e.g. `--helper-cpu-limit 1`);
// a run with them writes node-time-args (node-time-containerd2-args).
// Target (issue 22): median node time <= 3 s in each helper mode.
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { loadavg } from "node:os";
import { join } from "node:path";
import type { AgentResult } from "../src/run-model/agent-result.js";
import { bundleOf, ctrK8s, refsWithPrefix, removeImages, type BenchImage } from "./lib/images.js";
import { startReport, table, writeReport } from "./lib/output.js";
import { benchCli, cleanEnv, runCli, runCommandArgs } from "./lib/proc.js";
import { median, quantile, round } from "./lib/stats.js";
import { clusterPaths } from "../test/support/cluster.js";
import {
  agentRecords,
  logOffset,
  nodeTimeline,
  runtimeEvents,
  startPodWatch,
  type Timeline,
} from "./lib/node-timeline.js";

const REPS = Number(process.env.BENCH_NODE_TIME_REPS ?? 7);
const PER_RUN = Number(process.env.BENCH_NODE_TIME_IMAGES ?? 2);
const MODES = (process.env.BENCH_NODE_TIME_MODES ?? "privileged,socket").split(",");
const RUNTIME = process.env.BENCH_NODE_TIME_RUNTIME ?? "containerd";
const PREFIX = "bench.local/kic-node-time/";
const NAMESPACE = "kic-bench-node-time";
// The image up.sh imports from this checkout; BENCH_NODE_TIME_IMAGE names another one imported
// into the node beside it (a build of this checkout under its own tag leaves everyone's :dev alone).
const APP_IMAGE = process.env.BENCH_NODE_TIME_IMAGE ?? "docker.io/library/kube-image-cleanup:dev";
const EXTRA_ARGS = (process.env.BENCH_NODE_TIME_ARGS ?? "").split(/\s+/).filter(Boolean);

if (!existsSync(benchCli)) {
  process.stderr.write(`bench: ${benchCli} missing; run through bench/run.sh (it builds it)\n`);
  process.exit(2);
}
for (const m of MODES)
  if (m !== "privileged" && m !== "socket") {
    process.stderr.write(`bench: BENCH_NODE_TIME_MODES: unknown mode '${m}'\n`);
    process.exit(2);
  }

// The cluster's settings as test/cluster/lib.sh computes them, read the one way the tests read them.
const cluster = clusterPaths;
const kubeconfig = cluster.KIC_KUBECONFIG ?? "";
const node = cluster.KIC_NODE_NAME ?? "";
const socket = cluster.KIC_CONTAINERD_SOCK ?? "";
const kubectlPath = join(cluster.KIC_BIN ?? "", "kubectl");
const containerdLog = join(cluster.KIC_CACHE ?? "", "cluster", "logs", "containerd.log");
const kubectl = (...args: string[]) =>
  execFileSync(kubectlPath, ["--kubeconfig", kubeconfig, ...args], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
  });
const runtimeVersion = kubectl(
  "get",
  "node",
  node,
  "-o",
  "jsonpath={.status.nodeInfo.containerRuntimeVersion}",
).trim();
if (RUNTIME === "containerd2" && !/^containerd:\/\/v?2\./.test(runtimeVersion)) {
  process.stderr.write(
    `bench: BENCH_NODE_TIME_RUNTIME=containerd2 but the node runs ${runtimeVersion}: run through npm run bench\n`,
  );
  process.exit(2);
}
try {
  kubectl("create", "namespace", NAMESPACE);
} catch {
  // Already there from an earlier run: it holds nothing but this bench's helper pods.
}

const imageName = (mode: string, rep: number, k: number) =>
  `${PREFIX}${mode}-${String(rep).padStart(2, "0")}/img-${k}:v1`;
const images: BenchImage[] = MODES.flatMap((mode) =>
  Array.from({ length: REPS }, (_, rep) =>
    Array.from({ length: PER_RUN }, (_, k) => ({ name: imageName(mode, rep, k), aliases: [] })),
  ).flat(),
);
removeImages(socket, PREFIX);
// One import of every run's images: each run deletes its own, and nothing else changes between runs.
// ctr unpacks them (overlayfs, as the CRI does): the snapshots are what the image filesystem gets back.
ctrK8s(socket, ["images", "import", bundleOf(images)]);

interface NodeRun {
  mode: string;
  rep: number;
  load1m: number;
  status: string;
  /** The controller's figure: helper pod created -> result read. */
  helperMs: number | undefined;
  /** The whole node: pods listed, helper created, result read, helper deleted. */
  nodeMs: number | undefined;
  /** The agent's own phases (from its start in the helper, after Node.js has loaded). */
  agentMs: AgentResult["durationsMs"] | undefined;
  deleted: number;
  imageFs: AgentResult["imageFs"] | undefined;
  wallMs: number;
  reason?: string;
  /** Where the node's time went: ms after the pod's ADDED event (lib/node-timeline.ts). */
  timeline?: Timeline;
}

// Made before the runs: the machine's load at the start is what it records.
const name = [
  "node-time",
  RUNTIME === "containerd" ? "" : RUNTIME,
  EXTRA_ARGS.length > 0 ? "args" : "",
]
  .filter(Boolean)
  .join("-");
const report = startReport(name, {
  nodeTime:
    "helperMs of the controller's JSON node record: from the helper pod's create call returning to its " +
    "agent result parsed from the pod's log (followed from when the watch shows the agent running, until its " +
    "result has arrived whole; a follow without it falls back to the container's end and one read); the helper's " +
    "delete after it and the pod list before it are not in it",
  agent:
    "durationsMs of the agent's own result: from its start in the helper (Node.js loaded) to its result",
  workload: `each run deletes its own ${PER_RUN} images (busybox + a few KiB of their own, unpacked), imported once before the first run`,
  load: "1-minute load average (os.loadavg) just before each run; other work shares the machine",
  controller: `node dist/cli.js run from this machine with the admin kubeconfig, one node (${node}), defaults otherwise (an Event per node), helper image ${APP_IMAGE} (pull policy Never)${EXTRA_ARGS.length > 0 ? `, and ${EXTRA_ARGS.join(" ")}` : ""}`,
  runtime: `${runtimeVersion} (the node's containerRuntimeVersion)`,
});
report.runtime = runtimeVersion;

const runs: NodeRun[] = [];
const podWatch = startPodWatch(kubectlPath, kubeconfig, NAMESPACE);
for (let rep = 0; rep < REPS; rep++) {
  for (const mode of MODES) {
    const load1m = round(loadavg()[0] ?? 0, 2);
    const runtimeFrom = logOffset(containerdLog);
    const run = await runCli(
      runCommandArgs(kubeconfig, NAMESPACE, "bench-node-time", [
        "--nodes",
        node,
        "--include",
        `${PREFIX}${mode}-${String(rep).padStart(2, "0")}/**`,
        "--helper-image",
        APP_IMAGE,
        "--helper-image-pull-policy",
        "Never",
        "--helper-mode",
        mode,
        // The node's containerd socket is in the cluster's state dir, not at a usual path.
        "--socket",
        socket,
        // PID 1 of this machine's sandbox cannot be entered (test/cluster/README.md): the node's
        // containerd stands in for the node's init, as in the integration tests.
        ...(mode === "privileged" ? ["--nsenter-target", "containerd"] : []),
        ...(mode === "socket"
          ? ["--helper-socket-gid", cluster.KIC_CONTAINERD_SOCKET_GID ?? "0"]
          : []),
        ...EXTRA_ARGS,
        // Kept for the timeline (its log and status are read below), then deleted by the bench:
        // the controller's delete comes after helperMs, so this does not change the figure.
        "--keep-pods",
      ]),
      cleanEnv(),
    );
    const record = run.stdout
      .split("\n")
      .filter((l) => l.startsWith("{"))
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .find((r) => r.node === node && typeof r.status === "string");
    const bytes = record?.bytes as { imageFs?: AgentResult["imageFs"] } | undefined;
    const one: NodeRun = {
      mode,
      rep,
      load1m,
      status: typeof record?.status === "string" ? record.status : `exit ${run.code}`,
      helperMs: typeof record?.helperMs === "number" ? record.helperMs : undefined,
      nodeMs: typeof record?.durationMs === "number" ? record.durationMs : undefined,
      agentMs: record?.agentDurationsMs as AgentResult["durationsMs"] | undefined,
      deleted: Array.isArray(record?.deleted) ? record.deleted.length : 0,
      imageFs: bytes?.imageFs,
      wallMs: round(run.wallMs, 0),
    };
    if (one.status !== "ok")
      one.reason = typeof record?.reason === "string" ? record.reason : run.stderr.slice(-600);
    const pod = typeof record?.pod === "string" ? record.pod : undefined;
    if (pod !== undefined) {
      let log = "";
      try {
        log = kubectl("logs", "-n", NAMESPACE, pod, "-c", "agent");
      } catch {
        // No log (the pod never ran): the timeline has the watch and runtime points only.
      }
      // The watch's last events (the pod's end) may still be on their way.
      await new Promise((r) => setTimeout(r, 300));
      one.timeline = nodeTimeline({
        pod,
        watch: podWatch.events,
        runtime: runtimeEvents(containerdLog, runtimeFrom, pod),
        agent: agentRecords(log),
        agentMs: one.agentMs,
        helperMs: one.helperMs,
      });
      kubectl("delete", "pod", "-n", NAMESPACE, pod, "--wait=true");
    }
    runs.push(one);
    process.stderr.write(
      `[node-time] ${mode} #${rep + 1}: ${one.status}, helper ${one.helperMs ?? "-"} ms, agent ${one.agentMs?.total ?? "-"} ms, ` +
        `deleted ${one.deleted}, load ${load1m}${one.reason ? ` (${one.reason})` : ""}\n`,
    );
  }
}
podWatch.stop();
const left = refsWithPrefix(socket, PREFIX).length;
removeImages(socket, PREFIX);

report.runs = runs;

const rows = MODES.map((mode) => {
  const ok = runs.filter((r) => r.mode === mode && r.status === "ok" && r.helperMs !== undefined);
  const helper = ok.map((r) => r.helperMs ?? 0);
  const agent = ok.map((r) => r.agentMs?.total ?? 0);
  const exec = ok.map((r) => r.agentMs?.execute ?? 0);
  const loads = runs.filter((r) => r.mode === mode).map((r) => r.load1m);
  const med = median(helper);
  report.targets.push({
    name: `median node time, ${mode}`,
    target: "<= 3000 ms",
    measured: `${round(med, 0)} ms (${ok.length} of ${REPS} runs ok)`,
    met: ok.length === 0 ? false : med <= 3000,
  });
  // `state` since issue 22; `settled` (true/false) before it, when the agent waited for the figure.
  const states = ok.map((r) => {
    const fs = r.imageFs as { state?: string; settled?: boolean } | undefined;
    return fs === undefined ? "none" : (fs.state ?? (fs.settled ? "settled" : "not settled"));
  });
  return [
    mode,
    `${ok.length}/${REPS}`,
    round(med, 0),
    round(quantile(helper, 0.9), 0),
    round(median(agent), 0),
    round(median(exec), 0),
    round(med - median(agent), 0),
    [...new Set(states)].join(", "),
    `${round(Math.min(...loads), 1)}-${round(Math.max(...loads), 1)} (median ${round(median(loads), 1)})`,
  ];
});
report.leftAfter = left;

// Each point's median per mode, in the order the points happen (by their median in the first mode).
const points = [...new Set(runs.flatMap((r) => Object.keys(r.timeline ?? {})))];
const pointMedian = (mode: string, key: string) => {
  const values = runs
    .filter((r) => r.mode === mode && r.status === "ok")
    .map((r) => r.timeline?.[key])
    .filter((v): v is number => v !== undefined);
  return values.length === 0 ? undefined : round(median(values), 0);
};
const ordered = points
  .map((key) => ({ key, at: pointMedian(MODES[0] ?? "", key) ?? Infinity }))
  .sort((a, b) => a.at - b.at)
  .map((p) => p.key);
const timelineRows = ordered.map((key) => [key, ...MODES.map((m) => pointMedian(m, key))]);
writeReport(
  report,
  [
    `Node: ${node}, ${runtimeVersion}; ${REPS} runs per helper mode, ${PER_RUN} images deleted per run.`,
    "",
    table(
      [
        "helper mode",
        "runs ok",
        "node time median ms",
        "p90 ms",
        "agent total median ms",
        "agent execute median ms",
        "outside the agent ms (pod start, Node.js start, watch, log read)",
        "image-fs figure",
        "load 1m",
      ],
      rows,
    ),
    "",
    "Where the time goes: median ms after the helper pod's ADDED event reached a watch (≈ the create call returning), per point (lib/node-timeline.ts):",
    "",
    table(["point", ...MODES.map((m) => `${m} ms`)], timelineRows),
    left > 0
      ? `\n**${left} bench images were left after the runs (deletion failed somewhere).**`
      : "",
  ].join("\n"),
);
