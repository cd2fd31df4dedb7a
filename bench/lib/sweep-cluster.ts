// The sweep's environment on the local cluster: kwok and its fake nodes, the ordinary pods on them,
// the helper pods' namespace, and what the cluster's side counts (APF's dispatched requests, the
// processes' CPU) around each run.
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { cacheDir } from "./images.js";
import { repoRoot } from "./output.js";
import { PODS_PER_NODE, WORKLOAD_IMAGES, WORKLOADS } from "./sweep-config.js";

const execFileAsync = promisify(execFile);

export const HELPER_NS = "kic-bench";
export const LOAD_NS = "kic-bench-load";
export const FLOW_SCHEMA = "kic-bench-controller";

export const state = join(cacheDir, "cluster");
const bin = join(cacheDir, "bin");
const adminKubeconfig = join(state, "admin.kubeconfig");
export const kwokSh = join(repoRoot, "test/cluster/kwok.sh");
export const sweepEnv = join(repoRoot, "bench/lib/sweep-env.sh");
export const log = (m: string) =>
  process.stderr.write(`[bench sweep ${new Date().toISOString().slice(11, 19)}] ${m}\n`);

export async function sh(
  file: string,
  args: string[],
  env: NodeJS.ProcessEnv = {},
): Promise<string> {
  const r = await execFileAsync("bash", [file, ...args], {
    encoding: "utf8",
    env: { ...process.env, ...env },
    maxBuffer: 64 << 20,
  });
  return r.stdout;
}

export async function kubectl(args: string[], input?: string): Promise<string> {
  const child = execFileAsync(join(bin, "kubectl"), ["--kubeconfig", adminKubeconfig, ...args], {
    encoding: "utf8",
    maxBuffer: 256 << 20,
  });
  if (input !== undefined) child.child.stdin?.end(input);
  return (await child).stdout;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Objects created at once by the set-up (BENCH_SWEEP_CREATES, default 32): `kubectl create` sends a
 * List's items one at a time, so one kubectl made 20,000 workloads in 18 min; this many kubectl
 * processes, each given an equal share, keep this many creates in flight.
 */
export const CREATES_IN_FLIGHT = Number(process.env.BENCH_SWEEP_CREATES ?? 32);

/** Creates `items` with CREATES_IN_FLIGHT kubectl processes, each sending its share in order. */
export async function createConcurrently(items: readonly object[]): Promise<void> {
  const parts = Math.max(1, Math.min(CREATES_IN_FLIGHT, items.length));
  // Interleaved shares: each process starts at the front, so objects listed first (Deployments)
  // are all created early.
  const shares = Array.from({ length: parts }, (_, p) => items.filter((_, i) => i % parts === p));
  await Promise.all(
    shares.map((share) =>
      kubectl(
        ["create", "-f", "-"],
        JSON.stringify({ apiVersion: "v1", kind: "List", items: share }),
      ),
    ),
  );
}

/**
 * Requests the API server saw from the controller: APF's dispatched count for the controller's own
 * FlowSchema (every request but pods/log, which is long-running and bypasses APF), plus the
 * server's pods/log count (all users: a concurrent test reading logs would add to it). Besides,
 * for where the server's CPU goes: every request it served by `verb resource[/subresource]` (all
 * users: the controller, kwok, the controller-manager), and the watch events it sent by kind with
 * their bytes.
 */
export async function serverCount(): Promise<{
  flow: number;
  logs: number;
  byVerb: Record<string, number>;
  watchEvents: Record<string, number>;
  watchEventBytes: Record<string, number>;
}> {
  const text = await kubectl(["get", "--raw", "/metrics"]);
  let flow = 0;
  let logs = 0;
  const byVerb: Record<string, number> = {};
  const watchEvents: Record<string, number> = {};
  const watchEventBytes: Record<string, number> = {};
  const value = (line: string) => Number(line.slice(line.lastIndexOf(" ") + 1));
  const label = (line: string, name: string) =>
    new RegExp(`[{,]${name}="([^"]*)"`).exec(line)?.[1] ?? "";
  const add = (to: Record<string, number>, key: string, n: number) => {
    to[key] = (to[key] ?? 0) + n;
  };
  for (const line of text.split("\n")) {
    if (
      line.startsWith("apiserver_flowcontrol_dispatched_requests_total{") &&
      line.includes(`flow_schema="${FLOW_SCHEMA}"`)
    ) {
      flow += value(line);
    } else if (line.startsWith("apiserver_request_total{")) {
      const sub = label(line, "subresource");
      add(
        byVerb,
        // The answer's code when it is not a success (a DELETE of a pod already gone: 404).
        `${label(line, "verb")} ${label(line, "resource")}${sub ? `/${sub}` : ""}${/^2/.test(label(line, "code")) ? "" : ` ${label(line, "code")}`}`,
        value(line),
      );
      if (label(line, "resource") === "pods" && sub === "log") logs += value(line);
    } else if (line.startsWith("apiserver_watch_events_total{")) {
      add(watchEvents, label(line, "kind") || label(line, "resource"), value(line));
    } else if (line.startsWith("apiserver_watch_events_sizes_sum{")) {
      add(watchEventBytes, label(line, "kind") || label(line, "resource"), value(line));
    }
  }
  return { flow, logs, byVerb, watchEvents, watchEventBytes };
}

/** `after - before` per key, the keys that grew only. */
export function countDiff(
  before: Record<string, number>,
  after: Record<string, number>,
): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(after)) {
    const d = v - (before[k] ?? 0);
    if (d > 0) out[k] = Math.round(d);
  }
  return out;
}

