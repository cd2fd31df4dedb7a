// Pre-pull's faults end to end on the local real cluster, through `kube-image-cleanup pull` from a
// workstation (the agent runs in helper pods from the app image this checkout built, on the
// containerd 1.6 node): an image on a registry nobody listens on, a tag the cluster's registry does
// not have, a pull Secret that does not exist, and a registry that accepts the connection and never
// answers (the node's pull outlives its deadline), and a pull Secret with a wrong password for a
// private registry (Debian's docker-registry with htpasswd, started here on loopback: the node's
// containerd 1.6 reaches a loopback registry over plain HTTP without a hosts.toml). Each is one
// line in the log, the exit code says so, and the rest of the run goes on: the other images are
// pulled, the helper pod is deleted, the next run is unaffected.
import { randomBytes } from "node:crypto";
import { createServer, type Server, type Socket } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ensureCluster, kubectl } from "../support/cluster.js";
import { cliFromSource } from "../support/agent-cli.js";
import { imagesOnNode, pullOnClusterArgs, pushImages, run } from "../support/helm-release.js";
import { freePort } from "../support/pushgateway.js";
import { startRegistry, type TestRegistry } from "../support/registry.js";

const id = randomBytes(3).toString("hex");
const ns = `kic-e2e-pf-${id}`;

