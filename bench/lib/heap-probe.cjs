// Preloaded into the controller for a heap diagnosis (not part of any default run):
//   BENCH_SWEEP_NODE_OPTIONS="--max-old-space-size=96 --max-semi-space-size=1 --require ./bench/lib/heap-probe.cjs"
//   BENCH_HEAP_FILE=/tmp/heap.jsonl BENCH_HEAP_EVERY=100 BENCH_HEAP_SNAPSHOT_AT=200,800
// Every BENCH_HEAP_EVERY nodes done (read from the controller's own JSON node records, which pino
// writes with fs.writeSync on fd 1) it runs a full garbage collection and appends the live heap to
// $BENCH_HEAP_FILE as one JSON line; at the node counts in BENCH_HEAP_SNAPSHOT_AT it also writes a
// heap snapshot beside that file. Live heap per node done, and what grows between two snapshots,
// then say what the run holds. CommonJS so `--require` loads it before the CLI's modules.
/* eslint-disable @typescript-eslint/no-require-imports -- a --require preload is CommonJS */
"use strict";
const fs = require("node:fs");
const v8 = require("node:v8");
const vm = require("node:vm");
const path = require("node:path");

const file = process.env.BENCH_HEAP_FILE;
if (file) {
  v8.setFlagsFromString("--expose-gc");
  const gc = vm.runInNewContext("gc");
  const every = Number(process.env.BENCH_HEAP_EVERY || 100);
  const snapshots = new Set(
    (process.env.BENCH_HEAP_SNAPSHOT_AT || "").split(",").filter(Boolean).map(Number),
  );
  const t0 = Date.now();
  let next = every;
  const sample = (done, snapshot) => {
    gc();
    const h = v8.getHeapStatistics();
    const m = process.memoryUsage();
    const row = {
      done,
      s: (Date.now() - t0) / 1000,
      heapUsedMB: h.used_heap_size / 1e6,
      heapTotalMB: h.total_heap_size / 1e6,
      externalMB: m.external / 1e6,
      arrayBuffersMB: m.arrayBuffers / 1e6,
      rssMB: m.rss / 1e6,
    };
    if (snapshot) {
      row.snapshot = v8.writeHeapSnapshot(
        path.join(path.dirname(file), `heap-${String(done).padStart(5, "0")}.heapsnapshot`),
      );
    }
    fs.appendFileSync(file, `${JSON.stringify(row)}\n`);
  };
  const write = fs.writeSync;
  fs.writeSync = function patched(fd, data, ...rest) {
    if (fd === 1 && typeof data === "string") {
      const re = /"index":(\d+)/g;
      for (let m = re.exec(data); m !== null; m = re.exec(data)) {
        const done = Number(m[1]);
        const snap = snapshots.has(done);
        if (done >= next || snap) {
          if (done >= next) next = done + every;
          // After the record is out, outside pino's write.
          setImmediate(() => sample(done, snap));
        }
      }
    }
    return write.call(this, fd, data, ...rest);
  };
  // Before any node: the baseline after start-up, the node list and the workload read.
  fs.appendFileSync(file, "");
  process.on("exit", () => {
    gc();
    const h = v8.getHeapStatistics();
    fs.appendFileSync(
      file,
      `${JSON.stringify({ exit: true, heapUsedMB: h.used_heap_size / 1e6 })}\n`,
    );
  });
}
