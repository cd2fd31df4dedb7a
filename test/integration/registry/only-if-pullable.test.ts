// --only-if-pullable on a real node runtime (containerd 1.6, CRI) and a real private registry with
// Docker Hub's token flow: images pulled as a node pulls them are deleted only while the registry
// still serves them; a manifest deleted in the registry between pull and run, a side-loaded image
// the registry never had, and an image whose registry does not answer are kept with their reason.
import { execFile } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AgentResult } from "../../../src/run-model/agent-result.js";
import {
  binDir,
  imageRefs,
  pathWithBins,
  Scratch,
  type StandaloneContainerd,
} from "../../support/containerd.js";
import { freePort } from "../../support/pushgateway.js";
import {
  mountedPullSecret,
  pushEach,
  startContainerdPullingFrom,
  startRegistry,
  type TestRegistry,
} from "../../support/registry.js";
import { runAgentDirect } from "../../support/agent-on-runtime.js";
import { tempDir } from "../../support/temp-dir.js";

const execFileAsync = promisify(execFile);

describe("--only-if-pullable on containerd with a private registry (token auth)", () => {
  let registry: TestRegistry;
  let cd: StandaloneContainerd;
  let scratch: Scratch;
  const dir = tempDir("kic-pullable-");
  let secretFile: string;
  const started: { stop(): unknown }[] = [];
  let digests = new Map<string, string>();

  async function pull(ref: string): Promise<void> {
    const endpoint = `unix://${cd.socket}`;
    await execFileAsync(
      join(binDir, "crictl"),
      ["--runtime-endpoint", endpoint, "--image-endpoint", endpoint, "pull", ref],
      {
        env: {
          PATH: pathWithBins,
          CRICTL_AUTH: Buffer.from(`${registry.user}:${registry.password}`).toString("base64"),
        },
      },
    );
  }

  const agent = (args: Record<string, unknown>, lines: string[]): Promise<AgentResult> =>
    runAgentDirect(cd.socket, { client: "crictl", ...args }, { lines });

  beforeAll(async () => {
    registry = await startRegistry("token");
    started.push(registry);
    // The pull Secret as the helper pod sees it: the Secret's .dockerconfigjson key, mounted.
    secretFile = mountedPullSecret(join(dir, "secrets"), "registry-pull", registry);
    digests = await pushEach(
      [registry],
      ["v1", "v2", "v3"].map((tag) => `${registry.host}/team/app:${tag}`),
    );
    cd = await startContainerdPullingFrom(dir, [registry]);
    started.push(cd);
    process.env.PATH = pathWithBins;
    scratch = new Scratch(cd.socket);
    started.push({
      stop: () => {
        scratch.cleanup();
      },
    });
    for (const tag of ["v1", "v2", "v3"]) await pull(`${registry.host}/team/app:${tag}`);
  });

  afterAll(async () => {
    for (const s of started.reverse()) await s.stop();
  });

  it("without the pull Secret nothing is known to be pullable: everything is kept, the reason says why", async () => {
    const lines: string[] = [];
    const result = await agent(
      { include: [`${registry.host}/team/app:*`], "only-if-pullable": true, "dry-run": true },
      lines,
    );
    expect(result.deleted).toEqual([]);
    expect(result.kept.map((k) => k.reason)).toEqual([
      "not-pullable",
      "not-pullable",
      "not-pullable",
    ]);
    expect(result.kept[0]?.detail).toMatch(
      /^token service 127\.0\.0\.1:\d+ wants credentials \(HTTP 401\) and no pull Secret names the registry: not known to be pullable$/,
    );
  });

  it("deletes what the registry still serves; keeps a deleted manifest, a side-loaded image and an unreachable registry's image", async () => {
    const v2 = `${registry.host}/team/app:v2`;
    await registry.deleteManifest("team/app", digests.get(v2) ?? "");
    // Side-loaded: imported under the registry's name, never pushed there.
    const side = scratch.image(`${registry.host}/team/side:v1`);
    const nobody = `127.0.0.1:${String(await freePort())}`;
    const gone = scratch.image(`${nobody}/team/gone:v1`);
    const lines: string[] = [];

    const result = await agent(
      {
        include: [`${registry.host}/team/**`, `${nobody}/**`],
        "only-if-pullable": true,
        "pull-secret-file": [secretFile],
        "registry-timeout": "5s",
      },
      lines,
    );

    expect(result.failed).toEqual([]);
    expect(result.deleted.flatMap((d) => d.names).filter((n) => n.includes(":v"))).toEqual([
      `${registry.host}/team/app:v1`,
      `${registry.host}/team/app:v3`,
    ]);
    const kept: Record<string, string> = Object.fromEntries(
      result.kept.map((k): [string, string] => [
        k.names[0] ?? k.id,
        `${k.reason}: ${k.detail ?? ""}`,
      ]),
    );
    expect(kept).toEqual({
      [v2]: `not-pullable: ${registry.host} no longer serves team/app:v2 (HTTP 404)`,
      [side.name]: `not-pullable: ${registry.host} no longer serves team/side:v1 (HTTP 404)`,
      [gone.name]: `not-pullable: ${nobody} not reached: ECONNREFUSED: not known to be pullable`,
    });
    expect(imageRefs(cd.socket)).toEqual(expect.arrayContaining([v2, side.name, gone.name]));
    expect(imageRefs(cd.socket)).not.toContain(`${registry.host}/team/app:v1`);
    expect(lines.join("\n")).toContain(`no longer serves team/app:v2 (HTTP 404)`);
    // The Secret's password is nowhere in what the agent printed.
    expect(lines.join("\n")).not.toContain(registry.password);
  });

  it("a pull Secret file that is no dockerconfigjson stops the agent before it asks anything (exit 2)", async () => {
    const bad = join(dir, "secrets", "bad.json");
    writeFileSync(bad, '{"auths": "not an object", "password": "hunter2"}');
    const run = agent(
      { include: [`${registry.host}/**`], "only-if-pullable": true, "pull-secret-file": [bad] },
      [],
    );
    await expect(run).rejects.toMatchObject({
      exitCode: 2,
      message: expect.stringContaining(`invalid --pull-secret-file: given "${bad}"`) as string,
    });
    await expect(run).rejects.not.toMatchObject({
      message: expect.stringContaining("hunter2") as string,
    });
  });
});
