// Agent scale against a real runtime: the local cluster's containerd filled with 300+ small locally
// built images, the real agent (node dist/cli.js agent --host-exec direct) run with crictl and with
// ctr: phase durations from its own result record, and every runtime client invocation, counted by
// a wrapper directory first on the agent's PATH that logs each ctr/crictl call and execs the real
// binary.
//   vite-node bench/agent.ts           (bench/run.sh builds bench/results/dist first)
// Environment: BENCH_AGENT_IMAGES (default 320), BENCH_AGENT_REPS (default 3).
// Targets (issue 6): runtime listing O(1) invocations, removal batched.
import { execFileSync } from "node:child_process";
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { AgentResult } from "../src/run-model/agent-result.js";
import {
  bundleOf,
  cacheDir,
  ctrK8s,
  refsWithPrefix,
  removeImages,
  type BenchImage,
} from "./lib/images.js";
import { repoRoot, startReport, table, writeReport } from "./lib/output.js";
import { benchCli, cleanEnv, runCli } from "./lib/proc.js";
import { median, round } from "./lib/stats.js";

const PREFIX = "bench.local/kic-bench/";
const IMAGES = Number(process.env.BENCH_AGENT_IMAGES ?? 320);
const REPS = Number(process.env.BENCH_AGENT_REPS ?? 3);
/** A small and the full size: how the invocation counts grow with the number of images. */
const SIZES = [...new Set([Math.max(20, Math.round(IMAGES / 4)), IMAGES])];
const KEEP = 20; // keep-NN: matched by --exclude
const PROTECTED = 10; // app-000..: passed as --protect
const CLIENTS = ["crictl", "ctr"] as const;
type Client = (typeof CLIENTS)[number];

if (!existsSync(benchCli)) {
  process.stderr.write(`bench: ${benchCli} missing; run through bench/run.sh (it builds it)\n`);
  process.exit(2);
}

const bin = join(cacheDir, "bin");
execFileSync("bash", [join(repoRoot, "test/cluster/up.sh")], {
  stdio: ["ignore", "ignore", "inherit"],
});
const socket = execFileSync("bash", [join(repoRoot, "test/cluster/containerd.sh"), "start"], {
  encoding: "utf8",
  stdio: ["ignore", "pipe", "inherit"],
}).trim();

/** Images of one size: keep-NN first, then app-NNN; every 10th app image has a second tag. */
function imageSet(size: number): BenchImage[] {
  const out: BenchImage[] = [];
  for (let i = 0; i < KEEP; i++)
    out.push({ name: `${PREFIX}keep-${String(i).padStart(2, "0")}:v1`, aliases: [] });
  for (let i = 0; i < size - KEEP; i++) {
    const base = `${PREFIX}app-${String(i).padStart(3, "0")}`;
    out.push({ name: `${base}:v1`, aliases: i % 10 === 0 ? [`${base}:stable`] : [] });
  }
  return out;
}

// The counting wrappers: a directory first on the agent's PATH.
const wrapDir = mkdtempSync(join(tmpdir(), "kic-bench-wrap-"));
const realOf = (name: string) =>
  execFileSync("bash", ["-c", `PATH=${bin}:$PATH command -v ${name}`], { encoding: "utf8" }).trim();
for (const name of ["ctr", "crictl"]) {
  const real = realOf(name);
  const file = join(wrapDir, name);
  writeFileSync(
    file,
    `#!/bin/sh\n# counts one ${name} invocation, then runs the real one\nprintf '%s\\n' "${name} $*" >>"$BENCH_CALLS_FILE"\nexec ${real} "$@"\n`,
  );
  chmodSync(file, 0o755);
}

/** Drops the client's global options: `crictl --runtime-endpoint X ... images -o json` -> `images`. */
function subcommand(line: string): { client: string; command: string } {
  const words = line.split(" ");
  const client = words[0] ?? "?";
  const rest = words.slice(1);
  const valued = new Set([
    "--runtime-endpoint",
    "--image-endpoint",
    "--timeout",
    "--address",
    "--namespace",
    "-n",
    "-o",
  ]);
  const cmd: string[] = [];
  for (let i = 0; i < rest.length; i++) {
    const w = rest[i] ?? "";
    if (valued.has(w)) {
      i++;
      continue;
    }
    if (w.startsWith("-") || w.startsWith("sha256:") || w.includes("/") || w.includes("=="))
      continue;
    cmd.push(w);
    if (client === "crictl" || cmd.length === 2) break;
  }
  return { client, command: `${client} ${cmd.join(" ")}` };
}

