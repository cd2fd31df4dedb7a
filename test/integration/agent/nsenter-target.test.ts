// `--nsenter-target containerd` against real processes on this machine: decoys named containerd,
// each started BEFORE the real runtime (so each has a lower pid, which is what the old "lowest pid
// of that name" rule entered), in another pid namespace, in a pod's cgroup, as another user,
// without the socket, behind a cgroup namespace of its own (`unshare --cgroup`, in a cgroup whose
// path names no pod: what a pod's process looks like to an agent in a private cgroup namespace),
// or in a mount namespace of its own. The agent must refuse each, and enter the containerd that
// owns the socket. Each decoy differs from the runtime in one way only, so each check is proven
// alone: the decoys bind the socket path in the host's mount namespace and unlink it again (the
// listening socket stays), except the one whose point is its own mount namespace.
//
// This machine's pid 1 hides its namespaces (readlink fails even for root), so the host's cgroup
// and mount namespaces are the agent's own here (this test process runs in the host's); pid 1's,
// where readable, are covered by test/unit/agent/nsenter-target.test.ts.
import { spawn, type ChildProcess } from "node:child_process";
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmdirSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { resolveNsenterTarget } from "../../../src/agent/nsenter-target.js";
import type { AgentResult } from "../../../src/run-model/agent-result.js";
import { parseAgentResult } from "../../../src/agent/report.js";
import {
  imageRefs,
  pathWithBins,
  startContainerd,
  type StandaloneContainerd,
  uniqueToken,
} from "../../support/containerd.js";
import { agentArgv, cliFromSource } from "../../support/agent-cli.js";
import { scratchPerBlock } from "../../support/agent-on-runtime.js";

// A decoy: node, run through a symlink named containerd (the kernel names the process after the
// file it executed), listening on a unix socket at the path it is given, or only sleeping.
const LISTEN = 'require("net").createServer().listen(process.argv[1]); setInterval(() => {}, 1e9)';
/** Listens, then unlinks the path: the socket keeps listening, and the next decoy can bind there. */
const LISTEN_UNLINK =
  'const p = process.argv[1]; require("net").createServer().listen(p, () => require("fs").unlinkSync(p)); setInterval(() => {}, 1e9)';
const SLEEP = "setInterval(() => {}, 1e9)";

interface Decoy {
  why: string;
  proc: ChildProcess;
  /** The pid named containerd (a child of unshare where one is used). */
  pid: number;
}

const tok = uniqueToken();
const binDir = mkdtempSync(join(tmpdir(), "kic-decoy-bin-"));
const link = join(binDir, "containerd");
const cdDir = mkdtempSync(join(tmpdir(), "kic-cd-"));
const socket = join(cdDir, "containerd.sock");
// A pod's cgroup as kubelet (systemd driver) and containerd name it, in the pids hierarchy.
const podCgroup = `/sys/fs/cgroup/pids/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod${tok}.slice/cri-containerd-${tok.repeat(8)}.scope`;
// A cgroup whose path names no pod, as a pod's cgroup reads from a private cgroup namespace
// (`/../../pod<uid>/<id>` under the cgroupfs driver).
const anonymousCgroup = `/sys/fs/cgroup/pids/kic-decoy-${tok}/pod${tok}/${tok.repeat(8)}`;

const decoys: Decoy[] = [];
let containerd: StandaloneContainerd;

async function childOf(parent: number): Promise<number> {
  for (let i = 0; i < 200; i++) {
    const children = readFileSync(`/proc/${parent}/task/${parent}/children`, "utf8").trim();
    if (children !== "") return Number(children.split(" ")[0]);
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`pid ${parent} started no child`);
}

async function ready(pid: number, listens: boolean, unlinks = false): Promise<void> {
  for (let i = 0; i < 400; i++) {
    const comm = readFileSync(`/proc/${pid}/comm`, "utf8").trim();
    if (
      comm === "containerd" &&
      (!listens || readFileSync(`/proc/${pid}/net/unix`, "utf8").includes(socket)) &&
      (!unlinks || !existsSync(socket))
    )
      return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`decoy ${pid} did not come up`);
}

