// Runs the project's CLI the way production does (node dist/cli.js ...) and measures it from the
// outside: wall time from spawn to exit, and peak RSS through the rss-probe preload.
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { repoRoot } from "./output.js";

/** The build the benchmarks run: compiled by bench/run.sh into the git-ignored results dir, so a
 * concurrent `npm run build` by someone else cannot swap files under a running measurement. */
export const benchDist = join(repoRoot, "bench", "results", "dist");
export const benchCli = join(benchDist, "cli.js");
const probe = join(repoRoot, "bench", "lib", "rss-probe.mjs");

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
  wallMs: number;
  /** Peak resident set size of the CLI process, MiB (undefined if it died before writing it). */
  peakRssMiB: number | undefined;
  /** CPU time of the CLI process (user + system), ms. */
  cpuMs: number | undefined;
  /** Largest V8 heap size (reserved), MiB. */
  heapTotalMiB?: number;
  /** Largest heap in use seen right after a full collection (rss-probe.mjs), MiB; and their count. */
  liveAfterMajorGcMiB?: number;
  majorGcs?: number;
}

/**
 * The CLI's `run` against the cluster of `kubeconfig`, as release `instance` with its helper pods in
 * `namespace`, with `args`: its result on stdout as JSON and its log as JSON lines, what the
 * benchmarks read.
 */
export function runCommandArgs(
  kubeconfig: string,
  namespace: string,
  instance: string,
  args: readonly string[],
): string[] {
  return [
    "run",
    "--kubeconfig",
    kubeconfig,
    "--namespace",
    namespace,
    "--instance",
    instance,
    ...args,
    "--output",
    "json",
    "--log-format",
    "json",
  ];
}

/** Environment without KIC_* variables: yargs reads those as options of the CLI. */
export function cleanEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith("KIC_")) env[k] = v;
  return { ...env, ...extra };
}

export function runCli(
  args: readonly string[],
  env: NodeJS.ProcessEnv,
  nodeFlags: readonly string[] = [],
): Promise<CliRun> {
  const dir = mkdtempSync(join(tmpdir(), "kic-bench-rss-"));
  const rssFile = join(dir, "rss");
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...nodeFlags, "--import", probe, benchCli, ...args], {
      env: { ...env, BENCH_RSS_FILE: rssFile },
      stdio: ["ignore", "pipe", "pipe"],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on("data", (c: Buffer) => out.push(c));
    child.stderr.on("data", (c: Buffer) => err.push(c));
    child.on("error", reject);
    child.on("close", (code) => {
      const wallMs = performance.now() - t0;
      let peakRssMiB: number | undefined;
      let cpuMs: number | undefined;
      let heap: Pick<CliRun, "heapTotalMiB" | "liveAfterMajorGcMiB" | "majorGcs"> = {};
      try {
        const u = JSON.parse(readFileSync(rssFile, "utf8")) as {
          maxRssKiB: number;
          userMs: number;
          systemMs: number;
          heapTotalKiB?: number;
          liveAfterMajorGcKiB?: number;
          majorGcs?: number;
        };
        peakRssMiB = u.maxRssKiB / 1024;
        cpuMs = u.userMs + u.systemMs;
        if (u.heapTotalKiB !== undefined)
          heap = {
            heapTotalMiB: u.heapTotalKiB / 1024,
            liveAfterMajorGcMiB: (u.liveAfterMajorGcKiB ?? 0) / 1024,
            majorGcs: u.majorGcs ?? 0,
          };
      } catch {
        // Killed before its exit handler ran: no figure rather than a wrong one.
      }
      rmSync(dir, { recursive: true, force: true });
      resolve({
        code: code ?? -1,
        stdout: Buffer.concat(out).toString("utf8"),
        stderr: Buffer.concat(err).toString("utf8"),
        wallMs,
        peakRssMiB,
        cpuMs,
        ...heap,
      });
    });
  });
}
