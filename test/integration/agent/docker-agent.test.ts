// The agent with --client docker against a real Docker Engine (Debian's dockerd 20.10, started here
// in temp dirs: test/support/dockerd.ts): every rule the crictl/ctr suites prove, on Docker's own
// image store and container list. The CLI runs too, as `agent` and as `schedule ... -- agent` (a
// Docker host outside Kubernetes). Each test makes its own images with unique names and content.
import { execFile, execFileSync, spawn, type ChildProcess } from "node:child_process";
import {
  chmodSync,
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readlinkSync,
  rmSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { runAgent } from "../../../src/agent/agent.js";
import { createDockerAdapter } from "../../../src/agent/docker.js";
import { createEngineClient } from "../../../src/agent/docker-engine.js";
import { executePlan } from "../../../src/agent/execute.js";
import { createHostExec } from "../../../src/agent/host-exec.js";
import { createPrettyReporter, type AgentReporter } from "../../../src/agent/report.js";
import type { AgentResult, BatchDone, BatchStart } from "../../../src/run-model/agent-result.js";
import type { RuntimeAdapter } from "../../../src/agent/runtime.js";
import { loadAgentConfig } from "../../../src/config/agent-options.js";
import { builtCli } from "../../support/agent-cli.js";
import { Scratch, uniqueToken, type BuiltImage } from "../../support/containerd.js";
import {
  scheduleDockerAgentNow,
  startDockerd,
  type StandaloneDockerd,
} from "../../support/dockerd.js";
import {
  keptReasons,
  planIncluding,
  runAgentDirect,
  scenarioImages,
  scenarioKept,
  scenarioKeeps,
  type ScenarioImages,
} from "../../support/agent-on-runtime.js";

const run = promisify(execFile);
const silent = pino({ level: "silent" });

let dockerd: StandaloneDockerd;
let scratch: Scratch;
beforeAll(async () => {
  dockerd = await startDockerd();
  scratch = new Scratch(dockerd.socket, dockerd.store);
});
afterAll(() => {
  dockerd.removeContainers();
  scratch.cleanup();
  dockerd.stop();
});

interface Run {
  result: AgentResult;
  lines: string[];
  batches: ({ start: BatchStart } | { done: BatchDone })[];
}

async function agent(args: Record<string, unknown>): Promise<Run> {
  const lines: string[] = [];
  const batches: Run["batches"] = [];
  const pretty = createPrettyReporter((l) => lines.push(l));
  const report: AgentReporter = {
    ...pretty,
    batch: (record) => {
      batches.push(record);
      pretty.batch(record);
    },
  };
  const result = await runAgentDirect(
    dockerd.socket,
    { "node-name": "docker-host", client: "docker", ...args },
    { report },
  );
  return { result, lines, batches };
}

/** Every name and id the Engine holds now, by the CLI (not the code under test). */
const present = () => new Set(dockerd.store.refs());
/** The image store's own record of when an image came (what --min-age reads). */
const backdate = (image: BuiltImage, ms: number) => {
  const file = join(
    dockerd.dataRoot,
    "image",
    "overlay2",
    "imagedb/content/sha256",
    image.id.slice(7),
  );
  const when = new Date(Date.now() - ms);
  utimesSync(file, when, when);
};

describe("agent with --client docker", () => {
  let prefix = "";
  let images: ScenarioImages;
  beforeAll(() => {
    prefix = `docker.io/kic-docker-agent/${uniqueToken()}`;
    images = scenarioImages(scratch, prefix, 200_000);
    // Names in two repositories: the Engine removes such an image by id only with force, which the
    // agent never sends; every name must go all the same.
    scratch.tag(images.del1.name, `${prefix}/del1-alias:2`);
    scratch.tag(images.del1.name, `quay.io/kic-docker-agent/${prefix.slice(-8)}/del1:3`);
    dockerd.container(images.running.name, "running");
    dockerd.container(images.exited.name, "exited");
    dockerd.container(images.created.name, "created");
  });

  const common = () => ({
    include: [`${prefix}/**`, `quay.io/kic-docker-agent/**`],
    exclude: [`${prefix}/excl*:*`],
    protect: [images.protected.name.replace("docker.io/", "")],
  });

  it("deletes nothing in a dry run but reports the same plan", async () => {
    const before = present();
    const { result, lines } = await agent({ ...common(), "dry-run": true });
    expect(result.dryRun).toBe(true);
    expect(result.deleted.map((d) => d.id).sort()).toEqual([images.del1.id, images.del2.id].sort());
    expect(present()).toEqual(before);
    expect(lines.some((l) => l.startsWith("would delete"))).toBe(true);
  });

  it("deletes matching unused images with every name, keeps the rest with one reason each, and counts the Engine's bytes", async () => {
    const bytes = [images.del1, images.del2]
      .map((i) =>
        Number(dockerd.docker(["image", "inspect", "--format", "{{.Size}}", i.id]).trim()),
      )
      .reduce((a, b) => a + b, 0);

    const { result, lines, batches } = await agent(common());

    expect(result.failed).toEqual([]);
    expect(result.deleted.map((d) => d.id).sort()).toEqual([images.del1.id, images.del2.id].sort());
    expect(result.bytesReclaimed).toBe(bytes);
    // Only their own salt layers went (busybox is shared with images that stay): the store got
    // back what the Engine counts for them.
    expect(result.imageFs).toMatchObject({
      source: "docker system df (LayersSize)",
      freedBytes: bytes,
      state: "exact",
    });
    expect(result.runtime).toMatchObject({
      client: "docker",
      socket: dockerd.socket,
      hostExec: "direct",
      name: "docker",
    });
    // The Engine as it reports itself: proof of what this ran on.
    expect(result.runtime.version).toContain(dockerd.version);
    const now = present();
    for (const id of [images.del1.id, images.del2.id]) expect(now.has(id)).toBe(false);
    expect([...now].filter((r) => r.includes("del1") || r.includes("del2"))).toEqual([]);
    expect(keptReasons(result)).toEqual(scenarioKeeps(images));
    for (const kept of scenarioKept(images)) expect(now.has(kept.id)).toBe(true);
    // The batch was on record before and after its call.
    expect(batches.map((b) => ("start" in b ? "start" : "done"))).toEqual(["start", "done"]);
    expect(
      lines.some((l) =>
        /^bytes: .* reclaimed = sum of image sizes; image filesystem freed/.test(l),
      ),
    ).toBe(true);
  });
});

describe("what a container runs, on Docker", () => {
  it("keeps the image a container runs after its tag moved on, and deletes the image the tag names now", async () => {
    const prefix = `docker.io/kic-docker-agent/${uniqueToken()}`;
    const old = scratch.image(`${prefix}/app:1`, { busybox: true });
    dockerd.container(`${prefix}/app:1`, "exited");
    const fresh = scratch.image(`${prefix}/app:1`, { busybox: true });

    const { result } = await agent({ include: [`${prefix}/app:*`, old.id] });

    expect(result.deleted.map((d) => d.id)).toEqual([fresh.id]);
    expect(result.kept).toMatchObject([{ id: old.id, reason: "in-use" }]);
    expect(result.kept[0]?.detail).toMatch(/exited/);
    expect(present().has(old.id)).toBe(true);
  });

  it("keeps an image a container starts using after the last look: the Engine refuses (409) and it is an in-use keep, not a failure", async () => {
    const prefix = `docker.io/kic-docker-agent/${uniqueToken()}`;
    const late = scratch.image(`${prefix}/late:1`, { busybox: true });
    scratch.tag(`${prefix}/late:1`, `${prefix}/late:2`);
    const docker = createDockerAdapter(
      createEngineClient(dockerd.socket, { timeoutMs: () => 60_000 }),
      { hostPath: (p) => Promise.resolve(p) },
    );
    const inventory = await docker.inventory({ withTimes: false });
    const plan = planIncluding(inventory, `${prefix}/late:*`);
    expect(plan.delete.map((i) => i.id)).toEqual([late.id]);
    // The container comes after the agent's re-check (here: a re-check that saw it before it came).
    const stale = await docker.usage();
    dockerd.container(`${prefix}/late:1`, "running");
    const racing: RuntimeAdapter = { ...docker, usage: () => Promise.resolve(stale) };

    const done = await executePlan(plan.delete, inventory, racing, { dryRun: false, log: silent });

    expect(done.failed).toEqual([]);
    expect(done.deleted).toEqual([]);
    expect(done.keptLate).toMatchObject([{ id: late.id, reason: "in-use" }]);
    expect(done.keptLate[0]?.detail).toMatch(
      /^the runtime refused to remove it: image is being used by running container [0-9a-f]{12} \(appeared during the run\); names removed before that: /,
    );
    expect(present().has(late.id)).toBe(true);
  });
});

describe("retention on Docker", () => {
  it("--keep-newest 2 keeps the two newest by the config's Created, an image in use counting toward them", async () => {
    const repo = `docker.io/kic-docker-agent/${uniqueToken()}/app`;
    const oldest = scratch.image(`${repo}:1`, { created: "2025-01-01T00:00:00Z" });
    const middle = scratch.image(`${repo}:2`, { created: "2025-02-01T00:00:00Z", busybox: true });
    const newest = scratch.image(`${repo}:3`, { created: "2025-03-01T00:00:00Z" });
    // Loaded last, built first: Created ranks, not the order the Engine got them.
    const older = scratch.image(`${repo}:0`, { created: "2024-12-01T00:00:00Z" });
    dockerd.container(`${repo}:2`, "created");

    const { result } = await agent({ include: [`${repo}:*`], "keep-newest": "2" });

    expect(result.deleted.map((d) => d.id).sort()).toEqual([oldest.id, older.id].sort());
    expect(keptReasons(result)).toEqual({ [middle.id]: "in-use", [newest.id]: "newest" });
  });

  it("--min-age keeps what came recently and deletes what the image store recorded long ago", async () => {
    const prefix = `docker.io/kic-docker-agent/${uniqueToken()}`;
    const fresh = scratch.image(`${prefix}/fresh:1`);
    const old = scratch.image(`${prefix}/old:1`);
    backdate(old, 3 * 86_400_000);

    const { result } = await agent({ include: [`${prefix}/**`], "min-age": "2d" });

    expect(result.minAge).toEqual({ seconds: 172_800, supported: true });
    expect(result.deleted.map((d) => d.id)).toEqual([old.id]);
    expect(result.kept).toMatchObject([{ id: fresh.id, reason: "too-new" }]);
    expect(result.kept[0]?.detail).toMatch(/^recorded \d+s ago, --min-age is 172800s$/);
  });

  it("--max-images-per-node 1 deletes the oldest and keeps the rest with reason limit", async () => {
    const repo = `docker.io/kic-docker-agent/${uniqueToken()}/lim`;
    const a = scratch.image(`${repo}:a`, { created: "2025-01-01T00:00:00Z" });
    const b = scratch.image(`${repo}:b`, { created: "2025-06-01T00:00:00Z" });

    const { result } = await agent({ include: [`${repo}:*`], "max-images-per-node": "1" });

    expect(result.deleted.map((d) => d.id)).toEqual([a.id]);
    expect(keptReasons(result)).toEqual({ [b.id]: "limit" });
    expect(result.limit).toMatchObject({ maxImages: 1, cut: 1 });
  });
});

describe("socket mode (the unprivileged helper pod: only Docker's socket mounted)", () => {
  it("checks the mounted socket, finds that it is an Engine's with --client auto, and cleans through it", async () => {
    const image = scratch.image(`docker.io/kic-docker-agent/${uniqueToken()}/socket:1`);
    const config = loadAgentConfig(
      {
        "host-exec": "socket",
        socket: dockerd.socket,
        "node-name": "docker-node",
        include: [image.name],
      },
      {},
    );

    const result = await runAgent(config, {
      exec: createHostExec("socket"),
      log: silent,
      report: createPrettyReporter(() => undefined),
    });

    expect(result.runtime).toMatchObject({ client: "docker", hostExec: "socket", name: "docker" });
    expect(result.deleted.map((d) => d.id)).toEqual([image.id]);
  });
});

describe("nsenter mode (the privileged helper pod), on a node whose /var/run links to /run", () => {
  // A node root of its own: busybox chrooted into a dir where var/run -> /run (absolute, as on
  // Debian), with the Engine's socket bind-mounted at run/docker.sock. The agent reaches it as a
  // privileged helper pod does, through /proc/<pid>/root, where the kernel would resolve that link in
  // the agent's own root.
  let nodeRoot = "";
  let node: ChildProcess | undefined;
  beforeAll(() => {
    nodeRoot = mkdtempSync(join(tmpdir(), "kic-docker-node-"));
    for (const d of ["bin", "run", "var"]) mkdirSync(join(nodeRoot, d));
    copyFileSync("/bin/busybox", join(nodeRoot, "bin/busybox"));
    chmodSync(join(nodeRoot, "bin/busybox"), 0o755);
    symlinkSync("/run", join(nodeRoot, "var/run"));
    writeFileSync(join(nodeRoot, "run/docker.sock"), "");
    execFileSync("mount", ["--bind", dockerd.socket, join(nodeRoot, "run/docker.sock")]);
    node = spawn("chroot", [nodeRoot, "/bin/busybox", "sleep", "600"], { stdio: "ignore" });
  });
  afterAll(() => {
    node?.kill("SIGKILL");
    if (nodeRoot === "") return;
    try {
      execFileSync("umount", [join(nodeRoot, "run/docker.sock")]);
    } catch {
      // Never mounted (the set-up failed before).
    }
    rmSync(nodeRoot, { recursive: true, force: true });
  });

  it("finds /var/run/docker.sock on the node and cleans through it", async () => {
    const image = scratch.image(`docker.io/kic-docker-agent/${uniqueToken()}/nsenter:1`);
    const pid = node?.pid ?? 0;
    // The chroot has happened once the process's root is not ours.
    await vi.waitFor(() => {
      expect(readlinkSync(`/proc/${String(pid)}/root`)).toBe(nodeRoot);
    });
    const config = loadAgentConfig(
      {
        "host-exec": "nsenter",
        "node-name": "docker-node",
        client: "docker",
        include: [image.name],
      },
      {},
    );

    const result = await runAgent(config, {
      exec: createHostExec("nsenter", { pid }),
      log: silent,
      report: createPrettyReporter(() => undefined),
    });

    expect(result.runtime).toMatchObject({
      client: "docker",
      socket: "/var/run/docker.sock",
      hostExec: "nsenter",
    });
    expect(result.deleted.map((d) => d.id)).toEqual([image.id]);
    expect(present().has(image.id)).toBe(false);
  });
});

describe("the CLI on a Docker host", () => {
  // The CLI as it ships (node dist/cli.js): `schedule ... -- agent` needs its own `--` intact.
  const cli = builtCli();
  const cliArgs = (args: string[]): [string, string[]] => [process.execPath, [cli(), ...args]];

  it("agent --client auto finds that the socket is a Docker Engine's and cleans it", async () => {
    const image = scratch.image(`docker.io/kic-docker-agent/${uniqueToken()}/cli:1`);
    const [cmd, args] = cliArgs([
      "agent",
      "--socket",
      dockerd.socket,
      "--include",
      image.name,
      "--log-format",
      "json",
    ]);
    const r = await run(cmd, args, { env: { ...process.env, KUBERNETES_SERVICE_HOST: "" } });
    const line = r.stdout.split("\n").find((l) => l.includes('"agent result"'));
    const result = (JSON.parse(line ?? "{}") as { result: AgentResult }).result;
    expect(result.runtime).toMatchObject({ client: "docker", name: "docker" });
    expect(result.deleted.map((d) => d.id)).toEqual([image.id]);
    expect(present().has(image.id)).toBe(false);
  });

  it("schedule --run-now -- agent --client docker runs the agent at once, then waits for the next tick until SIGTERM", async () => {
    const image = scratch.image(`docker.io/kic-docker-agent/${uniqueToken()}/sched:1`);
    const [cmd, args] = cliArgs([
      ...scheduleDockerAgentNow,
      "--socket",
      dockerd.socket,
      "--include",
      image.name,
    ]);
    const child = spawn(cmd, args, {
      env: { ...process.env, KUBERNETES_SERVICE_HOST: "" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on("exit", resolve));
    const deadline = Date.now() + 90_000;
    while (!stdout.includes('"agent result"') && Date.now() < deadline && child.exitCode === null)
      await new Promise((r) => setTimeout(r, 200));
    // As systemd stops the unit: the schedule ends cleanly between runs (exit 0).
    child.kill("SIGTERM");
    const code = await exited;

    expect(stdout, stderr).toMatch(/^note: scheduled: 0 3 1 1 \*; next run \d{4}-01-01T/m);
    expect(stdout).toMatch(new RegExp(`^deleted .*${image.name.replace("docker.io/", "")}`, "m"));
    expect(code, stderr).toBe(0);
    expect(present().has(image.id)).toBe(false);
  });
});
