import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import {
  judgeTarget,
  resolveGuardedTarget,
  resolveNsenterTarget,
  type HostView,
  type ProcessFacts,
} from "../../../src/agent/nsenter-target.js";
import { parseNsenterTarget } from "../../../src/config/nsenter-target.js";
import { loadAgentConfig } from "../../../src/config/agent-options.js";
import { ConfigError, RuntimeUnavailableError } from "../../../src/errors.js";

const SOCK = "/run/containerd/containerd.sock";
const HOST_NS = "pid:[4026531836]";
const POD_NS = "pid:[4026532301]";
const HOST_CGROUP_NS = "cgroup:[4026531835]";
const HOST_MNT_NS = "mnt:[4026531840]";
const POD_CGROUP_NS = "cgroup:[4026532402]";
const POD_MNT_NS = "mnt:[4026532403]";
const LISTENING = "00010000";

interface FakeProcess {
  comm: string;
  uid?: number;
  /** PPid in /proc/PID/status (1 unless given; the kernel's kthreadd has 0). */
  ppid?: number;
  pidNs?: string;
  /** "" where it may not be read, as pid 1's pid namespace. */
  cgroupNs?: string;
  mntNs?: string;
  cgroup?: string;
  /** Field 22 of /proc/PID/stat. */
  startTime?: number;
  /** [flags, inode, path] rows of its net namespace's /proc/net/unix. */
  unix?: [string, number, string][];
  /** Socket inodes among its open fds. */
  fds?: number[];
}

// A /proc captured from a node (as facts), laid out as files and symlinks like the real one.
function fakeProc(
  processes: Record<number, FakeProcess>,
  self: { cgroupNs: string; mntNs: string } = { cgroupNs: HOST_CGROUP_NS, mntNs: HOST_MNT_NS },
): string {
  const proc = mkdtempSync(join(tmpdir(), "kic-proc-"));
  mkdirSync(join(proc, "self", "ns"), { recursive: true });
  symlinkSync(HOST_NS, join(proc, "self", "ns", "pid"));
  symlinkSync(self.cgroupNs, join(proc, "self", "ns", "cgroup"));
  symlinkSync(self.mntNs, join(proc, "self", "ns", "mnt"));
  for (const [pid, p] of Object.entries(processes)) {
    const dir = join(proc, pid);
    mkdirSync(join(dir, "ns"), { recursive: true });
    mkdirSync(join(dir, "net"));
    mkdirSync(join(dir, "fd"));
    writeFileSync(join(dir, "comm"), `${p.comm}\n`);
    writeFileSync(
      join(dir, "status"),
      `Name:\t${p.comm}\nPPid:\t${p.ppid ?? 1}\nUid:\t${p.uid ?? 0}\t${p.uid ?? 0}\t0\t0\n`,
    );
    writeFileSync(join(dir, "cgroup"), p.cgroup ?? "0::/system.slice/containerd.service\n");
    // pid 1 of a sandboxed VM: its namespaces may not be read (no symlink here: readlink fails).
    if (p.pidNs !== "") symlinkSync(p.pidNs ?? HOST_NS, join(dir, "ns", "pid"));
    const cgroupNs = p.cgroupNs ?? (p.pidNs === "" ? "" : HOST_CGROUP_NS);
    const mntNs = p.mntNs ?? (p.pidNs === "" ? "" : HOST_MNT_NS);
    if (cgroupNs !== "") symlinkSync(cgroupNs, join(dir, "ns", "cgroup"));
    if (mntNs !== "") symlinkSync(mntNs, join(dir, "ns", "mnt"));
    writeFileSync(join(dir, "stat"), statLine(Number(pid), p.comm, p.startTime ?? 1000));
    writeFileSync(
      join(dir, "net", "unix"),
      "Num       RefCount Protocol Flags    Type St Inode Path\n" +
        (p.unix ?? [])
          .map(
            ([flags, inode, path]) =>
              `0000000001: 00000002 00000000 ${flags} 0001 01 ${inode} ${path}`,
          )
          .join("\n"),
    );
    (p.fds ?? []).forEach((inode, i) => {
      symlinkSync(`socket:[${inode}]`, join(dir, "fd", String(i + 3)));
    });
  }
  return proc;
}