describe("pull's faults on the local cluster: one line each, and the exit code says so", () => {
  const c = ensureCluster();
  const prefix = `${c.registry}/e2e-pf-${id}`;
  let closed: string;
  let silent: Server;
  let silentHost: string;
  const held: Socket[] = [];
  let locked: TestRegistry | undefined;

  /** `pull` as an operator runs it, on the cluster's one real node; its exit code and output. */
  async function pull(args: string[]): Promise<{ code: number; out: string; ms: number }> {
    const t0 = Date.now();
    const r = await cliFromSource([
      ...pullOnClusterArgs(ns),
      `--nodes=${c.nodeName}`,
      "--pull-backoff=1s",
      ...args,
    ]);
    const out = r.stdout + r.stderr;
    process.stdout.write(out);
    return { code: r.code, out, ms: Date.now() - t0 };
  }

  /** The node's section: its first line, then one line per image. */
  const section = (out: string) =>
    out.split("\n").filter((l) => l.startsWith(`[1/1] ${c.nodeName}:`) || l.startsWith("    "));

  const helperPods = async () =>
    (await kubectl(["get", "pods", "-n", ns, "-o", "name"])).split("\n").filter(Boolean);

  beforeAll(async () => {
    await kubectl(["create", "namespace", ns]);
    await kubectl(["label", "namespace", ns, "pod-security.kubernetes.io/enforce=privileged"]);
    await pushImages([1, 2, 3, 4].map((v) => `${prefix}/app:v${String(v)}`));
    // Nothing listens there: the node's runtime is refused at once.
    closed = `127.0.0.1:${String(await freePort())}`;
    // Accepts every connection and says nothing: the runtime's pull hangs (containerd sets no
    // limit of its own on the first answer), as behind a stuck proxy or a registry under load.
    silent = createServer((socket) => held.push(socket));
    await new Promise<void>((r) => silent.listen(0, "127.0.0.1", r));
    silentHost = `127.0.0.1:${String((silent.address() as { port: number }).port)}`;
  });

  afterAll(async () => {
    await locked?.stop();
    for (const s of held) s.destroy();
    silent.close();
    await kubectl(["delete", "namespace", ns, "--wait=true", "--timeout=60s"]).catch(() => "");
    const left = [
      ...(await imagesOnNode(prefix)),
      ...(locked === undefined ? [] : await imagesOnNode(`${locked.host}/e2e-pf-${id}`)),
    ];
    if (left.length > 0)
      await run("ctr", ["--address", c.containerdSocket, "-n", "k8s.io", "images", "rm", ...left]);
  });

  it("an unreachable registry and a missing tag fail their own lines; the other images are pulled; exit 1", async () => {
    const r = await pull([
      "--pull-retries=1",
      "--node-timeout=2m",
      `${prefix}/app:v1`,
      `${closed}/team/app:v1`,
      `${prefix}/app:v404`,
      `${prefix}/app:v2`,
    ]);
    expect(r.code).toBe(1);
    const lines = section(r.out);
    expect(lines[0]).toMatch(
      new RegExp(`^\\[1/1\\] ${c.nodeName}: FAILED: 2 pulled, 0 already present, 2 FAILED, `),
    );
    expect(lines).toContain(`    ${prefix}/app:v1  pulled`);
    expect(lines).toContain(`    ${prefix}/app:v2  pulled`);
    // Retried once (--pull-retries=1): a registry that does not answer may answer later.
    expect(lines.find((l) => l.startsWith(`    ${closed}/team/app:v1  `))).toMatch(
      new RegExp(
        `  failed: the registry ${closed} could not be reached: .*connection refused.* \\(after 2 attempts\\)$`,
      ),
    );
    // Not retried: the registry answered, and its answer will not change.
    expect(lines.find((l) => l.startsWith(`    ${prefix}/app:v404  `))).toMatch(
      new RegExp(
        `  failed: the registry ${c.registry} has no such image \\(tag or digest not found\\): [^\\n]*v404[^\\n]*not found$`,
      ),
    );
    expect(r.out).toMatch(
      /: 1 node: 0 ok, 1 failed; 4 images: 2 pulled, 0 already present, 2 failed \(node x image\)/,
    );
    expect(r.out).toContain(
      `  ${c.nodeName}: failed: 2 of 4 images not on the node (first: ${closed}/team/app:v1: the registry ${closed} could not be reached: `,
    );
    expect((await imagesOnNode(prefix)).filter((n) => !n.includes("@"))).toEqual([
      `${prefix}/app:v1`,
      `${prefix}/app:v2`,
    ]);
    expect(await helperPods()).toEqual([]);
  });

  it("a pull Secret that does not exist: exit 2 before any node starts, one line naming it", async () => {
    // The flag before the image, as an operator types it: the flag takes one word, not the image.
    const r = await pull(["--registry-pull-secret", "team-registry", `${prefix}/app:v3`]);
    expect(r.code).toBe(2);
    expect(r.out).toContain(
      `invalid --registry-pull-secret: given "team-registry"; no Secret team-registry in namespace ${ns}: create it there`,
    );
    expect(section(r.out)).toEqual([]);
    expect(await helperPods()).toEqual([]);
    expect(await imagesOnNode(prefix)).not.toContain(`${prefix}/app:v3`);
  });

  it("a node whose pull outlives its timeout: failed with the timeout as reason, its helper pod deleted, the next run unaffected", async () => {
    // 20 s: the agent's deadline is 15 s after the helper pod's creation, its pulls stop 2 s before.
    const r = await pull([
      "--node-timeout=20s",
      `${prefix}/app:v3`,
      `${silentHost}/team/app:v1`,
      `${prefix}/app:v4`,
    ]);
    expect(r.code).toBe(1);
    expect(held.length).toBeGreaterThan(0);
    const lines = section(r.out);
    expect(lines[0]).toMatch(
      new RegExp(
        `^\\[1/1\\] ${c.nodeName}: FAILED: 1 pulled, 0 already present, 1 FAILED, 1 not attempted, `,
      ),
    );
    expect(lines).toContain(`    ${prefix}/app:v3  pulled`);
    expect(lines.find((l) => l.startsWith(`    ${silentHost}/team/app:v1  `))).toMatch(
      new RegExp(
        `  failed: the pull did not finish before the node's deadline \\(stopped after \\d+\\.\\d s\\): raise --node-timeout \\(chart value timeouts\\.node\\), or check that the registry ${silentHost} answers$`,
      ),
    );
    expect(lines).toContain(`    ${prefix}/app:v4  not attempted: the node's deadline came first`);
    expect(r.out).toMatch(
      /: 1 node: 0 ok, 1 failed; 3 images: 1 pulled, 0 already present, 1 failed, 1 not attempted \(node x image\)/,
    );
    expect(r.out).toContain(
      `  ${c.nodeName}: failed: 2 of 3 images not on the node (first: ${silentHost}/team/app:v1: the pull did not finish before the node's deadline `,
    );
    expect(await helperPods()).toEqual([]);
    // Nothing was left stuck on the node: the image the deadline left out is pulled by the next run.
    const next = await pull(["--node-timeout=2m", `${prefix}/app:v4`]);
    expect(next.code).toBe(0);
    expect(section(next.out)).toContain(`    ${prefix}/app:v4  pulled`);
  });

  it("a pull Secret with a wrong password: that image fails naming the registry and the Secret, the others are pulled; the right one pulls it", async () => {
    locked = await startRegistry("htpasswd");
    const ref = `${locked.host}/e2e-pf-${id}/private:v1`;
    await locked.push(ref);
    const secret = (name: string, password: string) =>
      JSON.stringify({
        apiVersion: "v1",
        kind: "Secret",
        metadata: { name },
        type: "kubernetes.io/dockerconfigjson",
        stringData: {
          ".dockerconfigjson": JSON.stringify({
            auths: {
              [locked?.host ?? ""]: {
                auth: Buffer.from(`${locked?.user ?? ""}:${password}`).toString("base64"),
              },
            },
          }),
        },
      });
    await kubectl(["apply", "-n", ns, "-f", "-"], { input: secret("wrong", "not-the-password") });
    await kubectl(["apply", "-n", ns, "-f", "-"], { input: secret("right", locked.password) });
    const wrong = await pull([
      "--registry-pull-secret=wrong",
      "--pull-retries=3",
      "--node-timeout=2m",
      ref,
      `${prefix}/app:v1`,
    ]);
    expect(wrong.code).toBe(1);
    const lines = section(wrong.out);
    // Not retried (--pull-retries=3): refused credentials will not change within a run.
    expect(lines.find((l) => l.startsWith(`    ${ref}  `))).toMatch(
      new RegExp(
        `  failed: the registry ${locked.host} refused the credentials of pull Secret wrong \\(unauthorized\\): check that Secret's user and password for ${locked.host}: [^\\n]*$`,
      ),
    );
    expect(lines.find((l) => l.startsWith(`    ${ref}  `))).not.toContain("attempts");
    expect(lines).toContain(`    ${prefix}/app:v1  already present`);
    expect(wrong.out).not.toContain("not-the-password");
    expect(await helperPods()).toEqual([]);
    const right = await pull(["--registry-pull-secret=right", "--node-timeout=2m", ref]);
    expect(right.code).toBe(0);
    expect(section(right.out)).toContain(`    ${ref}  pulled`);
    expect(right.out).not.toContain(locked.password);
  });
});