/**
 * Runs node as containerd inside `unshare` (always its own net namespace, so its /proc/PID/net/unix
 * lists only its own socket), listening at the socket path: in the host's mount namespace (and the
 * path unlinked again), or with `ownMount` in a mount namespace of its own with a tmpfs over the
 * socket's dir. `cgroup`: a cgroup directory it is moved into before unshare starts.
 */
async function decoyInNamespaces(
  why: string,
  unshare: string[],
  options: { asUser?: number; ownMount?: boolean; cgroup?: string } = {},
): Promise<Decoy> {
  const become =
    options.asUser === undefined
      ? ""
      : `setpriv --reuid=${options.asUser} --regid=${options.asUser} --clear-groups `;
  const script = options.ownMount
    ? `mount -t tmpfs -o mode=1777 kic-decoy "$0" && exec ${become}"$1" -e "$2" "$0/containerd.sock"`
    : `exec ${become}"$1" -e "$2" "$0/containerd.sock"`;
  const command = [
    "unshare",
    "--fork",
    ...unshare,
    ...(options.ownMount ? ["--mount"] : []),
    "--net",
    "sh",
    "-c",
    script,
    cdDir,
    link,
    options.ownMount ? LISTEN : LISTEN_UNLINK,
  ];
  const proc =
    options.cgroup === undefined
      ? spawn("unshare", command.slice(1), { stdio: "ignore" })
      : spawn(
          "sh",
          ["-c", 'echo $$ > "$0/cgroup.procs" && exec "$@"', options.cgroup, ...command],
          {
            stdio: "ignore",
          },
        );
  const pid = await childOf(proc.pid ?? 0);
  await ready(pid, true, !options.ownMount);
  return { why, proc, pid };
}

beforeAll(async () => {
  process.env.PATH = pathWithBins;
  // Readable for the decoy that runs as nobody, who also binds the socket path in cdDir.
  chmodSync(binDir, 0o755);
  chmodSync(cdDir, 0o1777);
  symlinkSync(process.execPath, link);

  decoys.push(await decoyInNamespaces("not in the host pid namespace", ["--pid"]));
  const inPod = await decoyInNamespaces("in a pod's cgroup", []);
  mkdirSync(podCgroup, { recursive: true });
  writeFileSync(join(podCgroup, "cgroup.procs"), String(inPod.pid));
  decoys.push(inPod);
  decoys.push(await decoyInNamespaces("not uid 0 (uid 65534/65534)", [], { asUser: 65534 }));
  mkdirSync(anonymousCgroup, { recursive: true });
  decoys.push(
    await decoyInNamespaces("not in the host cgroup namespace", ["--cgroup"], {
      cgroup: anonymousCgroup,
    }),
  );
  decoys.push(await decoyInNamespaces("not in the host mount namespace", [], { ownMount: true }));
  const bare = spawn(link, ["-e", SLEEP], { stdio: "ignore" });
  await ready(bare.pid ?? 0, false);
  decoys.push({
    why: `does not own a listening socket at ${socket}`,
    proc: bare,
    pid: bare.pid ?? 0,
  });
  chmodSync(cdDir, 0o700);

  // The real runtime starts last: every decoy has a lower pid.
  containerd = await startContainerd({ dir: cdDir });
  for (const d of decoys) expect(d.pid).toBeLessThan(containerd.pid);
});

afterAll(async () => {
  for (const d of decoys) d.proc.kill("SIGKILL");
  for (const d of decoys) {
    try {
      process.kill(d.pid, "SIGKILL");
    } catch {
      // Ended with its unshare parent.
    }
  }
  containerd.stop();
  // The cgroups can go once their processes are gone; deepest first.
  for (const leaf of [podCgroup, anonymousCgroup]) {
    for (let dir = leaf; dir !== "/sys/fs/cgroup/pids"; dir = dir.slice(0, dir.lastIndexOf("/"))) {
      for (let i = 0; i < 40 && existsSync(dir); i++) {
        try {
          rmdirSync(dir);
        } catch {
          // Still has a process for a moment, or a sibling (another run's) pod: try again, then leave it.
          await new Promise((r) => setTimeout(r, 50));
        }
      }
    }
  }
  rmSync(binDir, { recursive: true, force: true });
});

