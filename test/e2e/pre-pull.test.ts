// Pre-pull end to end on the local real cluster: the chart's pre-pull Job (prePull.*) pulls images
// from the cluster's registry through the helper pods, as `helm install` and `helm upgrade` start
// it, with a registry pull Secret mounted and never printed; its log has a section per node (the
// cluster has one real node) with each image pulled, already present or failed: reason, and a
// summary. Then `pull --images-of` from a workstation: a Deployment's images, on the nodes it could
// run on (a nodeSelector that matches no node pulls nowhere, and says why).
// The cluster's registry has no authentication: the Secret's credentials are carried to the
// runtime's pull but never asked for here; a registry that demands them is tested on the node
// lane (test/integration/registry/agent-pull.test.ts, htpasswd).
import { randomBytes } from "node:crypto";
import { beforeAll, describe, expect, it } from "vitest";
import { cliFromSource } from "../support/agent-cli.js";
import { ensureCluster, kubectl } from "../support/cluster.js";
import {
  helmRelease,
  imagesOnNode,
  pullOnClusterArgs,
  pushImages,
  run,
} from "../support/helm-release.js";
import { applyIn, idleDeployment, pullSecret } from "../support/kube-objects.js";

const id = randomBytes(3).toString("hex");
const ns = `kic-e2e-pp-${id}`;
const release = `pp-${id}`;
const password = `kic-e2e-secret-${randomBytes(6).toString("hex")}`;

