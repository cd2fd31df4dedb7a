// Where the simulated cluster's CPU goes, by function: `perf record -g` samples of the Go processes
// (kube-apiserver, etcd, kwok, kube-controller-manager), whose binaries are stripped, named with
// `go tool addr2line` (the Go symbol table survives stripping). Pure parts here, the commands in
// bench/cluster-profile.ts.

/** One sample: the process and its stack, innermost frame first, as (address, binary) pairs. */
export interface PerfSample {
  comm: string;
  frames: { addr: number; dso: string }[];
}

/**
 * Parses `perf script -F comm,pid,ip,dso` of a `perf record -g`: a header line per sample, then
 * one indented `<hex address> (<binary>)` line per frame, a blank line between samples.
 */
export function parsePerfScript(text: string): PerfSample[] {
  const samples: PerfSample[] = [];
  let current: PerfSample | undefined;
  for (const line of text.split("\n")) {
    if (line.trim() === "") {
      if (current !== undefined) samples.push(current);
      current = undefined;
      continue;
    }
    if (!/^\s/.test(line)) {
      current = { comm: line.trim().split(/\s+/)[0] ?? "?", frames: [] };
      continue;
    }
    const m = /^\s*([0-9a-f]+)\s+\((.*)\)\s*$/.exec(line);
    if (m !== null && current !== undefined)
      current.frames.push({ addr: Number.parseInt(m[1] ?? "0", 16), dso: m[2] ?? "" });
  }
  if (current !== undefined) samples.push(current);
  return samples;
}

/**
 * perf reports a static (non-PIE) Go binary's addresses relative to its file; its text is mapped at
 * 0x400000, which is what addr2line wants.
 */
export const GO_LOAD_ADDRESS = 0x400000;

/** What a sample serves: the outermost frame that matches decides (request handler, loop). */
export const SERVES: readonly (readonly [string, RegExp])[] = [
  ["GC (background)", /^runtime\.(gcBgMarkWorker|bgsweep|bgscavenge)/],
  ["watch: encode + write to each watcher", /serveWatch|WatchServer\)\.(ServeHTTP|HandleHTTP)/],
  ["watch cache: dispatch to watchers", /storage\/cacher\.|cacheWatcher/],
  ["etcd3 watch into the cache", /storage\/etcd3\.\(\*watchChan\)/],
  ["create (POST)", /handlers\.(createHandler|CreateResource|CreateNamedResource)/],
  ["patch (PATCH)", /handlers\.PatchResource|handlers\.\(\*patcher\)/],
  ["update (PUT)", /handlers\.UpdateResource/],
  ["delete (DELETE)", /handlers\.DeleteResource/],
  ["list (LIST)", /handlers\.ListResource/],
  ["get (GET)", /handlers\.GetResource/],
  ["connect (pods/log)", /handlers\.ConnectResource/],
  ["HTTP/2 + TLS transport", /x\/net\/http2|net\/http\.\(\*http2|crypto\/tls/],
  ["kwok", /sigs\.k8s\.io\/kwok/],
  ["client-go informers", /client-go\/tools\/cache/],
  ["etcd server", /go\.etcd\.io\/etcd\/server/],
  ["bbolt", /bbolt/],
  ["raft", /go\.etcd\.io\/raft/],
];

/**
 * What the innermost code is: the innermost frame that matches decides. Go runtime helpers that
 * are not the collector (memmove, map access) match nothing, so their time counts for the code
 * that called them.
 */
export const DOES: readonly (readonly [string, RegExp])[] = [
  [
    "GC / allocation",
    /^runtime\.(mallocgc|gc[A-Z]|gcDrain|scan|greyobject|findObject|tryDeferToSpanScan|markBits|heapBits|sweep|wbBuf|bulkBarrier|mark|spanOf|nextFree|newobject|makeslice|growslice|deductAssist|extractHeapBits|\(\*mspan\)|\(\*mheap\)|\(\*mcache\)|\(\*mcentral\)|\(\*spanSet\)|\(\*gcWork\))|^internal\/runtime\/gc/,
  ],
  ["TLS / crypto", /^crypto\//],
  ["syscalls / kernel", /^syscall\.|^internal\/poll|^\[kernel|^\[\[kernel/],
  ["JSON", /json/i],
  ["protobuf", /protobuf|MarshalToSizedBuffer|\.Unmarshal$|\.Marshal$|\.Size$/],
  ["managedFields (server-side apply)", /fieldmanager|structured-merge-diff/],
  ["CEL / admission", /cel-go|\/cel\/|admission/],
];

/** The Go runtime's own frames (what a stack of nothing else is counted as). */
const RUNTIME_HELPER = /^runtime\.|^internal\/runtime\/|^aeshash|^memeqbody|^indexbytebody/;

export function classify(
  names: readonly string[],
  table: readonly (readonly [string, RegExp])[],
  outermostFirst: boolean,
): string {
  const order = outermostFirst ? [...names].reverse() : names;
  for (const name of order) for (const [label, rx] of table) if (rx.test(name)) return label;
  // Innermost first, a runtime helper matches nothing and its callers decide; a stack of nothing
  // that matches, run by the runtime itself (scheduling, stacks), is its own.
  if (!outermostFirst && RUNTIME_HELPER.test(names[0] ?? ""))
    return "Go runtime (scheduler, stacks)";
  return "other";
}

export interface ProcessProfile {
  comm: string;
  samples: number;
  serves: [string, number][];
  does: [string, number][];
  self: [string, number][];
}

/** Per process: samples by what they serve, by innermost code, and the top functions (self). */
export function summarise(
  samples: readonly PerfSample[],
  nameOf: (addr: number, dso: string) => string,
  top = 25,
): ProcessProfile[] {
  const byComm = new Map<string, PerfSample[]>();
  for (const s of samples) {
    if (s.frames.length === 0) continue;
    const list = byComm.get(s.comm) ?? [];
    list.push(s);
    byComm.set(s.comm, list);
  }
  const count = (m: Map<string, number>, k: string) => m.set(k, (m.get(k) ?? 0) + 1);
  const sorted = (m: Map<string, number>, n = Infinity) =>
    [...m].sort((a, b) => b[1] - a[1]).slice(0, n);
  return [...byComm]
    .map(([comm, list]) => {
      const serves = new Map<string, number>();
      const does = new Map<string, number>();
      const self = new Map<string, number>();
      for (const s of list) {
        const names = s.frames.map((f) => nameOf(f.addr, f.dso));
        count(serves, classify(names, SERVES, true));
        count(does, classify(names, DOES, false));
        count(self, names[0] ?? "?");
      }
      return {
        comm,
        samples: list.length,
        serves: sorted(serves),
        does: sorted(does),
        self: sorted(self, top),
      };
    })
    .sort((a, b) => b.samples - a.samples);
}

/** The summary as text: shares of each process's samples. */
export function formatProfiles(profiles: readonly ProcessProfile[]): string {
  const pct = (n: number, of: number) => `${((100 * n) / of).toFixed(1).padStart(5)}%`;
  const out: string[] = [];
  for (const p of profiles) {
    out.push(`== ${p.comm}: ${String(p.samples)} samples`);
    out.push("  by what it serves (outermost frame that matches):");
    for (const [k, v] of p.serves) out.push(`    ${pct(v, p.samples)}  ${k}`);
    out.push("  by innermost code:");
    for (const [k, v] of p.does) out.push(`    ${pct(v, p.samples)}  ${k}`);
    out.push("  self, top functions:");
    for (const [k, v] of p.self) out.push(`    ${pct(v, p.samples)}  ${k}`);
  }
  return out.join("\n");
}
