// Preloaded into a measured Node.js process (`node --import bench/lib/rss-probe.mjs ...`): at exit it
// writes the process's peak resident set size (getrusage ru_maxrss, KiB) and its CPU time (ms) to
// $BENCH_RSS_FILE as JSON. The name has no KIC_ prefix on purpose: the CLI reads KIC_* variables as
// options.
import { writeFileSync } from "node:fs";
import process from "node:process";

const file = process.env.BENCH_RSS_FILE;
if (file) {
  process.on("exit", () => {
    const u = process.resourceUsage();
    writeFileSync(
      file,
      `${JSON.stringify({ maxRssKiB: u.maxRSS, userMs: u.userCPUTime / 1000, systemMs: u.systemCPUTime / 1000 })}\n`,
    );
  });
}
