// The agent's calls to the node's clients, against the real containerd with ctr and crictl:
// references never read as flags, an image deleted only when nothing holds its content any more,
// and no client call (nor what nsenter forked for it) outliving its timeout.
import { readdirSync, readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createHostExec } from "../../../src/agent/host-exec.js";
import type { RuntimeClientName } from "../../../src/run-model/agent-result.js";
import { blobBytes, blobsOf, ctr, Scratch, uniqueToken } from "../../support/containerd.js";
import { agentOnRuntime } from "../../support/agent-on-runtime.js";
import { holdRemoval } from "../../support/held-removal.js";

const rt = agentOnRuntime("containerd-1.6", { setPath: true });

/** Every reference (by exact name) that points at `manifest`, read from ctr's table. */
function refsTo(manifest: string): string[] {
  const names = ctr(rt.socket, ["images", "ls", "-q"]).split("\n").filter(Boolean);
  const table = ctr(rt.socket, ["images", "ls"]).split("\n").slice(1);
  return names.filter((n) =>
    table.some((line) => line.startsWith(`${n} `) && line.slice(n.length).includes(manifest)),
  );
}

describe.each(["crictl", "ctr"] as RuntimeClientName[])("removal with %s", (client) => {
  let scratch: Scratch;
  let prefix = "";
  beforeAll(() => {
    scratch = new Scratch(rt.socket);
    prefix = `docker.io/kic-agent-it/${client}-${uniqueToken()}`;
  });
  afterAll(() => {
    scratch.cleanup();
  });

  it("reports an image deleted only when no reference to its content remains, even one it cannot read", async () => {
    const image = scratch.image(`${prefix}/hidden:1`);
    const blobs = blobsOf(rt.containerd, image.manifest);
    // containerd takes any text as a name; ctr's table shows it, but not in columns one can split.
    const unreadable = `${prefix}/hidden:with space`;
    scratch.tag(image.name, unreadable);

    const result = await rt.agent({ client, include: [`${prefix}/hidden:*`] });

    const left = refsTo(image.manifest);
    if (result.deleted.some((d) => d.id === image.id)) {
      // Deleted means freed: no reference, no blob.
      expect(left).toEqual([]);
      for (const b of blobs) expect(blobBytes(rt.containerd, b.digest), b.digest).toBeUndefined();
    } else {
      expect(left.length).toBeGreaterThan(0);
      expect(result.failed.map((f) => f.id)).toEqual([image.id]);
      expect(result.failed[0]?.error).toContain(`content is not freed: ${unreadable}`);
    }
    // The CRI plugin removes every name of the image, also those CRI does not show; ctr removes
    // the names the agent read, and the one it could not read keeps the content.
    if (client === "crictl") expect(result.deleted.map((d) => d.id)).toEqual([image.id]);
    else expect(left).toEqual([unreadable]);
  });

  it("passes references after --, so a name starting with - is not taken for a flag", async () => {
    const image = scratch.image(`${prefix}/dash:1`);
    const dashed = `-kic-dash-${uniqueToken()}`;
    ctr(rt.socket, ["images", "tag", "--", image.name, dashed]);

    const result = await rt.agent({ client, include: [`${prefix}/dash:*`] });

    expect(result.failed).toEqual([]);
    expect(result.deleted.map((d) => d.id)).toEqual([image.id]);
    expect(refsTo(image.manifest)).toEqual([]);
  });
});

