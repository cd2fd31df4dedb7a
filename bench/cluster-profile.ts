// Where the simulated cluster's CPU goes during a sweep, by function (bench/lib/go-profile.ts):
//   npx vite-node bench/cluster-profile.ts -- record SECONDS OUT.perf   # perf record -g, 99 Hz, of
//        kube-apiserver, etcd, kwok and kube-controller-manager (root; start it as a run begins)
//   npx vite-node bench/cluster-profile.ts -- report OUT.perf           # the summary, as text
// The API server runs with --profiling=false (test/cluster/up.sh), so its pprof endpoint is not
// there; perf needs no change to the cluster.
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { formatProfiles, GO_LOAD_ADDRESS, parsePerfScript, summarise } from "./lib/go-profile.js";

/** Process names as the kernel keeps them (15 characters: kube-controller-manager is cut). */
const PROCESSES = ["kube-apiserver", "etcd", "kwok", "kube-controller"];

function pids(): string[] {
  const found: string[] = [];
  for (const name of PROCESSES) {
    try {
      found.push(...execFileSync("pgrep", ["-x", name], { encoding: "utf8" }).trim().split("\n"));
    } catch {
      // pgrep exits 1 when the process is not running: the others are profiled all the same.
    }
  }
  return found.filter((p) => p !== "");
}

/** Names every address of each binary in one `go tool addr2line` call. */
function namer(samples: ReturnType<typeof parsePerfScript>): (addr: number, dso: string) => string {
  const byDso = new Map<string, Set<number>>();
  for (const s of samples)
    for (const f of s.frames) {
      if (!f.dso.startsWith("/") || !existsSync(f.dso)) continue;
      const set = byDso.get(f.dso) ?? new Set<number>();
      set.add(f.addr);
      byDso.set(f.dso, set);
    }
  const names = new Map<string, string>();
  for (const [dso, set] of byDso) {
    const addrs = [...set];
    const input = addrs.map((a) => `0x${(a + GO_LOAD_ADDRESS).toString(16)}`).join("\n") + "\n";
    const lines = execFileSync("go", ["tool", "addr2line", dso], {
      input,
      encoding: "utf8",
      maxBuffer: 256 * 1024 * 1024,
    }).split("\n");
    addrs.forEach((a, i) => names.set(`${dso}:${String(a)}`, lines[2 * i] ?? "?"));
  }
  return (addr, dso) => names.get(`${dso}:${String(addr)}`) ?? `[${dso.split("/").pop() ?? dso}]`;
}

const [command, ...rest] = process.argv.slice(2).filter((a) => a !== "--");
if (command === "record") {
  const [seconds = "25", out = "cluster.perf"] = rest;
  const list = pids();
  if (list.length === 0) throw new Error(`none of ${PROCESSES.join(", ")} is running`);
  execFileSync(
    "perf",
    ["record", "-F", "99", "-g", "-p", list.join(","), "-o", out, "--", "sleep", seconds],
    { stdio: "inherit" },
  );
} else if (command === "report") {
  const [file = "cluster.perf"] = rest;
  const text = execFileSync("perf", ["script", "-i", file, "-F", "comm,pid,ip,dso"], {
    encoding: "utf8",
    maxBuffer: 1024 * 1024 * 1024,
    stdio: ["ignore", "pipe", "ignore"],
  });
  const samples = parsePerfScript(text);
  console.log(formatProfiles(summarise(samples, namer(samples))));
} else {
  console.error("usage: cluster-profile.ts record SECONDS OUT.perf | report OUT.perf");
  process.exit(2);
}
