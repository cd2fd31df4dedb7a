// A node's runtime pulling from a plain-HTTP registry on loopback, configured as
// test/cluster/containerd.sh configures the cluster's node: containerd's `config_path` with a
// `<host:port>/hosts.toml` per registry, on containerd 1.6 (config version 2) and 2.x (version 3).
// The pull goes through the CRI (crictl, as the kubelet pulls), and a private registry's
// credentials reach crictl in its environment (CRICTL_AUTH), never on its command line. Then the
// agent's pre-pull on the same node: present, pulled, and each failure as one reason.
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { binDir, CONTAINERD_RUNTIMES, crictl } from "../../support/containerd.js";
import { pullingNode } from "../../support/registry.js";
import { createHostExec } from "../../../src/agent/host-exec.js";
import { createCrictlPullClient } from "../../../src/agent/crictl-pull.js";
import { pullImages } from "../../../src/agent/pull.js";
import { credentialStore } from "../../../src/registry/credentials.js";
import { freePort } from "../../support/pushgateway.js";

const execFileAsync = promisify(execFile);

/** crictl pull with an environment of its own; resolves to its exit code and output. */
async function crictlPull(
  socket: string,
  ref: string,
  env: Record<string, string> = {},
): Promise<{ code: number; output: string }> {
  const endpoint = `unix://${socket}`;
  try {
    const { stdout, stderr } = await execFileAsync(
      join(binDir, "crictl"),
      [
        "--runtime-endpoint",
        endpoint,
        "--image-endpoint",
        endpoint,
        "--timeout",
        "60s",
        "pull",
        ref,
      ],
      { env: { PATH: process.env.PATH ?? "/usr/bin:/bin", ...env } },
    );
    return { code: 0, output: stdout + stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: e.code ?? 1, output: (e.stdout ?? "") + (e.stderr ?? "") };
  }
}