type Kind = "connect" | "listing" | "removal" | "per-image";
function kindOf(command: string): Kind {
  if (/ version$/.test(command)) return "connect";
  if (/ (rmi|images rm)$/.test(command)) return "removal";
  if (/ content get$/.test(command)) return "per-image";
  return "listing";
}

interface AgentRun {
  client: Client;
  size: number;
  dryRun: boolean;
  wallMs: number;
  peakRssMiB: number | undefined;
  durationsMs: AgentResult["durationsMs"];
  counts: AgentResult["counts"];
  calls: Record<string, number>;
  byKind: Record<Kind, number>;
  leftAfter: number;
}

async function runAgent(client: Client, size: number, dryRun: boolean): Promise<AgentRun> {
  const callsFile = join(wrapDir, "calls.log");
  writeFileSync(callsFile, "");
  const protect = Array.from(
    { length: PROTECTED },
    (_, i) => `--protect=${PREFIX}app-${String(i).padStart(3, "0")}:v1`,
  );
  const run = await runCli(
    [
      "agent",
      "--host-exec",
      "direct",
      "--socket",
      socket,
      "--client",
      client,
      "--include",
      `${PREFIX}**`,
      "--exclude",
      `${PREFIX}keep-*`,
      ...protect,
      "--log-format",
      "json",
      "--node-name",
      "bench-node",
      ...(dryRun ? ["--dry-run"] : []),
    ],
    cleanEnv({ PATH: `${wrapDir}:${bin}:${process.env.PATH ?? ""}`, BENCH_CALLS_FILE: callsFile }),
  );
  const line = run.stdout
    .split("\n")
    .reverse()
    .find((l) => l.includes('"agent result"'));
  if (line === undefined)
    throw new Error(
      `agent (${client}) printed no result, exit ${run.code}:\n${run.stderr.slice(-2000)}`,
    );
  const result = (JSON.parse(line) as { result: AgentResult }).result;
  const calls: Record<string, number> = {};
  const byKind: Record<Kind, number> = { connect: 0, listing: 0, removal: 0, "per-image": 0 };
  for (const l of readFileSync(callsFile, "utf8").split("\n").filter(Boolean)) {
    const { command } = subcommand(l);
    calls[command] = (calls[command] ?? 0) + 1;
    byKind[kindOf(command)]++;
  }
  return {
    client,
    size,
    dryRun,
    wallMs: round(run.wallMs, 0),
    peakRssMiB: run.peakRssMiB === undefined ? undefined : round(run.peakRssMiB, 1),
    durationsMs: result.durationsMs,
    counts: result.counts,
    calls,
    byKind,
    leftAfter: refsWithPrefix(socket, PREFIX).length,
  };
}

const report = startReport("agent-containerd", {
  runtime: `the local cluster's containerd 1.6 (${socket}), CRI plugin on, namespace k8s.io`,
  images: `locally built (test/cluster/oci-image.mjs --busybox --salt NAME --pad 4096): per size, ${KEEP} keep-NN (matched by --exclude), ${PROTECTED} --protect'ed, the rest deletable; every 10th has a second tag; imported with one ctr import before each run`,
  agent:
    "node --import bench/lib/rss-probe.mjs bench/results/dist/cli.js agent --host-exec direct --log-format json; phase times are the result record's durationsMs; wall is spawn to exit",
  invocations:
    "a wrapper directory first on the agent's PATH: each ctr/crictl call appends one line to a file and execs the real binary; grouped by subcommand, and classed connect (version), listing, removal (rmi / images rm), per-image (ctr content get)",
  repetitions: `${REPS} per client and size; medians`,
});

const runs: AgentRun[] = [];
try {
  for (const size of SIZES) {
    const bundle = bundleOf(imageSet(size));
    for (const client of CLIENTS) {
      for (let rep = 0; rep < REPS; rep++) {
        removeImages(socket, PREFIX);
        const t0 = performance.now();
        ctrK8s(socket, ["images", "import", bundle]);
        process.stderr.write(
          `[bench agent] ${client} ${size} images, rep ${rep + 1}: imported in ${round((performance.now() - t0) / 1000, 1)} s\n`,
        );
        runs.push(await runAgent(client, size, true));
        const real = await runAgent(client, size, false);
        runs.push(real);
        process.stderr.write(
          `[bench agent]   deleted ${real.counts.deleted}, total ${real.durationsMs.total} ms, ${JSON.stringify(real.byKind)}\n`,
        );
      }
    }
  }
} finally {
  removeImages(socket, PREFIX);
  rmSync(wrapDir, { recursive: true, force: true });
}