/** A /proc/PID/stat line; the command may hold spaces and parentheses. */
function statLine(pid: number, comm: string, startTime: number): string {
  const after = Array.from({ length: 49 }, (_, i) => (i === 18 ? startTime : 0));
  return `${String(pid)} (${comm}) S ${after.join(" ")}\n`;
}

const owner = (inode: number): Pick<FakeProcess, "unix" | "fds"> => ({
  unix: [[LISTENING, inode, SOCK]],
  fds: [inode],
});

// Every decoy is named containerd and has a lower pid than the runtime: today's "lowest pid of that
// name" would enter each of them.
const decoys: Record<number, FakeProcess> = {
  1: { comm: "process_api", pidNs: "" },
  // A pod's process in its own pid, mount and net namespace, listening at the usual path there.
  98: {
    comm: "containerd",
    pidNs: POD_NS,
    cgroupNs: POD_CGROUP_NS,
    mntNs: POD_MNT_NS,
    cgroup: "0::/kubepods/besteffort/podabc/0123456789abcdef\n",
    ...owner(501),
  },
  // A hostPID pod: host pid namespace, but the pod's cgroup (systemd driver names).
  150: {
    comm: "containerd",
    cgroup:
      "0::/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-podabc.slice/cri-containerd-0123456789abcdef0123.scope\n",
    ...owner(502),
  },
  // A host process of another user, with a socket of that name in its own mount namespace.
  200: { comm: "containerd", uid: 65534, ...owner(503) },
  // A host process named containerd that does not hold the socket: it is listed, not listening.
  300: { comm: "containerd", unix: [["00000000", 504, SOCK]], fds: [504] },
};
const runtime: FakeProcess = { comm: "containerd", ...owner(600) };

const procs: string[] = [];
afterAll(() => {
  for (const p of procs) rmSync(p, { recursive: true, force: true });
});
const proc = (processes: Record<number, FakeProcess>) => {
  const p = fakeProc(processes);
  procs.push(p);
  return p;
};

describe("--nsenter-target", () => {
  [
    { given: "1", parsed: 1 },
    { given: "2051", parsed: 2051 },
    { given: "containerd", parsed: "containerd" },
  ].forEach((t) => {
    it(`parses ${t.given} as ${typeof t.parsed === "number" ? "a pid" : "a process name"}`, () => {
      expect(parseNsenterTarget(t.given)).toBe(t.parsed);
      expect(loadAgentConfig({ include: ["x"], "nsenter-target": t.given }, {}).nsenterTarget).toBe(
        t.parsed,
      );
    });
  });

  ["0", "-3", "a/b", "two words", "a-name-longer-than-15"].forEach((bad) => {
    it(`rejects ${JSON.stringify(bad)} naming the flag`, () => {
      expect(() => loadAgentConfig({ include: ["x"], "nsenter-target": bad }, {})).toThrow(
        ConfigError,
      );
      expect(() => loadAgentConfig({ include: ["x"], "nsenter-target": bad }, {})).toThrow(
        /--nsenter-target/,
      );
    });
  });

  it("takes pid 1, the node's init with hostPID, as it is", async () => {
    expect(await resolveNsenterTarget(1, [SOCK], proc(decoys))).toEqual({ pid: 1 });
  });

  it("chooses the process that owns the runtime socket, not the lowest pid of that name", async () => {
    expect(
      await resolveNsenterTarget("containerd", [SOCK], proc({ ...decoys, 412: runtime })),
    ).toEqual({
      pid: 412,
      comm: "containerd",
      socket: SOCK,
    });
  });

  it("refuses every decoy named containerd and says why for each", async () => {
    const attempt = resolveNsenterTarget("containerd", [SOCK], proc(decoys));
    await expect(attempt).rejects.toThrow(RuntimeUnavailableError);
    const message = await attempt.then(String, (e: unknown) => (e as Error).message);
    expect(message).toContain('no process named "containerd" is provably the node\'s runtime');
    expect(message).toContain(
      `pid 98 (not in the host pid namespace (${POD_NS}; the host's is ${HOST_NS}); not in the host cgroup namespace (${POD_CGROUP_NS}; the agent's own, as pid 1's cannot be read, is ${HOST_CGROUP_NS}); not in the host mount namespace (${POD_MNT_NS}; the agent's own, as pid 1's cannot be read, is ${HOST_MNT_NS}); in a pod's cgroup (/kubepods/besteffort/podabc/0123456789abcdef))`,
    );
    expect(message).toContain("pid 150 (in a pod's cgroup (/kubepods.slice/");
    expect(message).toContain("pid 200 (not uid 0 (uid 65534/65534))");
    expect(message).toContain(`pid 300 (does not own a listening socket at ${SOCK})`);
  });

  it("refuses a pid that is not the runtime, naming the reason", async () => {
    await expect(resolveNsenterTarget(150, [SOCK], proc(decoys))).rejects.toThrow(
      /--nsenter-target 150: not provably the node's runtime, refused: pid 150 \(in a pod's cgroup/,
    );
    expect(
      await resolveNsenterTarget(412, [SOCK], proc({ ...decoys, 412: runtime })),
    ).toMatchObject({
      pid: 412,
    });
  });

  it("accepts a socket bound at /var/run for one given as /run, and refuses a socket it was not asked for", async () => {
    const p = proc({
      7: { comm: "crio", unix: [[LISTENING, 9, "/var/run/crio/crio.sock"]], fds: [9] },
    });
    expect(await resolveNsenterTarget("crio", ["/run/crio/crio.sock"], p)).toMatchObject({
      pid: 7,
    });
    await expect(resolveNsenterTarget("crio", [SOCK], p)).rejects.toThrow(
      /does not own a listening socket/,
    );
  });

  it("says hostPID is needed when no process of that name is visible", async () => {
    const attempt = resolveNsenterTarget("crio", [SOCK], proc(decoys));
    await expect(attempt).rejects.toThrow(RuntimeUnavailableError);
    await expect(attempt).rejects.toThrow(/no process named "crio".*hostPID/);
  });
});

