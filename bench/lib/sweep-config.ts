// The sweep's settings, from the BENCH_SWEEP_* variables bench/sweep.ts's header documents: node
// counts, concurrency, repetitions, the canned agent's shape, the controller's Node.js flags, and
// the scenario name they make (which names the results file). A bad value exits 2 at start.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { repoRoot } from "./output.js";

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
export const NODES = numbers("BENCH_SWEEP_NODES", [10, 100, 1000]).sort((a, b) => a - b);
export const CONCURRENCY = numbers("BENCH_SWEEP_CONCURRENCY", [1, 10, 50]).sort((a, b) => a - b);
export const REPS = numbers("BENCH_SWEEP_REPS", [3])[0] ?? 3;
// 0 skips concurrency 1 at N >= 1000 (with a simulated agent time it takes N x that time).
export const SLOW_REPS =
  process.env.BENCH_SWEEP_SLOW_REPS === "0" ? 0 : (numbers("BENCH_SWEEP_SLOW_REPS", [1])[0] ?? 1);
export const IMAGES = numbers("BENCH_SWEEP_IMAGES", [1000])[0] ?? 1000;
export const PODS_PER_NODE = Number(process.env.BENCH_SWEEP_PODS ?? 5);
/**
 * Workloads in the cluster for workload protection to read: three quarters suspended CronJobs, a
 * quarter Deployments at 0 replicas (each with its ReplicaSet, made by kube-controller-manager), naming
 * WORKLOAD_IMAGES distinct images between them. Created once through the API (no pods run).
 */
export const WORKLOADS = Number(process.env.BENCH_SWEEP_WORKLOADS ?? 0);
export const WORKLOAD_IMAGES = Number(process.env.BENCH_SWEEP_WORKLOAD_IMAGES ?? 1000);
export const AGENT_MS = Number(process.env.BENCH_SWEEP_AGENT_MS ?? 0);
export const KEPT = process.env.BENCH_SWEEP_KEPT === "all" ? "all" : "matched";
export const REALISTIC = process.env.BENCH_SWEEP_REALISTIC === "1";
/** The chart's default NODE_OPTIONS for the controller: what an installed controller runs with. */
function chartNodeOptions(): string {
  const values = readFileSync(join(repoRoot, "chart/values.yaml"), "utf8");
  return /^\s*nodeOptions:\s*"([^"]*)"/m.exec(values)?.[1] ?? "";
}
export const CHART_NODE_OPTIONS = chartNodeOptions();
const NODE_OPTIONS_GIVEN = process.env.BENCH_SWEEP_NODE_OPTIONS;
export const NODE_OPTIONS = (
  NODE_OPTIONS_GIVEN === undefined
    ? CHART_NODE_OPTIONS
    : NODE_OPTIONS_GIVEN === "none"
      ? ""
      : NODE_OPTIONS_GIVEN
)
  .split(/\s+/)
  .filter(Boolean);
export const SCENARIO = [
  REALISTIC ? "realistic" : "",
  AGENT_MS > 0 ? `agent${AGENT_MS}ms` : "",
  IMAGES !== 1000 ? `${IMAGES}img` : "",
  KEPT === "all" ? "kept-all" : "",
  WORKLOADS > 0 ? `${WORKLOADS}workloads` : "",
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