/** CPU seconds used so far by the cluster's processes (utime + stime from /proc). */
export function clusterCpu(): Record<string, number> {
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
 * CPU seconds the whole machine has been busy so far (every core: /proc/stat's first line, all but
 * idle and iowait): diffed around a run, minus the cluster's and the controller's own, it is what
 * other work (other sessions' tests on the same cores) took while the run went on.
 */
export function machineBusyCpu(): number {
  const tick = 100; // USER_HZ on Linux
  const first = readFileSync("/proc/stat", "utf8").split("\n")[0] ?? "";
  const f = first.trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal
  const busy = (f[0] ?? 0) + (f[1] ?? 0) + (f[2] ?? 0) + (f[5] ?? 0) + (f[6] ?? 0) + (f[7] ?? 0);
  return busy / tick;
}

/**
 * kwok and the fake nodes are shared (test/cluster/kwok.sh): when someone else is using them, wait
 * rather than take them away; give up after BENCH_SWEEP_WAIT_MIN minutes (default 30).
 */
export async function waitForKwokFree(): Promise<void> {
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

export const fakeName = (i: number) => `kic-fake-${String(i).padStart(5, "0")}`;

/** Size of fake node objects as the API server returns them (JSON bytes): first, middle, last. */
export async function nodeObjectBytes(n: number): Promise<number[]> {
  const picks = [...new Set([0, Math.floor(n / 2), n - 1])];
  return Promise.all(
    picks.map(async (i) =>
      Buffer.byteLength(await kubectl(["get", "node", fakeName(i), "-o", "json"])),
    ),
  );
}

/** Ordinary pods on fake nodes 0..n-1 (PODS_PER_NODE each), created once and kept Running by kwok. */
const loadPods = new Set<string>();
export async function ensureLoadPods(n: number): Promise<void> {
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
  log(`creating ${missing.length} pods on fake nodes, ${CREATES_IN_FLIGHT} at a time`);
  const t0 = Date.now();
  await createConcurrently(missing);
  log(`  created in ${Math.round((Date.now() - t0) / 1000)} s`);
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

/**
 * WORKLOADS workloads in LOAD_NS (removed with it by sweep-env.sh teardown): suspended CronJobs
 * (three quarters) and Deployments at 0 replicas (one quarter), the cheapest objects whose templates name images, created in
 * Lists of 500. Waits until kube-controller-manager has made the Deployments' ReplicaSets, so
 * every run reads the same number of objects.
 */
export async function ensureWorkloads(): Promise<{
  cronjobs: number;
  deployments: number;
  replicasets: number;
}> {
  const count = async (kind: string) =>
    (await kubectl(["get", kind, "-n", LOAD_NS, "--no-headers", "--chunk-size=500"]))
      .split("\n")
      .filter(Boolean).length;
  // A quarter Deployments: each gets a ReplicaSet from kube-controller-manager, at its 20 requests/s.
  const deployments = Math.floor(WORKLOADS / 4);
  const cronjobs = WORKLOADS - deployments;
  const have = { cronjobs: await count("cronjobs"), deployments: await count("deployments") };
  // Exactly WORKLOAD_IMAGES distinct references (the tag follows the service, not the workload).
  const image = (i: number) => {
    const n = i % WORKLOAD_IMAGES;
    return `registry.example.com/workloads/svc-${String(n).padStart(4, "0")}:v${1 + (n % 3)}`;
  };
  // Deployments first: kube-controller-manager makes their ReplicaSets (at its own 20 requests/s,
  // the slowest part of the set-up) while the CronJobs are still being created.
  const items: object[] = [];
  for (let i = have.deployments; i < deployments; i++) {
    const labels = { app: `deploy-${i}` };
    items.push({
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { name: `deploy-${String(i).padStart(5, "0")}`, namespace: LOAD_NS },
      spec: {
        replicas: 0,
        selector: { matchLabels: labels },
        template: {
          metadata: { labels },
          spec: { containers: [{ name: "c", image: image(cronjobs + i) }] },
        },
      },
    });
  }
  for (let i = have.cronjobs; i < cronjobs; i++) {
    items.push({
      apiVersion: "batch/v1",
      kind: "CronJob",
      metadata: { name: `cron-${String(i).padStart(5, "0")}`, namespace: LOAD_NS },
      spec: {
        schedule: "0 3 * * *",
        suspend: true,
        jobTemplate: {
          spec: {
            template: {
              spec: { restartPolicy: "Never", containers: [{ name: "c", image: image(i) }] },
            },
          },
        },
      },
    });
  }
  if (items.length > 0) {
    log(
      `creating ${items.length} workloads (Deployments at 0 replicas, suspended CronJobs), ${CREATES_IN_FLIGHT} at a time`,
    );
    const t0 = Date.now();
    await createConcurrently(items);
    log(`  created in ${Math.round((Date.now() - t0) / 1000)} s`);
  }
  for (let i = 0; i < 600; i++) {
    const replicasets = await count("replicasets");
    if (replicasets >= deployments) return { cronjobs, deployments, replicasets };
    await sleep(3000);
  }
  throw new Error(`ReplicaSets of ${deployments} Deployments not all made after 30 min`);
}

export async function waitNoHelperPods(): Promise<void> {
  for (let i = 0; i < 600; i++) {
    const left = (await kubectl(["get", "pods", "-n", HELPER_NS, "-o", "name"]))
      .split("\n")
      .filter(Boolean).length;
    if (left === 0) return;
    await sleep(500);
  }
  throw new Error("helper pods of the last run still there after 300 s");
}
