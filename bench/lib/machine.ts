// The machine a figure was taken on: benchmark numbers mean nothing without it.
import { cpus, loadavg, release, totalmem } from "node:os";

export interface Machine {
  cpus: number;
  model: string;
  memoryGiB: number;
  kernel: string;
  node: string;
  /** 1-minute load average when the benchmark started: others' tests share this machine. */
  loadAverage1m: number;
}

export function describeMachine(): Machine {
  const list = cpus();
  return {
    cpus: list.length,
    model: list[0]?.model.trim() ?? "unknown",
    memoryGiB: Math.round(totalmem() / 1024 ** 3),
    kernel: release(),
    node: process.version,
    loadAverage1m: Math.round((loadavg()[0] ?? 0) * 100) / 100,
  };
}

export const machineLine = (m: Machine): string =>
  `${m.cpus} x ${m.model}, ${m.memoryGiB} GiB, Linux ${m.kernel}, Node.js ${m.node}, load ${m.loadAverage1m} at start`;
