// `--host-exec socket`, the agent of an unprivileged helper pod (helper.mode=socket): the real CLI as
// a process, as uid 1000 with nothing but a group, against a real containerd whose socket is
// root:root 0660 as on a stock node. With the socket's group it deletes for real; without it, and
// with nothing (or the wrong thing) at --socket, it refuses with exit 2 and one message naming the
// path and what to mount or grant, before any client runs.
//
// No cluster: a private containerd (test/support/containerd.ts) in a directory uid 1000 may enter,
// and a copy of the CLI with packages of its own, since uid 1000 may not reach the checkout.
import { spawn, spawnSync } from "node:child_process";
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseAgentResult } from "../../../src/agent/report.js";
import { buildCliForAnyUser, removeBuiltCli } from "../../support/built-cli.js";
import {
  binDir,
  imageRefs,
  Scratch,
  startContainerd,
  type StandaloneContainerd,
  uniqueToken,
} from "../../support/containerd.js";

/** The image's user (Dockerfile: node 1000:1000); its primary group is replaced as the pod would. */
const UID = 1000;

let containerd: StandaloneContainerd;
let cli = "";
let work = "";
/** PATH a uid-1000 process can use: crictl copied out of root's cache, ctr from the system. */
let path = "";
let scratch: Scratch;

beforeAll(async () => {
  // Everything uid 1000 must reach lives outside /root (0700) in world-traversable directories,
  // as in the helper pod, where only the socket itself comes from the node.
  work = mkdtempSync(join(tmpdir(), "kic-socket-mode-"));
  chmodSync(work, 0o755);
  const cdDir = join(work, "containerd");
  mkdirSync(cdDir, { mode: 0o755 });
  // No socketGid: containerd's default, root:root mode 0660, what a stock node has.
  containerd = await startContainerd({ dir: cdDir });
  const bin = join(work, "bin");
  mkdirSync(bin, { mode: 0o755 });
  copyFileSync(join(binDir, "crictl"), join(bin, "crictl"));
  chmodSync(join(bin, "crictl"), 0o755);
  path = `${bin}:/usr/local/bin:/usr/bin:/bin`;
  cli = buildCliForAnyUser();
  scratch = new Scratch(containerd.socket);
}, 300_000);

afterAll(() => {
  scratch.cleanup();
  containerd.stop();
  rmSync(work, { recursive: true, force: true });
  removeBuiltCli(cli);
});

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** `kube-image-cleanup agent --host-exec socket ...` as uid 1000 with primary group `gid`. */
function agent(socket: string, gid: number, extra: string[] = []): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [
        cli,
        "agent",
        "--host-exec=socket",
        `--socket=${socket}`,
        "--node-name=socket-it",
        "--log-format=json",
        ...extra,
      ],
      // No KUBERNETES_SERVICE_HOST and no KIC_ variables from the test's environment.
      { uid: UID, gid, env: { PATH: path, HOME: "/nonexistent" }, cwd: "/" },
    );
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
    child.on("error", reject);
    child.on("close", (code) => {
      resolve({ code, stdout, stderr });
    });
  });
}

/** The one error line the agent prints (json log format: a record with msg). */
function errorOf(r: Run): string {
  const record = r.stdout
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { level?: number; msg?: string })
    .find((l) => (l.level ?? 0) >= 50);
  return record?.msg ?? `no error record; stdout ${r.stdout} stderr ${r.stderr}`;
}

