// Preloaded into a measured Node.js process (`node --import bench/lib/rss-probe.mjs ...`): at exit it
// writes the process's peak resident set size (getrusage ru_maxrss, KiB) to $BENCH_RSS_FILE. The name
// has no KIC_ prefix on purpose: the CLI reads KIC_* variables as options.
import { writeFileSync } from "node:fs";
import process from "node:process";

const file = process.env.BENCH_RSS_FILE;
if (file) {
  process.on("exit", () => {
    writeFileSync(file, `${process.resourceUsage().maxRSS}\n`);
  });
}
