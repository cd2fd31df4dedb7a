// The cluster lock and who takes the cluster down (test/cluster/with-cluster.sh, down.sh): a test
// run takes down only a cluster it brought up and nobody else uses. Run against a temporary cache
// dir with stand-in components (processes named like the real ones) and stand-in up.sh/down.sh
// beside the real with-cluster.sh and lib.sh, so the real cluster is never touched.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";

const repoRoot = join(import.meta.dirname, "..", "..", "..");
const components = [
  "containerd",
  "etcd",
  "kube-apiserver",
  "kube-controller-manager",
  "kube-scheduler",
  "kubelet",
];

// Stand-ins: up.sh starts a process per component whose argv[0] is the component's name (what
// lib.sh's is_running checks); down.sh stops them. Both take the lock as the real ones do and log
// their calls.
const fakeUp = `#!/usr/bin/env bash
set -euo pipefail
here="$(cd "$(dirname "\${BASH_SOURCE[0]}")" && pwd)"
. "$here/lib.sh"
cluster_lock exclusive
claim_machine
echo up >>"$KIC_CACHE/calls"
for c in ${components.join(" ")}; do is_running "$c" || start_bg "$c" bash -c "exec -a $c sleep 300"; done
`;
const fakeDown = `#!/usr/bin/env bash
set -euo pipefail
here="$(cd "$(dirname "\${BASH_SOURCE[0]}")" && pwd)"
. "$here/lib.sh"
cluster_lock exclusive 0 || die "in use by: $(lock_holders)"
echo down >>"$KIC_CACHE/calls"
for c in ${components.join(" ")}; do stop_bg "$c" 5; done
rm -rf "$KIC_STATE"
release_machine
`;

let dir = "";
let cache = "";
let machine = ""; // stands in for /run/kube-image-cleanup: the machine-wide lock and record
let scripts = "";
const holders: ChildProcess[] = [];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "kic-lock-"));
  cache = join(dir, "cache");
  machine = join(dir, "machine");
  scripts = join(dir, "cluster");
  mkdirSync(scripts);
  for (const f of ["lib.sh", "with-cluster.sh"])
    copyFileSync(join(repoRoot, "test", "cluster", f), join(scripts, f));
  writeFileSync(join(scripts, "up.sh"), fakeUp, { mode: 0o755 });
  writeFileSync(join(scripts, "down.sh"), fakeDown, { mode: 0o755 });
});

afterEach(() => {
  releaseHolders();
  sh(join(scripts, "down.sh"), []);
  rmSync(dir, { recursive: true, force: true });
}, 60_000);