describe.each(CONTAINERD_RUNTIMES)(
  "%s pulls from plain-HTTP registries through hosts.toml",
  (runtime) => {
    const node = pullingNode(runtime, (open, locked) => [
      `${open.host}/team/app:v1`,
      `${open.host}/team/app:v2`,
      `${locked.host}/private/app:v1`,
      `${locked.host}/private/app:v2`,
      `${locked.host}/private/app:v3`,
    ]);
    // What the tests start, stopped by afterAll also when a test failed.
    const started: { stop(): unknown }[] = [];

    afterAll(async () => {
      for (const s of started.reverse()) await s.stop();
    });

    it("pulls an image and records the registry's manifest digest as its repo digest", async () => {
      const ref = `${node().open.host}/team/app:v1`;
      const pulled = await crictlPull(node().cd.socket, ref);
      expect(pulled).toMatchObject({ code: 0 });
      const status = (
        JSON.parse(crictl(node().cd.socket, ["inspecti", "-o", "json", ref])) as {
          status: { repoTags: string[]; repoDigests: string[] };
        }
      ).status;
      expect(status.repoTags).toEqual([ref]);
      expect(status.repoDigests).toEqual([
        `${node().open.host}/team/app@${node().digests.get(ref) ?? "?"}`,
      ]);
    });

    it("a private registry: refused without credentials and with wrong ones, pulled with CRICTL_AUTH", async () => {
      const ref = `${node().locked.host}/private/app:v1`;
      const auth = (user: string, password: string) => ({
        CRICTL_AUTH: Buffer.from(`${user}:${password}`).toString("base64"),
      });

      // 1.6 says "401 Unauthorized"; 2.x "pull access denied, ...: authorization failed: ...".
      const refused = /401 Unauthorized|pull access denied/;
      const anonymous = await crictlPull(node().cd.socket, ref);
      expect(anonymous.code).not.toBe(0);
      expect(anonymous.output).toMatch(refused);

      const wrong = await crictlPull(
        node().cd.socket,
        ref,
        auth(node().locked.user, "wrong-password"),
      );
      expect(wrong.code).not.toBe(0);
      expect(wrong.output).toMatch(refused);
      expect(wrong.output).not.toContain("wrong-password");

      const right = await crictlPull(
        node().cd.socket,
        ref,
        auth(node().locked.user, node().locked.password),
      );
      expect(right).toMatchObject({ code: 0 });
      expect(right.output).toContain(`Image is up to date for sha256:`);
    });

    it("the agent's pre-pull: already present, pulled with the Secret's credentials, each failure one reason", async () => {
      const dir = mkdtempSync(join(tmpdir(), "kic-crictl-argv-"));
      started.push({
        stop: () => {
          rmSync(dir, { recursive: true, force: true });
        },
      });
      // A crictl that writes down its argv and whether it got credentials in its environment.
      const wrapper = join(dir, "crictl");
      writeFileSync(
        wrapper,
        `#!/bin/sh\nprintf '%s\\n' "$*" >>${join(dir, "argv")}\nprintf '%s\\n' "\${CRICTL_AUTH:+auth-in-env}" >>${join(dir, "env")}\nexec ${join(binDir, "crictl")} "$@"\n`,
        { mode: 0o755 },
      );
      const client = createCrictlPullClient(createHostExec("direct"), node().cd.socket, wrapper);
      const credentials = credentialStore([
        [
          node().locked.host,
          {
            username: node().locked.user,
            password: node().locked.password,
            source: "kic-test/pull",
          },
        ],
      ]);
      const nobody = `127.0.0.1:${String(await freePort())}`;
      const outcomes = await pullImages(
        [
          `${node().open.host}/team/app:v1`, // pulled by the first test
          `${node().open.host}/team/app:v2`,
          `${node().locked.host}/private/app:v2`,
          `${node().open.host}/team/app:v404`,
          `${nobody}/team/app:v1`,
        ],
        client,
        { credentials, retries: 1, backoffMs: 100 },
      );
      expect(outcomes.map((o) => [o.image, o.outcome, o.failure, o.attempts])).toEqual([
        [`${node().open.host}/team/app:v1`, "present", undefined, 0],
        [`${node().open.host}/team/app:v2`, "pulled", undefined, 1],
        [`${node().locked.host}/private/app:v2`, "pulled", undefined, 1],
        [`${node().open.host}/team/app:v404`, "failed", "not-found", 1],
        [`${nobody}/team/app:v1`, "failed", "unreachable", 2],
      ]);
      expect(outcomes[2]?.id).toMatch(/^sha256:[0-9a-f]{64}$/);
      expect(outcomes[4]?.detail).toMatch(
        new RegExp(`^the registry ${nobody} could not be reached: .*connection refused`),
      );
      // The password was never on crictl's command line; it came in the environment of one pull.
      const argv = readFileSync(join(dir, "argv"), "utf8");
      expect(argv).toContain(`pull -- ${node().locked.host}/private/app:v2`);
      expect(argv).not.toContain(node().locked.password);
      expect(argv).not.toContain(
        Buffer.from(`${node().locked.user}:${node().locked.password}`).toString("base64"),
      );
      expect(readFileSync(join(dir, "env"), "utf8").split("\n").filter(Boolean)).toHaveLength(1);
    });

    it("the agent's pre-pull with a wrong password: failed, unauthorized, not retried", async () => {
      const client = createCrictlPullClient(
        createHostExec("direct"),
        node().cd.socket,
        join(binDir, "crictl"),
      );
      const credentials = credentialStore([
        [
          node().locked.host,
          { username: node().locked.user, password: "wrong", source: "kic-test/pull" },
        ],
      ]);
      // v3: not pulled by the tests before (a present image would not be pulled at all).
      const [outcome] = await pullImages([`${node().locked.host}/private/app:v3`], client, {
        credentials,
        retries: 3,
        backoffMs: 100,
      });
      expect(outcome).toMatchObject({ outcome: "failed", failure: "unauthorized", attempts: 1 });
      expect(outcome?.detail).toMatch(
        new RegExp(
          `^the registry ${node().locked.host} refused the credentials of kic-test/pull \\(unauthorized\\): check that Secret's user and password`,
        ),
      );
      expect(JSON.stringify(outcome)).not.toContain("wrong");
    });
  },
);