describe("nsenter target among decoys named containerd", () => {
  const scratch = scratchPerBlock(() => socket);

  /** The agent told to enter `decoy` to delete `image`: it must refuse. */
  const enterDecoy = (decoy: Decoy, image: string) =>
    cliFromSource(
      agentArgv(socket, "nsenter", "--nsenter-target", String(decoy.pid), "--include", image),
    );

  it("refuses each decoy by pid, naming why, on the real /proc", async () => {
    for (const d of decoys) {
      const attempt = resolveNsenterTarget(d.pid, [socket]);
      await expect(attempt, d.why).rejects.toThrow(d.why);
      // Exactly one reason each: every decoy differs from the runtime in one way only.
      const message = await attempt.then(String, (e: unknown) => (e as Error).message);
      const reasons = /refused: pid (\d+) \((.*)\)\. Entering/.exec(message);
      expect(reasons?.[1], message).toBe(String(d.pid));
      expect(reasons?.[2]?.startsWith(d.why), message).toBe(true);
      expect(reasons?.[2], message).not.toMatch(
        /; (in a pod|not uid|does not own|not in the host|its )/,
      );
    }
  });

  it("chooses the containerd that owns the socket, whatever its pid", async () => {
    expect(await resolveNsenterTarget("containerd", [socket])).toEqual({
      pid: containerd.pid,
      comm: "containerd",
      socket,
    });
  });

  (["crictl", "ctr"] as const).forEach((client) => {
    it(`enters the runtime, not a decoy, and deletes through it with ${client}`, async () => {
      const image = scratch().image(`docker.io/kic-agent-it/nsenter-${client}-${uniqueToken()}:1`);
      const r = await cliFromSource(
        agentArgv(
          socket,
          "nsenter",
          "--nsenter-target",
          "containerd",
          "--client",
          client,
          "--log-format",
          "json",
          "--include",
          image.name,
        ),
      );
      expect(r.code, r.stderr).toBe(0);
      const result = parseAgentResult(r.stdout) as AgentResult;
      expect(result.runtime).toMatchObject({
        client,
        hostExec: "nsenter",
        socket,
        nsenterTarget: { pid: containerd.pid, comm: "containerd", socket },
      });
      expect(result.deleted.map((d) => d.id)).toEqual([image.id]);
      expect(imageRefs(socket)).not.toContain(image.name);
    });
  });

  it("exits 2 before touching anything when told to enter a decoy behind its own cgroup namespace", async () => {
    // Issue 26 item 2: the old check read /proc/PID/cgroup, whose path here names no pod, and
    // entered this decoy.
    const image = scratch().image(`docker.io/kic-agent-it/cgroupns-${uniqueToken()}:1`);
    const decoy = decoys.find((d) => d.why === "not in the host cgroup namespace") as Decoy;
    expect(readFileSync(`/proc/${decoy.pid}/cgroup`, "utf8")).not.toMatch(
      /kubepods|cri-containerd/,
    );
    const r = await enterDecoy(decoy, image.name);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(
      `error: --nsenter-target ${decoy.pid}: not provably the node's runtime, refused: pid ${decoy.pid} (not in the host cgroup namespace (cgroup:[`,
    );
    expect(imageRefs(socket)).toContain(image.name);
  });

  it("exits 2 before touching anything when told to enter a decoy", async () => {
    const image = scratch().image(`docker.io/kic-agent-it/decoy-${uniqueToken()}:1`);
    const decoy = decoys[0] as Decoy;
    const r = await enterDecoy(decoy, image.name);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(
      `error: --nsenter-target ${decoy.pid}: not provably the node's runtime, refused: pid ${decoy.pid} (not in the host pid namespace`,
    );
    expect(imageRefs(socket)).toContain(image.name);
  });
});