interface Row {
  client: Client;
  size: number;
  dryRun: boolean;
  deleted: number;
  inventoryMs: number;
  planMs: number;
  executeMs: number;
  totalMs: number;
  wallMs: number;
  peakRssMiB: number;
  byKind: Record<Kind, number>;
  calls: Record<string, number>;
  leftAfter: number;
}
const rows: Row[] = [];
for (const size of SIZES) {
  for (const client of CLIENTS) {
    for (const dryRun of [true, false]) {
      const group = runs.filter(
        (r) => r.client === client && r.size === size && r.dryRun === dryRun,
      );
      const first = group[0];
      if (!first) continue;
      const med = (f: (r: AgentRun) => number) => round(median(group.map(f)), 0);
      rows.push({
        client,
        size,
        dryRun,
        deleted: first.counts.deleted,
        inventoryMs: med((r) => r.durationsMs.inventory),
        planMs: med((r) => r.durationsMs.plan),
        executeMs: med((r) => r.durationsMs.execute),
        totalMs: med((r) => r.durationsMs.total),
        wallMs: med((r) => r.wallMs),
        peakRssMiB: round(median(group.map((r) => r.peakRssMiB ?? Number.NaN)), 1),
        byKind: first.byKind,
        calls: first.calls,
        leftAfter: Math.max(...group.map((r) => r.leftAfter)),
      });
    }
  }
}
report.runs = runs;
report.summary = rows;

const big = SIZES[SIZES.length - 1] ?? IMAGES;
const small = SIZES[0] ?? IMAGES;
const growth = (client: Client, kind: Kind) => {
  const a =
    rows.find((r) => r.client === client && r.size === small && !r.dryRun)?.byKind[kind] ?? 0;
  const b = rows.find((r) => r.client === client && r.size === big && !r.dryRun)?.byKind[kind] ?? 0;
  return { small: a, big: b };
};
for (const client of CLIENTS) {
  const listing = growth(client, "listing");
  const removal = growth(client, "removal");
  const perImage = growth(client, "per-image");
  const deleted =
    rows.find((r) => r.client === client && r.size === big && !r.dryRun)?.deleted ?? 0;
  report.targets.push({
    name: `${client}: listing invocations independent of image count (O(1))`,
    target: "same count at both sizes",
    measured: `${listing.small} at ${small} images, ${listing.big} at ${big}`,
    met: listing.small === listing.big,
  });
  report.targets.push({
    name: `${client}: removal batched`,
    target: "far fewer removal calls than images",
    measured: `${removal.big} removal calls for ${deleted} images${perImage.big > 0 ? `; plus ${perImage.big} per-image calls (${perImage.small} at ${small})` : ""}`,
    met: removal.big * 10 <= deleted && perImage.big <= perImage.small,
  });
}

/** Names of bench images that should still be there after a run: all (dry run), else kept ones. */
function expectedLeft(size: number, dryRun: boolean): number {
  const kept = (i: BenchImage) =>
    dryRun ||
    i.name.includes("/keep-") ||
    Number(/app-(\d+)/.exec(i.name)?.[1] ?? PROTECTED) < PROTECTED;
  return imageSet(size)
    .filter(kept)
    .reduce((n, i) => n + 1 + i.aliases.length, 0);
}

const callTable = (client: Client) => {
  const commands = [
    ...new Set(rows.filter((r) => r.client === client).flatMap((r) => Object.keys(r.calls))),
  ].sort();
  const cols = rows.filter((r) => r.client === client);
  return table(
    ["invocation", ...cols.map((r) => `${r.size} img${r.dryRun ? " dry" : ""}`)],
    commands.map((c) => [c, ...cols.map((r) => r.calls[c] ?? 0)]),
  );
};

writeReport(
  report,
  [
    table(
      [
        "client",
        "images",
        "run",
        "deleted",
        "inventory ms",
        "plan ms",
        "execute ms",
        "agent total ms",
        "process wall ms",
        "peak RSS MiB",
        "calls: listing / removal / per-image / connect",
        "unexpected left",
      ],
      rows.map((r) => [
        r.client,
        r.size,
        r.dryRun ? "dry-run" : "delete",
        r.deleted,
        r.inventoryMs,
        r.planMs,
        r.executeMs,
        r.totalMs,
        r.wallMs,
        r.peakRssMiB,
        `${r.byKind.listing} / ${r.byKind.removal} / ${r.byKind["per-image"]} / ${r.byKind.connect}`,
        r.leftAfter - expectedLeft(r.size, r.dryRun),
      ]),
    ),
    "",
    `("unexpected left": references of bench images still present beyond the expected ones; 0 = the agent removed exactly what it planned.)`,
    "",
    "crictl invocations by subcommand:",
    "",
    callTable("crictl"),
    "",
    "ctr invocations by subcommand:",
    "",
    callTable("ctr"),
  ].join("\n"),
);
