// What a runtime started in temp dirs leaves behind once its daemon is killed: processes that
// outlive it (shims, conmon, containers) and mounts under its dirs. One teardown for containerd,
// CRI-O and the Docker Engine, so each stops the same way.
import { execFileSync } from "node:child_process";
import { readFileSync, rmSync } from "node:fs";

/** SIGKILLs each pid; one that is gone already is skipped. */
export function killPids(pids: readonly (number | string)[]): void {
  for (const pid of pids) {
    try {
      process.kill(Number(pid), "SIGKILL");
    } catch {
      // Already gone.
    }
  }
}

/**
 * Lazily unmounts everything mounted under `dir` (container rootfs, shm and sandbox mounts),
 * deepest first, then removes `dir`.
 */
export function removeMountedDir(dir: string): void {
  const mounts = readFileSync("/proc/self/mounts", "utf8")
    .split("\n")
    .map((l) => l.split(" ")[1] ?? "")
    .filter((m) => m.startsWith(dir))
    .sort()
    .reverse();
  for (const m of mounts) {
    try {
      execFileSync("umount", ["-l", m], { stdio: "ignore" });
    } catch {
      // Unmounted with its parent already.
    }
  }
  rmSync(dir, { recursive: true, force: true });
}
