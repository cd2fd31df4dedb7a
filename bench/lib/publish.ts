// Publishing a benchmark run: the latest result of a benchmark (bench/results/NAME.json and .md)
// copied to bench/published/<date>-NAME.{json,md}, committed with the README change that quotes it,
// so every figure in the README can be traced to its run: machine, command and settings, every
// repetition. A result that does not say how it was run is refused, and so is one that would replace
// a different run already published under the same name (that file is quoted somewhere): give it a
// label of its own (`NAME:LABEL` -> <date>-NAME-LABEL).
import { copyFileSync, existsSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { repoRoot, resultsDir, type BenchReport } from "./output.js";

export const publishedDir = join(repoRoot, "bench", "published");

/**
 * Copies one result; returns the published JSON and markdown paths. `spec` is the result's name,
 * optionally with `:LABEL` for the published name (`sweep-agent2500ms:5000n` ->
 * <date>-sweep-agent2500ms-5000n).
 */
export function publish(spec: string, from = resultsDir, to = publishedDir): [string, string] {
  const [name = "", label] = spec.split(":", 2);
  if (label !== undefined && !/^[a-z0-9][a-z0-9-]*$/.test(label))
    throw new Error(`label '${label}' in '${spec}': use lower-case letters, digits and dashes`);
  const json = join(from, `${name}.json`);
  const md = join(from, `${name}.md`);
  for (const f of [json, md])
    if (!existsSync(f)) throw new Error(`no ${f}: run the benchmark first (npm run bench)`);
  const report = JSON.parse(readFileSync(json, "utf8")) as Partial<BenchReport>;
  if (typeof report.run?.command !== "string" || !report.finishedAt || !report.machine)
    throw new Error(
      `${json} does not say how it was run (run.command, finishedAt, machine): run the benchmark again`,
    );
  const stem = `${report.finishedAt.slice(0, 10)}-${name}${label === undefined ? "" : `-${label}`}`;
  mkdirSync(to, { recursive: true });
  const out: [string, string] = [join(to, `${stem}.json`), join(to, `${stem}.md`)];
  if (existsSync(out[0]) && readFileSync(out[0], "utf8") !== readFileSync(json, "utf8"))
    throw new Error(
      `${out[0]} holds another run already (docs may quote it): publish this one under a label, ${name}:LABEL`,
    );
  copyFileSync(json, out[0]);
  copyFileSync(md, out[1]);
  return out;
}
