// Where benchmark results go: bench/results/<name>.json (machine-readable, latest run) beside
// bench/results/<name>.md (the short human table, also printed), and a timestamped copy of the JSON
// in bench/results/history/. bench/results/ is git-ignored; a run the README quotes is copied to
// bench/published/ by bench/publish.ts. Every report says how to run it again (`run.command`).
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describeMachine, machineLine, type Machine } from "./machine.js";

export const repoRoot = join(import.meta.dirname, "..", "..");
export const resultsDir = join(repoRoot, "bench", "results");

export interface BenchReport {
  benchmark: string;
  startedAt: string;
  finishedAt: string;
  machine: Machine;
  /** How each figure was measured, in words: what is counted and where. */
  method: Record<string, string>;
  /** How this run was started: the command and every BENCH_/KIC_ setting it was given. */
  run: BenchRun;
  targets: { name: string; target: string; measured: string; met: boolean | null }[];
  [key: string]: unknown;
}

export interface BenchRun {
  /** The command that repeats this run, settings included. */
  command: string;
  /** BENCH_* and KIC_* variables given (unset ones took the defaults the method describes). */
  environment: Record<string, string>;
}

/** The part of `npm run bench` (bench/run.sh) that writes each benchmark. */
export function benchPart(benchmark: string): string {
  if (benchmark.startsWith("sweep")) return "sweep";
  if (benchmark.startsWith("node-time")) return "node-time";
  return benchmark === "agent-plan" ? "plan" : "agent";
}

/** The run's command line: `BENCH_X=1 npm run bench -- part`, from the environment. */
export function describeRun(benchmark: string, env: NodeJS.ProcessEnv = process.env): BenchRun {
  const environment = Object.fromEntries(
    Object.entries(env)
      .filter((e): e is [string, string] => /^(BENCH|KIC)_/.test(e[0]) && e[1] !== undefined)
      .filter(([k]) => k !== "BENCH_CALLS_FILE")
      .sort(([a], [b]) => a.localeCompare(b)),
  );
  const assignments = Object.entries(environment).map(([k, v]) => `${k}=${shellWord(v)}`);
  return {
    command: [...assignments, "npm run bench --", benchPart(benchmark)].join(" "),
    environment,
  };
}

const shellWord = (v: string): string =>
  /^[\w.,:/=@+-]+$/.test(v) ? v : `'${v.replace(/'/g, "'\\''")}'`;

export function startReport(benchmark: string, method: Record<string, string>): BenchReport {
  return {
    benchmark,
    startedAt: new Date().toISOString(),
    finishedAt: "",
    machine: describeMachine(),
    method,
    run: describeRun(benchmark),
    targets: [],
  };
}

/** A markdown table; numbers are printed as given (round them first). */
export type Cell = string | number | boolean | null | undefined;

export function table(headers: readonly string[], rows: readonly (readonly Cell[])[]): string {
  const text = rows.map((r) => r.map((c) => (c === undefined || c === null ? "-" : String(c))));
  const lines = [
    `| ${headers.join(" | ")} |`,
    `|${headers.map(() => "---").join("|")}|`,
    ...text.map((r) => `| ${r.join(" | ")} |`),
  ];
  return lines.join("\n");
}

export function targetsTable(report: BenchReport): string {
  return table(
    ["target", "wanted", "measured", "met"],
    report.targets.map((t) => [
      t.name,
      t.target,
      t.measured,
      t.met === null ? "n/a" : t.met ? "yes" : "NO",
    ]),
  );
}

/** Writes the JSON and the markdown, prints the markdown, returns the JSON path. */
export function writeReport(report: BenchReport, markdownBody: string): string {
  report.finishedAt = new Date().toISOString();
  mkdirSync(join(resultsDir, "history"), { recursive: true });
  const json = `${JSON.stringify(report, null, 2)}\n`;
  const file = join(resultsDir, `${report.benchmark}.json`);
  writeFileSync(file, json);
  writeFileSync(
    join(
      resultsDir,
      "history",
      `${report.benchmark}-${report.startedAt.replace(/[:.]/g, "-")}.json`,
    ),
    json,
  );
  const md = [
    `## ${report.benchmark} (${report.finishedAt})`,
    "",
    `Machine: ${machineLine(report.machine)}`,
    "",
    `Run: \`${report.run.command}\``,
    "",
    markdownBody,
    "",
    report.targets.length > 0 ? `Targets:\n\n${targetsTable(report)}\n` : "",
    "How measured:",
    ...Object.entries(report.method).map(([k, v]) => `- ${k}: ${v}`),
    "",
  ].join("\n");
  writeFileSync(join(resultsDir, `${report.benchmark}.md`), md);
  process.stdout.write(`${md}\nwritten: ${file}\n`);
  return file;
}
