// Workload protection's read alone, in-process: readWorkloadImages over N workload objects served
// in pages of 500 as the API server sends them (JSON text parsed per page, as client-node does), to
// see the controller's CPU and heap for the read without a cluster. The kwok sweep
// (BENCH_SWEEP_WORKLOADS) measures it against the real API server; this one isolates it. Pages are
// made before the clock starts; heap is sampled at each list call (the page before still alive).
//   vite-node bench/workload-read.ts -- [workloads=20000] [images=1000]
import type { WorkloadApi } from "../src/kube/api.js";
import { readWorkloadImages } from "../src/controller/workload-images.js";

const [n = 20_000, distinct = 1000] = process.argv
  .slice(2)
  .filter((a) => a !== "--")
  .map(Number);

/** One Deployment-sized object (labels, annotations, a realistic template) as JSON. */
function workload(i: number, kind: string): object {
  const svc = i % distinct;
  const image = `registry.example.com/workloads/svc-${String(svc).padStart(4, "0")}:v${1 + (svc % 3)}`;
  const template = {
    metadata: { labels: { app: `w-${i}`, tier: "backend" } },
    spec: {
      containers: [
        {
          name: "app",
          image,
          ports: [{ containerPort: 8080 }],
          env: Array.from({ length: 8 }, (_, k) => ({ name: `ENV_${k}`, value: `value-${k}` })),
          resources: { requests: { cpu: "100m", memory: "128Mi" } },
        },
        { name: "sidecar", image: "docker.io/envoyproxy/envoy:v1.31.0" },
      ],
    },
  };
  const metadata = {
    name: `w-${i}`,
    namespace: `ns-${i % 50}`,
    labels: { app: `w-${i}` },
    annotations: { "deployment.kubernetes.io/revision": "3" },
  };
  return kind === "cronjob"
    ? {
        metadata,
        spec: { schedule: "0 3 * * *", suspend: true, jobTemplate: { spec: { template } } },
      }
    : { metadata, spec: { replicas: 0, template } };
}

let peakHeap = 0;

/** The pages of one kind as JSON text, made before the clock starts; served parsed, one a call. */
function kindApi(kind: string, count: number) {
  const pages = new Map<number, string>();
  for (let from = 0; from < count || from === 0; from += 500) {
    const to = Math.min(count, from + 500);
    const items = Array.from({ length: to - from }, (_, k) => workload(from + k, kind));
    pages.set(
      from,
      JSON.stringify({ items, metadata: to < count ? { _continue: String(to) } : {} }),
    );
    if (count === 0) break;
  }
  return (p: { limit?: number; _continue?: string }) => {
    peakHeap = Math.max(peakHeap, process.memoryUsage().heapUsed);
    return Promise.resolve(JSON.parse(pages.get(Number(p._continue ?? 0)) ?? "{}") as unknown);
  };
}

const deployments = Math.floor(n / 4);
const api = {
  listDeploymentForAllNamespaces: kindApi("deployment", deployments),
  listStatefulSetForAllNamespaces: kindApi("statefulset", 0),
  listDaemonSetForAllNamespaces: kindApi("daemonset", 0),
  listReplicaSetForAllNamespaces: kindApi("replicaset", deployments),
  listJobForAllNamespaces: kindApi("job", 0),
  listCronJobForAllNamespaces: kindApi("cronjob", n - deployments),
} as unknown as WorkloadApi;

global.gc?.();
const heap0 = process.memoryUsage().heapUsed;
const cpu0 = process.cpuUsage();
const t0 = performance.now();
peakHeap = heap0;
const out = await readWorkloadImages(api, []);
const cpu = process.cpuUsage(cpu0);
const wallMs = performance.now() - t0;
global.gc?.();
const kept = process.memoryUsage().heapUsed - heap0;
const listBytes = Buffer.byteLength(
  JSON.stringify(out.protect.map((p) => ({ ref: p.ref, ...p.neededBy }))),
);
console.log(
  JSON.stringify({
    workloads: out.workloads,
    requests: out.requests,
    images: out.protect.length,
    wallMs: Math.round(wallMs),
    cpuMs: Math.round((cpu.user + cpu.system) / 1000),
    peakHeapAboveStartMiB: Math.round(((peakHeap - heap0) / 2 ** 20) * 10) / 10,
    retainedHeapMiB: Math.round((kept / 2 ** 20) * 10) / 10,
    protectListKiB: Math.round(listBytes / 1024),
    rssMiB: Math.round(process.memoryUsage().rss / 2 ** 20),
  }),
);