describe("--nsenter-target judged by namespace identity (issue 26 item 2)", () => {
  // pid 1 readable, as on a real node under hostPID: the host's namespaces are pid 1's, not the
  // agent's (whose cgroup namespace is private in a pod on cgroup v2).
  const init: FakeProcess = { comm: "systemd" };
  // A pod's process in the host pid namespace, behind its own cgroup namespace: read from an
  // agent in another private cgroup namespace its cgroup path is relative (`/../../pod<uid>/...`)
  // and names no pod. The old cgroup-path test accepted it.
  const behindCgroupNs: FakeProcess = {
    comm: "containerd",
    cgroupNs: POD_CGROUP_NS,
    mntNs: POD_MNT_NS,
    cgroup: "0::/../../podd2a5f1c3-0000-4000-8000-000000000001/0123456789abcdef\n",
    ...owner(701),
  };

  it("refuses a process in another cgroup and mount namespace whose cgroup path names no pod", async () => {
    const attempt = resolveNsenterTarget(220, [SOCK], proc({ 1: init, 220: behindCgroupNs }));
    await expect(attempt).rejects.toThrow(RuntimeUnavailableError);
    await expect(attempt).rejects.toThrow(
      `pid 220 (not in the host cgroup namespace (${POD_CGROUP_NS}; pid 1's is ${HOST_CGROUP_NS}); not in the host mount namespace (${POD_MNT_NS}; pid 1's is ${HOST_MNT_NS}))`,
    );
  });

  it("refuses a process that only has its own mount namespace", async () => {
    const p = proc({ 1: init, 221: { ...runtime, mntNs: POD_MNT_NS } });
    await expect(resolveNsenterTarget(221, [SOCK], p)).rejects.toThrow(
      `pid 221 (not in the host mount namespace (${POD_MNT_NS}; pid 1's is ${HOST_MNT_NS}))`,
    );
  });

  it("compares with pid 1's namespaces, not the agent's own, where pid 1's can be read", async () => {
    const p = proc({
      1: { comm: "systemd", cgroupNs: "cgroup:[4026530001]", mntNs: "mnt:[4026530002]" },
      412: { ...runtime, cgroupNs: "cgroup:[4026530001]", mntNs: "mnt:[4026530002]" },
    });
    expect(await resolveNsenterTarget(412, [SOCK], p)).toMatchObject({ pid: 412 });
    // The agent's own namespaces (self) are not the host's here: the runtime in them is refused.
    const inAgentNs = proc({
      1: { comm: "systemd", cgroupNs: "cgroup:[4026530001]", mntNs: "mnt:[4026530002]" },
      412: runtime,
    });
    await expect(resolveNsenterTarget(412, [SOCK], inAgentNs)).rejects.toThrow(
      /not in the host cgroup namespace \(cgroup:\[4026531835\]; pid 1's is cgroup:\[4026530001\]\)/,
    );
  });

  it("re-verifies the chosen process before each nsenter, and refuses a pid that was reused", async () => {
    const p = proc({ 1: init, 412: runtime });
    const guarded = await resolveGuardedTarget("containerd", [SOCK], p);
    expect(guarded.target).toEqual({ pid: 412, comm: "containerd", socket: SOCK });
    await expect(guarded.verify()).resolves.toBeUndefined();
    // The runtime restarted; another process (a decoy that owns a socket of that name in its own
    // namespaces) now has pid 412.
    writeFileSync(join(p, "412", "stat"), statLine(412, "containerd", 99_999));
    await expect(guarded.verify()).rejects.toThrow(RuntimeUnavailableError);
    await expect(guarded.verify()).rejects.toThrow(
      /refused before nsenter: pid 412 is no longer the process chosen at start \(it ended, and the pid now belongs to another process\)/,
    );
    // Gone altogether.
    rmSync(join(p, "412"), { recursive: true });
    await expect(guarded.verify()).rejects.toThrow(
      /pid 412 is no longer the process chosen at start \(it ended\)/,
    );
  });

  it("refuses before nsenter a chosen process that moved into another mount namespace", async () => {
    const p = proc({ 1: init, 412: runtime });
    const guarded = await resolveGuardedTarget(412, [SOCK], p);
    rmSync(join(p, "412", "ns", "mnt"));
    symlinkSync(POD_MNT_NS, join(p, "412", "ns", "mnt"));
    await expect(guarded.verify()).rejects.toThrow(
      /refused before nsenter: not in the host mount namespace/,
    );
  });

  it("needs no re-verification for pid 1", async () => {
    const guarded = await resolveGuardedTarget(1, [SOCK], proc({ 1: init }));
    expect(guarded.target).toEqual({ pid: 1 });
    await expect(guarded.verify()).resolves.toBeUndefined();
  });
});

describe("--nsenter-target where pid 1 hides its namespaces (a sandboxed VM's init)", () => {
  // The agent in a pod (hostPID): its own cgroup and mount namespaces are the pod's, so they cannot
  // stand for the host's; pid 2, the kernel's kthreadd, runs in the initial namespaces.
  const inPod = { cgroupNs: POD_CGROUP_NS, mntNs: POD_MNT_NS };
  const hidden: FakeProcess = { comm: "process_api", pidNs: "" };
  const kthreadd: FakeProcess = { comm: "kthreadd", ppid: 0 };

  it("takes the host's namespaces from pid 2 and accepts the runtime there", async () => {
    const p = fakeProc({ 1: hidden, 2: kthreadd, 412: runtime }, inPod);
    procs.push(p);
    expect(await resolveNsenterTarget("containerd", [SOCK], p)).toEqual({
      pid: 412,
      comm: "containerd",
      socket: SOCK,
    });
  });

  it("still refuses a decoy in the pod's mount namespace, naming pid 2 as the reference", async () => {
    const p = fakeProc({ 1: hidden, 2: kthreadd, 230: { ...runtime, mntNs: POD_MNT_NS } }, inPod);
    procs.push(p);
    await expect(resolveNsenterTarget(230, [SOCK], p)).rejects.toThrow(
      `pid 230 (not in the host mount namespace (${POD_MNT_NS}; the kernel threads' (pid 2), as pid 1's cannot be read, is ${HOST_MNT_NS}))`,
    );
  });

  it("does not take pid 2 for the kernel's unless it is kthreadd with parent 0", async () => {
    const p = fakeProc({ 1: hidden, 2: { comm: "kthreadd" }, 412: runtime }, inPod);
    procs.push(p);
    await expect(resolveNsenterTarget("containerd", [SOCK], p)).rejects.toThrow(
      /the agent's own, as pid 1's cannot be read/,
    );
  });
});

describe("judgeTarget", () => {
  const base: ProcessFacts = {
    pid: 412,
    comm: "containerd",
    uids: [0, 0],
    pidNs: HOST_NS,
    cgroupNs: HOST_CGROUP_NS,
    mntNs: HOST_MNT_NS,
    startTime: "1000",
    cgroup: "0::/\n",
    listening: [SOCK],
  };
  const host: HostView = {
    pidNs: [HOST_NS],
    cgroupNs: { link: HOST_CGROUP_NS, from: "pid 1" },
    mntNs: { link: HOST_MNT_NS, from: "pid 1" },
    sockets: [SOCK],
  };
  [
    { name: "the runtime", facts: {}, reasons: [] },
    {
      name: "unreadable namespaces",
      facts: { pidNs: undefined },
      reasons: ["its pid namespace cannot be read"],
    },
    {
      name: "a cgroup namespace of its own",
      facts: { cgroupNs: POD_CGROUP_NS, cgroup: "0::/../../podabc/0123456789abcdef\n" },
      reasons: [
        `not in the host cgroup namespace (${POD_CGROUP_NS}; pid 1's is ${HOST_CGROUP_NS})`,
      ],
    },
    {
      name: "unreadable cgroup and mount namespaces",
      facts: { cgroupNs: undefined, mntNs: undefined },
      reasons: ["its cgroup namespace cannot be read", "its mount namespace cannot be read"],
    },
    {
      name: "a cgroup v1 pod path",
      facts: { cgroup: "4:memory:/kubepods/burstable/pod1/abc\n0::/\n" },
      reasons: ["in a pod's cgroup (/kubepods/burstable/pod1/abc)"],
    },
    {
      name: "a CRI-O container scope",
      facts: { cgroup: `0::/machine.slice/crio-${"a".repeat(64)}.scope\n` },
      reasons: [`in a pod's cgroup (/machine.slice/crio-${"a".repeat(64)}.scope)`],
    },
    {
      name: "a setuid-to-root process of another user",
      facts: { uids: [1000, 0] },
      reasons: ["not uid 0 (uid 1000/0)"],
    },
    {
      name: "no socket",
      facts: { listening: [] },
      reasons: [`does not own a listening socket at ${SOCK}`],
    },
  ].forEach((t) => {
    it(`judges ${t.name}`, () => {
      const verdict = judgeTarget({ ...base, ...t.facts }, host);
      expect(verdict).toEqual(
        t.reasons.length === 0 ? { ok: true, socket: SOCK } : { ok: false, reasons: t.reasons },
      );
    });
  });

  it("reads this test process's own facts from the real /proc", async () => {
    const { readProcessFacts } = await import("../../../src/agent/nsenter-target.js");
    const facts = await readProcessFacts(process.pid, [SOCK]);
    expect(facts.comm).toBe(readFileSync(`/proc/${String(process.pid)}/comm`, "utf8").trim());
    expect(facts.uids).toEqual([process.getuid?.(), process.geteuid?.()]);
    expect(facts.pidNs).toMatch(/^pid:\[\d+\]$/);
    expect(facts.cgroupNs).toMatch(/^cgroup:\[\d+\]$/);
    expect(facts.mntNs).toMatch(/^mnt:\[\d+\]$/);
    expect(facts.startTime).toMatch(/^\d+$/);
    expect(facts.listening).toEqual([]);
  });
});

describe("run --nsenter-target", () => {
  it("accepts exactly what the agent accepts, so no node fails on a value the controller passed", async () => {
    const { loadRunConfig } = await import("../../../src/config/run-options.js");
    const load = (v: string) => loadRunConfig({ include: ["x"], "nsenter-target": v }, {});
    expect(load("containerd").agent.nsenterTarget).toBe("containerd");
    expect(load("2051").agent.nsenterTarget).toBe("2051");
    for (const bad of ["0", "a-name-longer-than-15", "a/b"])
      expect(() => load(bad)).toThrow(/--nsenter-target/);
  });
});
