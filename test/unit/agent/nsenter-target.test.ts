import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parseNsenterTarget, resolveNsenterTarget } from "../../../src/agent/nsenter-target.js";
import { loadAgentConfig } from "../../../src/config/agent-options.js";
import { ConfigError, RuntimeUnavailableError } from "../../../src/errors.js";

// A /proc look-alike: directories named by pid holding `comm`, plus entries that are not pids.
const proc = mkdtempSync(join(tmpdir(), "kic-proc-"));
for (const [pid, comm] of [
  [1, "process_api"],
  [412, "containerd"],
  [98, "containerd"],
  [7, "kubelet"],
] as const) {
  mkdirSync(join(proc, String(pid)));
  writeFileSync(join(proc, String(pid), "comm"), `${comm}\n`);
}
mkdirSync(join(proc, "self"));
mkdirSync(join(proc, "555")); // a process that ended: no comm file
afterAll(() => {
  rmSync(proc, { recursive: true, force: true });
});

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

  it("keeps a pid as it is", async () => {
    expect(await resolveNsenterTarget(412, proc)).toBe(412);
  });

  it("resolves a process name to the oldest (lowest pid) process of that name", async () => {
    expect(await resolveNsenterTarget("containerd", proc)).toBe(98);
    expect(await resolveNsenterTarget("kubelet", proc)).toBe(7);
  });

  it("says hostPID is needed when no process of that name is visible", async () => {
    const attempt = resolveNsenterTarget("crio", proc);
    await expect(attempt).rejects.toThrow(RuntimeUnavailableError);
    await expect(attempt).rejects.toThrow(/no process named "crio".*hostPID/);
  });

  it("finds a real process by name in the real /proc", async () => {
    // This test process's own name (vitest renames its workers); the lowest pid of that name is
    // at most our own.
    const ownName = readFileSync(`/proc/${String(process.pid)}/comm`, "utf8").trim();
    expect(await resolveNsenterTarget(ownName)).toBeLessThanOrEqual(process.pid);
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
