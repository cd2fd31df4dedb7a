// The agent's pull action as a helper pod runs it (`kube-image-cleanup agent --action=pull ...`,
// the real CLI, JSON log), on containerd 1.6 and 2 reached through crictl, against real registries
// on loopback: an open one and a private one (htpasswd) whose credentials come from a
// .dockerconfigjson file, as a mounted image pull Secret. Per image: pulled, already present, or
// failed with one reason; the credentials never reach the log or crictl's command line.
import { createServer, type Socket } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CONTAINERD_RUNTIMES, crictl } from "../../support/containerd.js";
import { cliFromSource, type CliOutcome } from "../../support/agent-cli.js";
import { mountedPullSecret, pullingNode } from "../../support/registry.js";
import { tempDir } from "../../support/temp-dir.js";
import { parsePullLog } from "../../../src/controller/pull-log.js";

describe.each(CONTAINERD_RUNTIMES)("the agent's pull action on %s", (runtime) => {
  const node = pullingNode(runtime, (open, locked) => [
    `${open.host}/team/base:v1`,
    `${open.host}/team/app:v1`,
    `${locked.host}/private/app:v1`,
    `${locked.host}/private/app:v2`,
  ]);
  const dir = tempDir("kic-agent-pull-");
  let secretFile: string;
  let wrongSecretFile: string;
  // What the tests start, stopped by afterAll also when a test failed.
  const started: { stop(): unknown }[] = [];

  /** The CLI as the helper pod runs it (direct host exec: crictl on PATH against the socket). */
  function agent(args: string[]): Promise<CliOutcome> {
    return cliFromSource(
      [
        "agent",
        "--action=pull",
        `--socket=${node().cd.socket}`,
        "--host-exec=direct",
        "--node-name=node-a",
        "--pull-backoff=1s",
        ...args,
      ],
      { PATH: node().cd.path },
    );
  }

  beforeAll(() => {
    secretFile = mountedPullSecret(dir, "team-registry", node().locked);
    wrongSecretFile = mountedPullSecret(dir, "wrong", node().locked, "not-the-password");
  });

  afterAll(async () => {
    for (const s of started.reverse()) await s.stop();
  });

  it("pulls what is missing with the Secret's credentials, says which were present, and fails a missing tag with its reason", async () => {
    crictl(node().cd.socket, ["pull", `${node().open.host}/team/base:v1`]);
    const images = [
      `${node().open.host}/team/base:v1`,
      `${node().open.host}/team/app:v1`,
      `${node().locked.host}/private/app:v1`,
      `${node().open.host}/team/app:v404`,
    ];
    const r = await agent([
      "--log-format=json",
      "--client=crictl",
      `--pull-secret-file=${secretFile}`,
      ...images.map((i) => `--pull-image=${i}`),
    ]);
    // An image that is not on the node is work not done.
    expect(r.code).toBe(1);
    const parsed = parsePullLog(r.stdout);
    if (!parsed.ok) throw new Error(`${parsed.reason}\n${r.stdout}\n${r.stderr}`);
    expect(parsed.result.node).toBe("node-a");
    expect(parsed.result.runtime.client).toBe("crictl");
    expect(parsed.result.images.map((o) => [o.image, o.outcome, o.failure])).toEqual([
      [images[0], "present", undefined],
      [images[1], "pulled", undefined],
      [images[2], "pulled", undefined],
      [images[3], "failed", "not-found"],
    ]);
    expect(parsed.result.images[3]?.detail).toMatch(
      new RegExp(
        `^the registry ${node().open.host} has no such image \\(tag or digest not found\\): `,
      ),
    );
    // Pulled through the CRI: the runtime has both, with the registry's repo digest.
    const status = JSON.parse(
      crictl(node().cd.socket, ["inspecti", "-o", "json", `${node().locked.host}/private/app:v1`]),
    ) as { status: { repoDigests: string[] } };
    expect(status.status.repoDigests[0]).toMatch(
      new RegExp(`^${node().locked.host}/private/app@sha256:`),
    );
    // Never the password, nor the base64 crictl gets, in the log.
    const all = r.stdout + r.stderr;
    expect(all).not.toContain(node().locked.password);
    expect(all).not.toContain(
      Buffer.from(`${node().locked.user}:${node().locked.password}`).toString("base64"),
    );
  });

  it("pretty output: one line per image, then the counts; with auto the client is crictl", async () => {
    const r = await agent([
      "--client=auto",
      `--pull-secret-file=${secretFile}`,
      `--pull-image=${node().open.host}/team/app:v1`,
      `--pull-image=${node().locked.host}/private/app:v2`,
    ]);
    expect(r.code).toBe(0);
    const lines = r.stdout.split("\n");
    expect(lines[0]).toMatch(
      /^node node-a: containerd .* via crictl, socket .*; pulling 2 images$/,
    );
    expect(lines[1]).toMatch(
      new RegExp(`^  ${node().open.host}/team/app:v1  already present \\(\\d+ ms\\)$`),
    );
    expect(lines[2]).toMatch(
      new RegExp(`^  ${node().locked.host}/private/app:v2  pulled \\(\\d+ ms\\)$`),
    );
    expect(lines[3]).toMatch(/^done: 1 pulled, 1 already present, 0 failed \(\d+ ms\)$/);
  });

  it("a wrong password and no credentials: failed, unauthorized, at the first attempt", async () => {
    const ref = `${node().locked.host}/private/app:v3`;
    await node().locked.push(ref);
    const wrong = await agent([
      "--log-format=json",
      "--pull-retries=3",
      `--pull-secret-file=${wrongSecretFile}`,
      `--pull-image=${ref}`,
    ]);
    expect(wrong.code).toBe(1);
    const parsed = parsePullLog(wrong.stdout);
    if (!parsed.ok) throw new Error(parsed.reason);
    expect(parsed.result.images[0]).toMatchObject({
      outcome: "failed",
      failure: "unauthorized",
      attempts: 1,
    });
    // Whose credentials were refused: the Secret's name (its mount directory), never its content.
    expect(parsed.result.images[0]?.detail).toMatch(
      new RegExp(
        `^the registry ${node().locked.host} refused the credentials of pull Secret wrong \\(unauthorized\\): `,
      ),
    );
    expect(wrong.stdout).not.toContain("not-the-password");
    const anonymous = await agent(["--log-format=json", `--pull-image=${ref}`]);
    const anon = parsePullLog(anonymous.stdout);
    if (!anon.ok) throw new Error(anon.reason);
    expect(anon.result.images[0]?.detail).toMatch(
      new RegExp(
        `^the registry ${node().locked.host} refused the pull \\(unauthorized\\) and no pull Secret has credentials for it: add one`,
      ),
    );
  });

  it("a registry that accepts and never answers: the pull is stopped at the deadline, the rest is not attempted, the result is printed", async () => {
    // Holds every connection open and says nothing: the runtime's pull hangs (containerd sets no
    // limit of its own on the first answer), as on a registry behind a stuck proxy.
    const held: Socket[] = [];
    const silent = createServer((socket) => held.push(socket));
    await new Promise<void>((r) => silent.listen(0, "127.0.0.1", r));
    started.push({
      stop: () => {
        for (const s of held) s.destroy();
        silent.close();
      },
    });
    const host = `127.0.0.1:${String((silent.address() as { port: number }).port)}`;
    const t0 = Date.now();
    const r = await agent([
      "--log-format=json",
      "--deadline=8s",
      `--pull-image=${node().open.host}/team/app:v1`,
      `--pull-image=${host}/team/app:v1`,
      `--pull-image=${node().open.host}/team/base:v1`,
    ]);
    const took = Date.now() - t0;
    expect(r.code).toBe(1);
    const parsed = parsePullLog(r.stdout);
    if (!parsed.ok) throw new Error(`${parsed.reason}\n${r.stdout}\n${r.stderr}`);
    expect(parsed.result.images.map((o) => [o.image, o.outcome, o.failure])).toEqual([
      [`${node().open.host}/team/app:v1`, "present", undefined],
      [`${host}/team/app:v1`, "failed", "timeout"],
      [`${node().open.host}/team/base:v1`, "not-attempted", undefined],
    ]);
    expect(parsed.result.images[1]?.detail).toMatch(
      new RegExp(
        `^the pull did not finish before the node's deadline \\(stopped after \\d+\\.\\d s\\): raise --node-timeout \\(chart value timeouts\\.node\\), or check that the registry ${host} answers$`,
      ),
    );
    expect(parsed.result.images[2]?.detail).toBe("the node's deadline came first");
    // Within the deadline (8 s from the agent's start; vite-node's own start comes on top).
    expect(took).toBeLessThan(20_000);
    expect(held.length).toBeGreaterThan(0);
  });

  it("ctr cannot pull for pre-pull: refused before anything runs (exit 2, naming the flag)", async () => {
    const r = await agent(["--client=ctr", `--pull-image=${node().open.host}/team/app:v1`]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(
      'invalid --client: given "ctr"; --action pull pulls through the CRI',
    );
  });
});