function sh(script: string, args: string[], env: Record<string, string> = {}) {
  const r = spawnSync("bash", [script, ...args], {
    encoding: "utf8",
    env: { ...process.env, KIC_CACHE: cache, KICTEST_MACHINE_DIR: machine, ...env },
    timeout: 60_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const calls = (cacheDir = cache) =>
  existsSync(join(cacheDir, "calls"))
    ? readFileSync(join(cacheDir, "calls"), "utf8").trim().split("\n")
    : [];
const lockFile = () => join(machine, "cluster.lock");

/** What the command run by with-cluster.sh sees of the lock: held shared by someone, or free. */
const probeLock = `flock -n -x "$KICTEST_MACHINE_DIR/cluster.lock" true && echo lock-free || { flock -n -s "$KICTEST_MACHINE_DIR/cluster.lock" true && echo lock-shared; }`;

function runningNow(cacheDir = cache): boolean {
  const r = spawnSync("bash", ["-c", `. "${scripts}/lib.sh"; cluster_running`], {
    env: { ...process.env, KIC_CACHE: cacheDir, KICTEST_MACHINE_DIR: machine },
  });
  return r.status === 0;
}

/** Ends the stand-in users: their whole process group, as flock's child holds the lock too. */
function releaseHolders(): void {
  for (const h of holders.splice(0)) if (h.pid !== undefined) process.kill(-h.pid, "SIGKILL");
  const pids = join(dir, "holder.pids");
  if (existsSync(pids))
    for (const pid of readFileSync(pids, "utf8").trim().split("\n"))
      process.kill(-Number(pid), "SIGKILL");
  rmSync(pids, { force: true });
}

/** Holds the lock shared from another process, as a running demo or another test run does. */
async function holdShared(): Promise<void> {
  mkdirSync(machine, { recursive: true });
  const h = spawn("flock", ["-s", lockFile(), "sh", "-c", "echo held; exec sleep 300"], {
    stdio: ["ignore", "pipe", "ignore"],
    detached: true,
  });
  holders.push(h);
  await new Promise<void>((resolve) => {
    h.stdout.once("data", () => {
      resolve();
    });
  });
}

/**
 * Starts with-cluster.sh for `cacheDir` while another user holds the lock, and gives it 1.5 s to
 * block: what it said on stderr so far (read once the wait is over) and its exit code to come.
 */
async function startWithClusterBlocked(
  cacheDir: string,
): Promise<{ stderr: string; exited: Promise<number | null> }> {
  const child = spawn("bash", [join(scripts, "with-cluster.sh"), "true"], {
    env: { ...process.env, KIC_CACHE: cacheDir, KICTEST_MACHINE_DIR: machine },
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on("exit", resolve));
  await new Promise((r) => setTimeout(r, 1500));
  return { stderr, exited };
}

describe("with-cluster.sh (how npm test uses the cluster)", () => {
  it("brings a stopped cluster up, runs the command under the shared lock and takes it down again", () => {
    // The command also lists the KIC_ variables it was given: the CLI takes every KIC_ variable for
    // an option and refuses unknown ones, so the lock's bookkeeping must not use that prefix.
    const r = sh(join(scripts, "with-cluster.sh"), [
      "bash",
      "-c",
      `${probeLock}; env | grep '^KIC_' | grep -v '^KIC_CACHE='; exit 3`,
    ]);
    expect(r.stdout).toBe("lock-shared\n");
    expect(r.code).toBe(3); // the command's own exit status
    expect(calls()).toEqual(["up", "down"]);
    expect(runningNow()).toBe(false);
    expect(r.stderr).toContain("taking down the cluster this run brought up");
  });

  it("leaves a cluster up that was running before (a demo's), after up.sh imported its own app image", () => {
    expect(sh(join(scripts, "up.sh"), []).code).toBe(0);
    const r = sh(join(scripts, "with-cluster.sh"), ["true"]);
    expect(r.code, r.stderr).toBe(0);
    // The second up: idempotent, it re-imports this checkout's app image into the running cluster.
    expect(calls()).toEqual(["up", "up"]);
    expect(runningNow()).toBe(true);
    expect(r.stderr).toContain("the cluster was up before this run: leaving it up");
  });

  it("leaves a cluster it brought up running when someone else holds the lock at the end", () => {
    const flagDir = join(dir, "flag");
    // The command starts a second user of the cluster (e.g. `npm run demo` in another terminal),
    // in a process group of its own (its pid recorded for releaseHolders).
    const holder = `setsid flock -s "$KICTEST_MACHINE_DIR/cluster.lock" sh -c 'mkdir "${flagDir}"; exec sleep 300' >/dev/null 2>&1 & echo $! >>"${join(dir, "holder.pids")}"; while [ ! -d "${flagDir}" ]; do sleep 0.1; done`;
    const r = sh(join(scripts, "with-cluster.sh"), ["bash", "-c", holder]);
    expect(r.code, r.stderr).toBe(0);
    expect(calls()).toEqual(["up"]);
    expect(runningNow()).toBe(true);
    expect(r.stderr).toMatch(/the cluster is in use by \d+ \(flock -s [^)]*\): leaving it up/);
  });

  it("waits for the exclusive lock before bringing the cluster up", async () => {
    await holdShared();
    const { stderr, exited } = await startWithClusterBlocked(cache);
    expect(calls()).toEqual([]); // still waiting: nothing brought up under the other user
    expect(stderr).toMatch(/waiting for the cluster lock .* \(exclusive\), held by: \d+/);
    releaseHolders();
    expect(await exited).toBe(0);
    expect(calls()).toEqual(["up", "down"]);
  });
});

describe("down.sh (npm run cluster:down)", () => {
  it("refuses while someone holds the lock and removes nothing", async () => {
    // The real down.sh, in its own network and mount namespaces: should the lock not stop it, it
    // still could not touch this machine's addresses, bridge or mounts.
    mkdirSync(join(cache, "cluster"), { recursive: true });
    writeFileSync(join(cache, "cluster", "marker"), "state of a running cluster");
    await holdShared();
    const r = spawnSync(
      "unshare",
      [
        "--net",
        "--mount",
        "--propagation",
        "private",
        "bash",
        join(repoRoot, "test", "cluster", "down.sh"),
      ],
      {
        encoding: "utf8",
        env: { ...process.env, KIC_CACHE: cache, KICTEST_MACHINE_DIR: machine },
        timeout: 60_000,
      },
    );
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/the cluster is in use by: \d+ \(flock -s /);
    expect(r.stderr).toContain("not taking it down");
    expect(existsSync(join(cache, "cluster", "marker"))).toBe(true);
  });
});

describe("two cache dirs on one machine (a fresh clone's npm test beside a warm checkout)", () => {
  // Ports, the node address and the kubelet's cgroups are the machine's: the two clusters take turns.
  it("up.sh of the second takes the first one's cluster down before it starts its own", () => {
    const second = join(dir, "cache-2");
    expect(sh(join(scripts, "up.sh"), []).code).toBe(0);
    try {
      const r = sh(join(scripts, "up.sh"), [], { KIC_CACHE: second });
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toContain(`the cluster of cache dir ${cache} runs on this machine`);
      expect(calls()).toEqual(["up", "down"]);
      expect(runningNow()).toBe(false);
      expect(calls(second)).toEqual(["up"]);
      expect(runningNow(second)).toBe(true);
      expect(readFileSync(join(machine, "active-cache"), "utf8")).toBe(`${second}\n`);
    } finally {
      sh(join(scripts, "down.sh"), [], { KIC_CACHE: second });
    }
    expect(existsSync(join(machine, "active-cache"))).toBe(false);
  });

  it("waits while the other cache dir's cluster is in use: one lock for the machine", async () => {
    const second = join(dir, "cache-2");
    await holdShared(); // a test run of the first cache dir, using its cluster
    const { stderr, exited } = await startWithClusterBlocked(second);
    expect(calls(second)).toEqual([]);
    expect(stderr).toMatch(/waiting for the cluster lock .* \(exclusive\), held by: \d+/);
    releaseHolders();
    expect(await exited).toBe(0);
    expect(calls(second)).toEqual(["up", "down"]);
  });
});
