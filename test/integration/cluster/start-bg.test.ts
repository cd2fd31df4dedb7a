// The cluster scripts start their components in the background (lib.sh `start_bg`) from commands
// that run under the shared lock (`flock /tmp/kic-cluster.lock bash -c 'up.sh ...'`). A component
// that inherited the lock's descriptor kept the lock for as long as the cluster ran: every other
// locked command waited forever. Needs no cluster: a private lock file and a `sleep` component.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, expect, it } from "vitest";

const lib = join(import.meta.dirname, "..", "..", "cluster", "lib.sh");
let dir = "";
let pid = 0;

afterEach(() => {
  if (pid > 0) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // Already gone.
    }
  }
  if (dir) rmSync(dir, { recursive: true, force: true });
});

it("a component started under `flock LOCK cmd` does not keep the lock once cmd is done", () => {
  dir = mkdtempSync(join(tmpdir(), "kic-start-bg-"));
  const lock = join(dir, "lock");
  // KIC_CACHE points lib.sh's state (pid files, logs) into the temp dir.
  execFileSync("flock", [lock, "bash", "-c", `. ${lib} && start_bg sleep sleep 300`], {
    env: { ...process.env, KIC_CACHE: dir },
    stdio: "ignore",
  });
  pid = Number(readFileSync(join(dir, "cluster", "pids", "sleep.pid"), "utf8"));
  // The background subshell closes its descriptors, then execs the component in its place.
  const argv0 = () => readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0")[0];
  for (let i = 0; i < 100 && argv0() !== "sleep"; i++) execFileSync("sleep", ["0.05"]);
  expect(argv0()).toBe("sleep");
  const open = readdirSync(`/proc/${pid}/fd`).map((fd) => {
    try {
      return readlinkSync(`/proc/${pid}/fd/${fd}`);
    } catch {
      // Closed while we looked.
      return "";
    }
  });
  expect(open).not.toContain(lock);
  // The lock is free again: a non-blocking attempt gets it.
  expect(() => execFileSync("flock", ["--nonblock", lock, "true"])).not.toThrow();
});