describe("pre-pull from the cluster's registry", () => {
  const c = ensureCluster();
  const prefix = `${c.registry}/e2e-pp-${id}`;
  const jobName = (revision: number) =>
    `${release}-kube-image-cleanup-pre-pull-${String(revision)}`;

  async function crictlPull(ref: string): Promise<void> {
    const endpoint = `unix://${c.containerdSocket}`;
    await run("crictl", [
      "--runtime-endpoint",
      endpoint,
      "--image-endpoint",
      endpoint,
      "pull",
      ref,
    ]);
  }

  /** Waits for the Job to end and returns its log and whether it succeeded. */
  async function jobOutcome(name: string): Promise<{ log: string; succeeded: boolean }> {
    const deadline = Date.now() + 240_000;
    for (;;) {
      const job = JSON.parse(await kubectl(["get", "job", "-n", ns, name, "-o", "json"])) as {
        status?: { succeeded?: number; failed?: number };
      };
      const done = (job.status?.succeeded ?? 0) > 0 || (job.status?.failed ?? 0) > 0;
      if (done) {
        const log = await kubectl(["logs", "-n", ns, `job/${name}`]);
        process.stdout.write(log);
        return { log, succeeded: (job.status?.succeeded ?? 0) > 0 };
      }
      if (Date.now() > deadline) throw new Error(`job ${name} did not end within 240 s`);
      await new Promise((r) => setTimeout(r, 2000));
    }
  }

  const chart = helmRelease({ ns, release, imagePrefix: prefix });

  async function install(images: string[]): Promise<void> {
    // No --wait: the pre-pull Job runs on; jobOutcome() waits for it.
    await chart.install(
      [
        "--set",
        "images.include={docker.io/acme/*}",
        "--set",
        "prePull.enabled=true",
        "--set",
        `prePull.images={${images.join(",")}}`,
        "--set",
        "prePull.backoff=1s",
        "--set",
        "registryPullSecrets={e2e-pull}",
        // Helper pods stay, so their spec can be read for the Secret.
        "--set",
        "rbac.allowPodDeletion=false",
      ],
      { wait: false },
    );
  }

  beforeAll(async () => {
    await pushImages([`${prefix}/app:v1`, `${prefix}/app:v2`, `${prefix}/app:v3`]);
    await applyIn(ns, pullSecret("e2e-pull", c.registry, "kic", password));
  });

  it("helm install: the Job pulls what is missing, says what was there, and fails a missing tag with its reason", async () => {
    await crictlPull(`${prefix}/app:v1`);
    // The pull names it by tag and by the repo digest it recorded.
    expect((await imagesOnNode(prefix)).filter((n) => !n.includes("@"))).toEqual([
      `${prefix}/app:v1`,
    ]);
    await install([`${prefix}/app:v1`, `${prefix}/app:v2`, `${prefix}/app:v404`]);
    const { log, succeeded } = await jobOutcome(jobName(1));
    // One image could not be pulled: the Job fails (exit 1), and its log says where and why.
    expect(succeeded).toBe(false);
    expect(log).toContain(`kube-image-cleanup pull `);
    expect(log).toContain(`  pull secrets: e2e-pull`);
    const section = log
      .split("\n")
      .filter((l) => l.startsWith(`[1/1] ${c.nodeName}:`) || l.startsWith("    "));
    expect(section[0]).toMatch(
      new RegExp(`^\\[1/1\\] ${c.nodeName}: FAILED: 1 pulled, 1 already present, 1 FAILED, `),
    );
    expect(section).toContain(`    ${prefix}/app:v1  already present`);
    expect(section).toContain(`    ${prefix}/app:v2  pulled`);
    expect(section.find((l) => l.startsWith(`    ${prefix}/app:v404  `))).toMatch(
      new RegExp(
        `failed: the registry ${c.registry} has no such image \\(tag or digest not found\\): `,
      ),
    );
    expect(log).toMatch(
      /summary of pull \S+: 1 node: 0 ok, 1 failed; 3 images: 1 pulled, 1 already present, 1 failed/,
    );
    expect(log).toContain(`nodes that need attention:`);
    // Pulled as the kubelet pulls: it is on the node now.
    expect((await imagesOnNode(prefix)).filter((n) => !n.includes("@"))).toEqual([
      `${prefix}/app:v1`,
      `${prefix}/app:v2`,
    ]);
  });

  it("the Secret's content is in no log and no pod spec: the helper pod mounts it by name", async () => {
    const pods = await kubectl(["get", "pods", "-n", ns, "-o", "json"]);
    const helper = (
      JSON.parse(pods) as {
        items: {
          metadata: { labels?: Record<string, string> };
          spec: { volumes?: { secret?: { secretName?: string } }[]; hostNetwork?: boolean };
        }[];
      }
    ).items.find((p) => p.metadata.labels?.["app.kubernetes.io/component"] === "agent");
    expect(helper?.spec.volumes?.map((v) => v.secret?.secretName)).toContain("e2e-pull");
    expect(helper?.spec.hostNetwork).toBeUndefined();
    const logs = await kubectl(["logs", "-n", ns, "-l", "app.kubernetes.io/component=agent"]);
    for (const text of [pods, logs, await kubectl(["logs", "-n", ns, `job/${jobName(1)}`])]) {
      expect(text).not.toContain(password);
      expect(text).not.toContain(Buffer.from(`kic:${password}`).toString("base64"));
    }
  });

  it("helm upgrade starts a Job of its own revision; all present: it succeeds", async () => {
    await install([`${prefix}/app:v1`, `${prefix}/app:v2`]);
    const { log, succeeded } = await jobOutcome(jobName(2));
    expect(succeeded).toBe(true);
    expect(log).toMatch(new RegExp(`\\[1/1\\] ${c.nodeName}: 0 pulled, 2 already present, `));
    expect(log).toMatch(
      /: 1 node: 1 ok, 0 failed; 2 images: 0 pulled, 2 already present, 0 failed/,
    );
  });

  it("pull --images-of from a workstation: a Deployment's images on the nodes it could run on", async () => {
    const deployment = (name: string, image: string, nodeSelector: Record<string, string>) =>
      idleDeployment(name, { nodeSelector, containers: [{ name: "c", image }] });
    await applyIn(
      ns,
      deployment("web", `${prefix}/app:v3`, { "kubernetes.io/hostname": c.nodeName }),
    );
    await applyIn(ns, deployment("gpu", `${prefix}/app:v3`, { pool: "gpu" }));
    const cli = async (args: string[]) => {
      const r = await cliFromSource([
        ...pullOnClusterArgs(ns),
        "--node-timeout=2m",
        "--node-selector=",
        ...args,
      ]);
      // A failed run's stderr is read as its output.
      return { code: r.code, stdout: r.code === 0 ? r.stdout : `${r.stdout}${r.stderr}` };
    };
    const nowhere = await cli(["--images-of", `deployment/${ns}/gpu`]);
    process.stdout.write(nowhere.stdout);
    expect(nowhere.code).toBe(0);
    expect(nowhere.stdout).toContain(
      `skipped:     ${c.nodeName}: cannot run deployment/${ns}/gpu: the workload's nodeSelector pool=gpu does not match`,
    );
    expect(await imagesOnNode(prefix)).not.toContain(`${prefix}/app:v3`);
    const web = await cli(["--images-of", `deployment/${ns}/web`, "--output", "json"]);
    expect(web.code).toBe(0);
    const records = web.stdout
      .split("\n")
      .filter((l) => l.startsWith("{"))
      .map((l) => JSON.parse(l) as { msg?: string; images?: { image: string; outcome: string }[] });
    const node = records.find((r) => r.msg === "node done");
    expect(node?.images).toEqual([
      expect.objectContaining({ image: `${prefix}/app:v3`, outcome: "pulled" }),
    ]);
    expect(await imagesOnNode(prefix)).toContain(`${prefix}/app:v3`);
    const missing = await cli(["--images-of", `deployment/${ns}/nope`]);
    expect(missing.code).toBe(2);
    expect(missing.stdout).toContain(`there is no deployment nope in namespace ${ns}`);
  });
});