describe("agent --host-exec socket (helper.mode=socket)", () => {
  it("gives uid 1000 a copy of the CLI of its own, every module loadable without reading outside it", () => {
    // Node's permission model turns any read outside the copy into ERR_ACCESS_DENIED: a module
    // resolved into the checkout (a node_modules symlink, say) fails here even where the checkout
    // happens to be readable by everyone, as on CI, not only under a 0700 home.
    const dir = dirname(dirname(cli));
    const flag = process.allowedNodeEnvironmentFlags.has("--permission")
      ? "--permission"
      : "--experimental-permission";
    const asUid1000 = (args: string[]) =>
      spawnSync(process.execPath, [flag, `--allow-fs-read=${dir}/*`, ...args], {
        uid: UID,
        gid: UID,
        env: { PATH: path, HOME: "/nonexistent" },
        cwd: "/",
        encoding: "utf8",
      });
    const version = asUid1000([cli, "--version"]);
    expect(version.status, version.stderr).toBe(0);
    expect(version.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
    // Every module, the ones commands import only when they run (the controller, the Kubernetes
    // client) too; cli.js itself would run the CLI on import, --version above loaded it.
    const modules = readdirSync(join(dir, "dist"), { recursive: true, encoding: "utf8" })
      .filter((f) => f.endsWith(".js") && f !== "cli.js")
      .map((f) => join(dir, "dist", f));
    expect(modules.length).toBeGreaterThan(10);
    const all = asUid1000([
      "--input-type=module",
      "-e",
      `for (const m of ${JSON.stringify(modules)}) await import(m);`,
    ]);
    expect(all.status, all.stderr).toBe(0);
  });

  it("deletes unused matching images as uid 1000 with only the socket's group, with crictl and with ctr", async () => {
    const prefix = `socket.local/${uniqueToken()}`;
    scratch.image(`${prefix}/crictl:v1`);
    scratch.image(`${prefix}/ctr:v1`);
    scratch.image(`${prefix}/keep:v1`);
    for (const client of ["crictl", "ctr"]) {
      const r = await agent(containerd.socket, 0, [
        `--client=${client}`,
        `--include=${prefix}/${client}:*`,
      ]);
      const result = parseAgentResult(r.stdout);
      expect(result, `${r.stdout}\n${r.stderr}`).toBeDefined();
      expect(r.code).toBe(0);
      expect(result?.runtime).toMatchObject({
        client,
        socket: containerd.socket,
        hostExec: "socket",
      });
      expect(result?.deleted.flatMap((d) => d.names)).toContain(`${prefix}/${client}:v1`);
      expect(result?.failed).toEqual([]);
    }
    const left = imageRefs(containerd.socket).filter((n) => n.startsWith(`${prefix}/`));
    expect(left).toEqual([`${prefix}/keep:v1`]);
  });

  it("refuses without the socket's group: exit 2, naming the socket's owner, mode and the gid to give", async () => {
    const r = await agent(containerd.socket, UID, ["--include=socket.local/*"]);
    expect(r.code).toBe(2);
    expect(errorOf(r)).toBe(
      `runtime socket ${containerd.socket} refuses this agent (permission denied): the socket is owned by ` +
        `uid 0 gid 0, mode 0660; the agent runs as uid 1000, gid 1000, groups 1000: run the helper with ` +
        `the socket's group (helper.socket.gid=0, --helper-socket-gid)`,
    );
  });

  it("refuses when nothing is mounted at --socket: exit 2, naming the path and what to mount", async () => {
    const missing = join(work, "not-mounted", "runtime.sock");
    const r = await agent(missing, 0, ["--include=socket.local/*"]);
    expect(r.code).toBe(2);
    expect(errorOf(r)).toBe(
      `runtime socket ${missing} is not there (--host-exec socket): mount the node's runtime socket there, ` +
        "the socket file itself (a hostPath volume of type Socket): the chart does with helper.mode=socket, " +
        "from runtime.socket (the path on the node)",
    );
  });

  it("refuses a directory or a file at --socket: exit 2, saying what it is and to mount the socket itself", async () => {
    const dir = await agent(dirname(containerd.socket), 0, ["--include=socket.local/*"]);
    expect(dir.code).toBe(2);
    expect(errorOf(dir)).toMatch(
      new RegExp(
        `^runtime socket ${dirname(containerd.socket)} is a directory, not a socket \\(--host-exec socket\\): mount .*; mount the socket, not the directory that holds it$`,
      ),
    );
    // What a hostPath without type Socket gives when the node has no socket there: an empty file
    // (type FileOrCreate) or a directory (DirectoryOrCreate, or no type).
    const file = join(work, "empty.sock");
    writeFileSync(file, "");
    chmodSync(file, 0o644);
    const empty = await agent(file, 0, ["--include=socket.local/*"]);
    expect(empty.code).toBe(2);
    expect(errorOf(empty)).toMatch(
      new RegExp(`^runtime socket ${file} is an empty file, not a socket \\(--host-exec socket\\)`),
    );
  });

  it("refuses a socket nothing listens on (a runtime that stopped): exit 2, asking whether it runs", async () => {
    // A socket file left by a listener that died without removing it.
    const stale = join(work, "stale.sock");
    const holder = spawn(process.execPath, [
      "-e",
      `require("net").createServer().listen(${JSON.stringify(stale)}, () => { require("fs").chmodSync(${JSON.stringify(stale)}, 0o666); console.log("up"); })`,
    ]);
    await new Promise<void>((resolve) => {
      holder.stdout.once("data", () => {
        resolve();
      });
    });
    holder.kill("SIGKILL");
    await new Promise((resolve) => holder.once("close", resolve));
    const r = await agent(stale, 0, ["--include=socket.local/*"]);
    expect(r.code).toBe(2);
    expect(errorOf(r)).toBe(
      `runtime socket ${stale} is there but nothing accepts connections on it: is the runtime running on the node, and is runtime.socket the socket it listens on?`,
    );
  });

  it("runs no client before the socket checks out", async () => {
    // crictl and ctr replaced by scripts that leave a mark: nothing may call them.
    const fake = join(work, "fake-bin");
    const mark = join(work, "client-called");
    mkdirSync(fake, { mode: 0o755 });
    chmodSync(work, 0o777);
    for (const c of ["crictl", "ctr", "nsenter"]) {
      writeFileSync(join(fake, c), `#!/bin/sh\necho ${c} >> ${mark}\nexit 1\n`, { mode: 0o755 });
    }
    const saved = path;
    path = `${fake}:/usr/bin:/bin`;
    try {
      const r = await agent(containerd.socket, UID, ["--include=socket.local/*"]);
      expect(r.code).toBe(2);
      expect(existsSync(mark), "a runtime client ran").toBe(false);
    } finally {
      path = saved;
      chmodSync(work, 0o755);
    }
  });
});
