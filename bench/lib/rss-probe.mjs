// Preloaded into a measured Node.js process (`node --import bench/lib/rss-probe.mjs ...`): at exit it
// writes the process's peak resident set size (getrusage ru_maxrss, KiB), its CPU time (ms) and its
// heap figures to $BENCH_RSS_FILE as JSON. The heap: the largest V8 heap size (what it reserved),
// and the largest heap in use seen just after a full (mark-compact) collection, the closest to
// "live heap" a process can see without forcing collections itself; with the count of them. The
// name has no KIC_ prefix on purpose: the CLI reads KIC_* variables as options.
import { writeFileSync } from "node:fs";
import { constants, PerformanceObserver } from "node:perf_hooks";
import process from "node:process";
import v8 from "node:v8";

const file = process.env.BENCH_RSS_FILE;
if (file) {
  let heapTotal = 0;
  let liveAfterMajorGc = 0;
  let majorGcs = 0;
  const sample = () => {
    const h = v8.getHeapStatistics();
    heapTotal = Math.max(heapTotal, h.total_heap_size);
    return h;
  };
  const gcs = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      if (entry.detail?.kind !== constants.NODE_PERFORMANCE_GC_MAJOR) continue;
      majorGcs++;
      liveAfterMajorGc = Math.max(liveAfterMajorGc, sample().used_heap_size);
    }
  });
  gcs.observe({ entryTypes: ["gc"] });
  setInterval(sample, 500).unref();
  process.on("exit", () => {
    sample();
    const u = process.resourceUsage();
    writeFileSync(
      file,
      `${JSON.stringify({
        maxRssKiB: u.maxRSS,
        userMs: u.userCPUTime / 1000,
        systemMs: u.systemCPUTime / 1000,
        heapTotalKiB: Math.round(heapTotal / 1024),
        liveAfterMajorGcKiB: Math.round(liveAfterMajorGc / 1024),
        majorGcs,
      })}\n`,
    );
  });
}
