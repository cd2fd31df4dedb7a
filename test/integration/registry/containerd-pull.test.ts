// A node's runtime pulling from a plain-HTTP registry on loopback, configured as
// test/cluster/containerd.sh configures the cluster's node: containerd's `config_path` with a
// `<host:port>/hosts.toml` per registry, on containerd 1.6 (config version 2) and 2.x (version 3).
// The pull goes through the CRI (crictl, as the kubelet pulls), and a private registry's
// credentials reach crictl in its environment (CRICTL_AUTH), never on its command line.
import { execFile } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  binDir,
  CONTAINERD_RUNTIMES,
  crictl,
  startContainerd,
  type StandaloneContainerd,
} from "../../support/containerd.js";
import { startRegistry, type TestRegistry } from "../../support/registry.js";

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
    let open: TestRegistry;
    let locked: TestRegistry;
    let cd: StandaloneContainerd;
    let certsDir: string;
    const digests = new Map<string, string>();

    beforeAll(async () => {
      open = await startRegistry("none");
      locked = await startRegistry("htpasswd");
      certsDir = mkdtempSync(join(tmpdir(), "kic-certs-d-"));
      for (const r of [open, locked]) {
        mkdirSync(join(certsDir, r.host));
        writeFileSync(
          join(certsDir, r.host, "hosts.toml"),
          `server = "http://${r.host}"\n\n[host."http://${r.host}"]\n  capabilities = ["pull", "resolve"]\n`,
        );
      }
      for (const ref of [`${open.host}/team/app:v1`, `${locked.host}/private/app:v1`])
        digests.set(ref, await (ref.startsWith(open.host) ? open : locked).push(ref));
      cd = await startContainerd({ runtime, registryConfigPath: certsDir });
    });

    afterAll(async () => {
      cd.stop();
      await open.stop();
      await locked.stop();
      rmSync(certsDir, { recursive: true, force: true });
    });

    it("pulls an image and records the registry's manifest digest as its repo digest", async () => {
      const ref = `${open.host}/team/app:v1`;
      const pulled = await crictlPull(cd.socket, ref);
      expect(pulled).toMatchObject({ code: 0 });
      const status = (
        JSON.parse(crictl(cd.socket, ["inspecti", "-o", "json", ref])) as {
          status: { repoTags: string[]; repoDigests: string[] };
        }
      ).status;
      expect(status.repoTags).toEqual([ref]);
      expect(status.repoDigests).toEqual([`${open.host}/team/app@${digests.get(ref) ?? "?"}`]);
    });

    it("a private registry: refused without credentials and with wrong ones, pulled with CRICTL_AUTH", async () => {
      const ref = `${locked.host}/private/app:v1`;
      const auth = (user: string, password: string) => ({
        CRICTL_AUTH: Buffer.from(`${user}:${password}`).toString("base64"),
      });

      // 1.6 says "401 Unauthorized"; 2.x "pull access denied, ...: authorization failed: ...".
      const refused = /401 Unauthorized|pull access denied/;
      const anonymous = await crictlPull(cd.socket, ref);
      expect(anonymous.code).not.toBe(0);
      expect(anonymous.output).toMatch(refused);

      const wrong = await crictlPull(cd.socket, ref, auth(locked.user, "wrong-password"));
      expect(wrong.code).not.toBe(0);
      expect(wrong.output).toMatch(refused);
      expect(wrong.output).not.toContain("wrong-password");

      const right = await crictlPull(cd.socket, ref, auth(locked.user, locked.password));
      expect(right).toMatchObject({ code: 0 });
      expect(right.output).toContain(`Image is up to date for sha256:`);
    });
  },
);
