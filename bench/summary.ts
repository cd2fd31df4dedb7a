// Collects the latest result of each benchmark part (bench/results/*.md) into
// bench/results/summary.md, the page docs/performance.md quotes from.
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { resultsDir } from "./lib/output.js";

const scenarios = readdirSync(resultsDir)
  .filter((f) => /^sweep-.+\.md$/.test(f))
  .map((f) => f.replace(/\.md$/, ""))
  .sort();
const parts = [
  "sweep",
  ...scenarios,
  "node-time",
  "node-time-args",
  "node-time-containerd2",
  "node-time-containerd2-args",
  "agent-containerd",
  "agent-plan",
];
const sections = parts
  .map((p) => join(resultsDir, `${p}.md`))
  .filter((f) => existsSync(f))
  .map((f) => readFileSync(f, "utf8").trim());
const page = `# kube-image-cleanup benchmarks (latest)\n\n${sections.join("\n\n")}\n`;
writeFileSync(join(resultsDir, "summary.md"), page);
process.stdout.write(`summary: ${join(resultsDir, "summary.md")} (${sections.length} parts)\n`);
