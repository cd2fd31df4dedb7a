// Publishing a benchmark run: the latest result of a benchmark (bench/results/NAME.json and .md)
// copied to bench/published/<date>-NAME.{json,md}, committed with the README change that quotes it,
// so every figure in the README can be traced to its run: machine, command and settings, every
// repetition. A result that does not say how it was run is refused.
import { copyFileSync, existsSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { repoRoot, resultsDir, type BenchReport } from "./output.js";

export const publishedDir = join(repoRoot, "bench", "published");

/** Copies one result; returns the published JSON and markdown paths. */
export function publish(name: string, from = resultsDir, to = publishedDir): [string, string] {
  const json = join(from, `${name}.json`);
  const md = join(from, `${name}.md`);
  for (const f of [json, md])
    if (!existsSync(f)) throw new Error(`no ${f}: run the benchmark first (npm run bench)`);
  const report = JSON.parse(readFileSync(json, "utf8")) as Partial<BenchReport>;
  if (typeof report.run?.command !== "string" || !report.finishedAt || !report.machine)
    throw new Error(
      `${json} does not say how it was run (run.command, finishedAt, machine): run the benchmark again`,
    );
  const stem = `${report.finishedAt.slice(0, 10)}-${name}`;
  mkdirSync(to, { recursive: true });
  const out: [string, string] = [join(to, `${stem}.json`), join(to, `${stem}.md`)];
  copyFileSync(json, out[0]);
  copyFileSync(md, out[1]);
  return out;
}
