import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import {
  judgeTarget,
  resolveNsenterTarget,
  type ProcessFacts,
} from "../../../src/agent/nsenter-target.js";
import { parseNsenterTarget } from "../../../src/config/nsenter-target.js";
import { loadAgentConfig } from "../../../src/config/agent-options.js";
import { ConfigError, RuntimeUnavailableError } from "../../../src/errors.js";

const SOCK = "/run/containerd/containerd.sock";
const HOST_NS = "pid:[4026531836]";
const POD_NS = "pid:[4026532301]";
const LISTENING = "00010000";

interface FakeProcess {
  comm: string;
  uid?: number;
  pidNs?: string;
  cgroup?: string;
  /** [flags, inode, path] rows of its net namespace's /proc/net/unix. */
  unix?: [string, number, string][];
  /** Socket inodes among its open fds. */
  fds?: number[];
}

// A /proc captured from a node (as facts), laid out as files and symlinks like the real one.
function fakeProc(processes: Record<number, FakeProcess>): string {
  const proc = mkdtempSync(join(tmpdir(), "kic-proc-"));
  mkdirSync(join(proc, "self", "ns"), { recursive: true });
  symlinkSync(HOST_NS, join(proc, "self", "ns", "pid"));
  for (const [pid, p] of Object.entries(processes)) {
    const dir = join(proc, pid);
    mkdirSync(join(dir, "ns"), { recursive: true });
    mkdirSync(join(dir, "net"));
    mkdirSync(join(dir, "fd"));
    writeFileSync(join(dir, "comm"), `${p.comm}\n`);
    writeFileSync(
      join(dir, "status"),
      `Name:\t${p.comm}\nUid:\t${p.uid ?? 0}\t${p.uid ?? 0}\t0\t0\n`,
    );
    writeFileSync(join(dir, "cgroup"), p.cgroup ?? "0::/system.slice/containerd.service\n");
    // pid 1 of a sandboxed VM: its namespaces may not be read (no symlink here: readlink fails).
    if (p.pidNs !== "") symlinkSync(p.pidNs ?? HOST_NS, join(dir, "ns", "pid"));
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
      `pid 98 (not in the host pid namespace (${POD_NS}; the host's is ${HOST_NS}); in a pod's cgroup (/kubepods/besteffort/podabc/0123456789abcdef))`,
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

describe("judgeTarget", () => {
  const base: ProcessFacts = {
    pid: 412,
    comm: "containerd",
    uids: [0, 0],
    pidNs: HOST_NS,
    cgroup: "0::/\n",
    listening: [SOCK],
  };
  const host = { pidNs: [HOST_NS], sockets: [SOCK] };
  [
    { name: "the runtime", facts: {}, reasons: [] },
    {
      name: "unreadable namespaces",
      facts: { pidNs: undefined },
      reasons: ["its pid namespace cannot be read"],
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
