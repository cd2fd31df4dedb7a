// Agent scale, pure part: how long the plan (src/agent/plan.ts) takes for a big node, in CPU time.
//   vite-node bench/plan.ts            the full benchmark (writes bench/results/agent-plan.json)
//   vite-node bench/plan.ts -- --cold  one measurement in a fresh process, printed as JSON
// Target (issue 6): 5,000 images / 1,000 containers / 200 sandboxes in <= 200 ms of CPU.
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { planDeletions, type PlanOptions } from "../src/agent/plan.js";
import { compilePatterns } from "../src/config/patterns.js";
import { repoRoot, startReport, table, writeReport } from "./lib/output.js";
import { growthExponent, fitLine, median, round } from "./lib/stats.js";
import { syntheticInventory, type InventoryShape } from "./lib/synthetic-inventory.js";

const TARGET_MS = 200;
const TARGET_SHAPE: InventoryShape = {
  images: 5000,
  containers: 1000,
  sandboxes: 200,
  protect: 300,
};
const WARM_REPS = 9;
const COLD_PROCESSES = 5;
const SIZES = [1000, 2500, 5000, 10_000, 20_000];

const options = (protect: string[]): PlanOptions => ({
  include: compilePatterns(
    "--include",
    [
      "registry.example.com/**",
      "docker.io/acme/*",
      "ghcr.io/**/app-1*",
      "*.dkr.ecr.*.amazonaws.com/data/**",
    ],
    "include",
  ),
  exclude: compilePatterns("--exclude", ["registry.example.com/infra/**", "**/app-7:*"], "exclude"),
  protect,
  minAgeSeconds: 7 * 86_400,
  nowMs: Date.now(),
});

interface Sample {
  cpuMs: number;
  wallMs: number;
  matched: number;
  deleted: number;
  kept: number;
}

function measure(shape: InventoryShape): Sample {
  const { inventory, protect } = syntheticInventory(shape);
  const opts = options(protect);
  const wall0 = performance.now();
  const cpu0 = process.cpuUsage();
  const plan = planDeletions(inventory, opts);
  const cpu = process.cpuUsage(cpu0);
  const wallMs = performance.now() - wall0;
  return {
    cpuMs: (cpu.user + cpu.system) / 1000,
    wallMs,
    matched: plan.matched,
    deleted: plan.delete.length,
    kept: plan.kept.length,
  };
}

if (process.argv.includes("--cold")) {
  process.stdout.write(`${JSON.stringify(measure(TARGET_SHAPE))}\n`);
  process.exit(0);
}

const report = startReport("agent-plan", {
  cpu: "process.cpuUsage() (user + system) around one planDeletions() call; the inventory is built before the clock starts",
  cold: `first call in a fresh process (what the agent does: it plans once), ${COLD_PROCESSES} processes, median`,
  warm: `median of ${WARM_REPS} calls after one warm-up call in the same process`,
  inventory:
    "synthetic, seeded (bench/lib/synthetic-inventory.ts): 5 registries, 8 teams, 1-3 tags + a repo digest per image, 1% pinned; containers by id+name or repo digest; 300 protected refs; 4 include, 2 exclude patterns; --min-age 7d",
});

const cold: Sample[] = [];
for (let i = 0; i < COLD_PROCESSES; i++) {
  const out = execFileSync(
    join(repoRoot, "node_modules/.bin/vite-node"),
    [join(repoRoot, "bench/plan.ts"), "--", "--cold"],
    {
      encoding: "utf8",
    },
  );
  cold.push(JSON.parse(out.trim().split("\n").pop() ?? "{}") as Sample);
}

const scale: {
  images: number;
  containers: number;
  sandboxes: number;
  warmCpuMs: number;
  warmWallMs: number;
  matched: number;
  deleted: number;
}[] = [];
for (const images of SIZES) {
  const shape: InventoryShape = {
    images,
    containers: images / 5,
    sandboxes: images / 25,
    protect: 300,
  };
  measure(shape); // warm-up
  const samples = Array.from({ length: WARM_REPS }, () => measure(shape));
  const last = samples[samples.length - 1];
  scale.push({
    ...shape,
    warmCpuMs: round(median(samples.map((s) => s.cpuMs)), 2),
    warmWallMs: round(median(samples.map((s) => s.wallMs)), 2),
    matched: last?.matched ?? 0,
    deleted: last?.deleted ?? 0,
  });
}

const coldCpu = round(median(cold.map((s) => s.cpuMs)), 1);
const target = scale.find((s) => s.images === TARGET_SHAPE.images);
const points = scale.map((s) => ({ x: s.images, y: s.warmCpuMs }));
const line = fitLine(points);
const exponent = growthExponent(points);
report.cold = { shape: TARGET_SHAPE, samples: cold, medianCpuMs: coldCpu };
report.scale = scale;
report.growth = {
  cpuMsPer1000Images: round(line.slope * 1000, 2),
  r2: round(line.r2, 4),
  exponent: round(exponent, 2),
};
report.targets.push({
  name: "plan CPU, 5,000 images / 1,000 containers / 200 sandboxes (cold, as the agent runs it)",
  target: `<= ${TARGET_MS} ms`,
  measured: `${coldCpu} ms (warm ${target?.warmCpuMs ?? "?"} ms)`,
  met: coldCpu <= TARGET_MS,
});

writeReport(
  report,
  [
    `Plan of ${TARGET_SHAPE.images} images / ${TARGET_SHAPE.containers} containers / ${TARGET_SHAPE.sandboxes} sandboxes: ` +
      `**${coldCpu} ms CPU cold** (median of ${COLD_PROCESSES} fresh processes: ${cold.map((s) => round(s.cpuMs, 0)).join(", ")}), ` +
      `${target?.warmCpuMs ?? "?"} ms warm; ${cold[0]?.matched ?? "?"} matched, ${cold[0]?.deleted ?? "?"} to delete.`,
    "",
    table(
      [
        "images",
        "containers",
        "sandboxes",
        "CPU ms (warm median)",
        "wall ms",
        "matched",
        "to delete",
      ],
      scale.map((s) => [
        s.images,
        s.containers,
        s.sandboxes,
        s.warmCpuMs,
        s.warmWallMs,
        s.matched,
        s.deleted,
      ]),
    ),
    "",
    `Growth: ${round(line.slope * 1000, 2)} ms CPU per 1,000 images (linear fit, R² ${round(line.r2, 3)}); ` +
      `log-log exponent ${round(exponent, 2)} (1 = linear).`,
  ].join("\n"),
);