describe.each(["ctr", "crictl"] as RuntimeClientName[])(
  "a removal call cut short (%s)",
  (client) => {
    let scratch: Scratch;
    beforeAll(() => {
      scratch = new Scratch(rt.socket);
    });
    afterAll(() => {
      scratch.cleanup();
    });

    it("says for each image it left that the call was killed, and which names it had removed", async () => {
      const prefix = `docker.io/kic-agent-it/cut-${uniqueToken()}`;
      const images = [1, 2, 3].map((i) => scratch.image(`${prefix}/cut:${String(i)}`));
      const running = rt.agent({ client, include: [`${prefix}/cut:*`] });
      const held = await holdRemoval(images);
      // What a call cut between an image's references leaves (ctr removes them in order, the CRI
      // plugin's `sha256:<id>` reference last; crictl's RemoveImage takes them together, but a
      // name may go by another hand meanwhile): its name gone, the id reference holding its content.
      // Made here while the call is held, so which image is caught half-way does not depend on timing.
      const half = images.find((i) => refsTo(i.manifest).includes(i.name));
      expect(half, "an image the held call had not reached").toBeDefined();
      if (half === undefined) return;
      expect(refsTo(half.manifest)).toContain(half.id);
      ctr(rt.socket, ["images", "rm", "--", half.name]);
      for (const pid of held) process.kill(pid, "SIGKILL");
      const result = await running;

      const failed = new Map(result.failed.map((f) => [f.id, f.error]));
      expect(failed.get(half.id)).toBe(
        `killed by SIGKILL; names removed: ${half.name}, but references left, so its content is not freed: ${half.id}`,
      );
      // Every image of the call is accounted for: deleted (nothing of it left) or failed, saying the
      // call was killed; none is "still present after the runtime reported it removed".
      for (const image of images) {
        const left = refsTo(image.manifest);
        if (result.deleted.some((d) => d.id === image.id)) expect(left).toEqual([]);
        else expect(failed.get(image.id), image.name).toMatch(/^killed by SIGKILL; /);
      }
    });
  },
);

/** Pids whose command line is exactly `argv`. */
function processesRunning(argv: string[]): number[] {
  const want = `${argv.join("\0")}\0`;
  return readdirSync("/proc")
    .filter((p) => /^\d+$/.test(p))
    .filter((p) => {
      try {
        return readFileSync(`/proc/${p}/cmdline`, "utf8") === want;
      } catch {
        // Ended while we looked.
        return false;
      }
    })
    .map(Number);
}

describe("client calls", () => {
  it("kills the client nsenter forked, not only nsenter, when a call times out", async () => {
    // A client that hangs: `sleep` with a unique duration, so it can be found afterwards. nsenter
    // enters this process's own namespaces (--pid makes it fork the client).
    const hang = ["sleep", `${String(300 + Math.floor(Math.random() * 1000))}.5`];
    const exec = createHostExec("nsenter", { pid: process.pid }, { timeoutMs: 1000 });
    const t0 = Date.now();
    const r = await exec.run(hang);
    expect(Date.now() - t0).toBeLessThan(10_000);
    expect(r.code).toBe(137);
    expect(r.stderr).toContain("timed out after 1 s: killed");
    await new Promise((res) => setTimeout(res, 300));
    expect(processesRunning(hang)).toEqual([]);
  });

  it("ends a call at the agent's deadline, whatever the client timeout", async () => {
    const exec = createHostExec("direct", undefined, {
      timeoutMs: 60_000,
      deadlineMs: Date.now() + 1500,
    });
    const t0 = Date.now();
    const r = await exec.run(["sleep", "30"]);
    expect(r.code).toBe(137);
    expect(r.timedOut).toBe(true);
    expect(Date.now() - t0).toBeLessThan(5000);
  });

  it("a call's own limit (a pull's) replaces the client timeout, and the deadline still cuts it", async () => {
    const exec = createHostExec("direct", undefined, { timeoutMs: 300 });
    // Longer than the client timeout: its own limit lets it finish, and it did not time out.
    const slow = await exec.run(["sleep", "1"], { timeoutMs: 10_000 });
    expect(slow).toMatchObject({ code: 0 });
    expect(slow.timedOut).toBeUndefined();
    const cut = createHostExec("direct", undefined, { deadlineMs: Date.now() + 1500 });
    const t0 = Date.now();
    const r = await cut.run(["sleep", "30"], { timeoutMs: 60_000 });
    expect(r).toMatchObject({ code: 137, timedOut: true });
    expect(Date.now() - t0).toBeLessThan(5000);
  });
});
