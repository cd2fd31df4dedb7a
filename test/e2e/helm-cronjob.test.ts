// The operator's path, end to end on the local real cluster: helm install the chart, trigger the
// CronJob now, and read the audit trail with `kubectl logs job/...`; then the same with helper-pod
// deletion switched off in the RBAC.
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ensureCluster, kubectl } from "../support/cluster.js";

const run = promisify(execFile);
const repo = join(import.meta.dirname, "..", "..");
const id = randomBytes(3).toString("hex");
const ns = `kic-e2e-${id}`;
const release = `e2e-${id}`;
const prefix = `e2e.local/${id}`;
const images = [`${prefix}/app:v1`, `${prefix}/app:v2`, `${prefix}/app:v3`, `${prefix}/keep:v1`];

async function helm(args: string[]): Promise<string> {
  const c = ensureCluster();
  return (await run(join(c.binDir, "helm"), ["--kubeconfig", c.kubeconfig, ...args], { cwd: repo })).stdout;
}

/** Names of the images on the node under this test's prefix. */
async function imagesOnNode(): Promise<string[]> {
  const c = ensureCluster();
  const { stdout } = await run("ctr", ["--address", c.containerdSocket, "-n", "k8s.io", "images", "ls", "-q"]);
  return stdout.split("\n").filter((n) => n.startsWith(`${prefix}/`)).sort();
}

async function importImages(refs: string[]): Promise<void> {
  await run("bash", [join(repo, "test/cluster/sample-images.sh"), ...refs]);
}

async function installChart(extra: string[]): Promise<void> {
  await helm([
    "upgrade", "--install", release, "chart", "-n", ns, "--wait",
    "-f", "test/local-cluster-values.yaml",
    // The node's containerd socket lives in this user's cache dir (test/cluster/lib.sh).
    "--set", `runtime.socket=${ensureCluster().containerdSocket}`,
    "--set", "schedule=0 3 * * *",
    "--set", `images.include={${prefix}/app:*}`,
    // Only the real node: benchmarks may add kwok nodes to the same cluster.
    "--set", `nodes.names={${ensureCluster().nodeName}}`,
    ...extra,
  ]);
}

/** Creates a Job from the release's CronJob, waits for it to complete and returns its log. */
async function runJobNow(name: string): Promise<string> {
  const cronjob = (await kubectl(["get", "cronjob", "-n", ns, "-o", "name"])).trim();
  expect(cronjob).toMatch(/^cronjob\.batch\//);
  await kubectl(["create", "job", "-n", ns, `--from=${cronjob}`, name]);
  try {
    await kubectl(["wait", "-n", ns, `job/${name}`, "--for=condition=complete", "--timeout=240s"]);
  } finally {
    // The log is the audit trail: print it so a failure here is readable in CI.
    process.stdout.write(await kubectl(["logs", "-n", ns, `job/${name}`]).catch((e: unknown) => String(e)));
  }
  return kubectl(["logs", "-n", ns, `job/${name}`]);
}

async function helperPods(): Promise<string[]> {
  const out = await kubectl([
    "get", "pods", "-n", ns, "-l", "app.kubernetes.io/component=agent", "-o", "jsonpath={.items[*].metadata.name}",
  ]);
  return out.split(/\s+/).filter(Boolean);
}

describe("helm install → CronJob → kubectl logs job", () => {
  beforeAll(async () => {
    const { nodeName } = ensureCluster();
    await kubectl(["create", "namespace", ns]);
    await kubectl(["label", "namespace", ns, "pod-security.kubernetes.io/enforce=privileged"]);
    await importImages(images);
    // app:v3 is what a running pod uses.
    await kubectl(["apply", "-n", ns, "-f", "-"], {
      input: JSON.stringify({
        apiVersion: "v1",
        kind: "Pod",
        metadata: { name: "workload" },
        spec: {
          nodeName,
          containers: [{ name: "app", image: `${prefix}/app:v3`, imagePullPolicy: "Never", command: ["sleep", "3600"] }],
        },
      }),
    });
    await kubectl(["wait", "-n", ns, "pod/workload", "--for=condition=Ready", "--timeout=60s"]);
  });

  afterAll(async () => {
    await helm(["uninstall", release, "-n", ns]).catch(() => "");
    await kubectl(["delete", "namespace", ns, "--wait=true", "--timeout=60s"]).catch(() => "");
    const left = await imagesOnNode();
    if (left.length > 0) {
      const c = ensureCluster();
      await run("ctr", ["--address", c.containerdSocket, "-n", "k8s.io", "images", "rm", ...left]);
    }
  });

  it("deletes the matching unused images, keeps the used one, and logs a section per node and a summary", async () => {
    const { nodeName } = ensureCluster();
    await installChart([]);
    expect(await imagesOnNode()).toEqual(images.slice().sort());

    const log = await runJobNow(`now-${id}`);

    expect(await imagesOnNode()).toEqual([`${prefix}/app:v3`, `${prefix}/keep:v1`]);
    expect(log).toMatch(new RegExp(`^kube-image-cleanup run \\S+`, "m"));
    expect(log).toContain(`include:     ${prefix}/app:*`);
    expect(log).toMatch(new RegExp(`^\\[1/1\\] ${nodeName}: deleted 2 images, .* reclaimed, kept 1 \\(in-use 1\\)`, "m"));
    expect(log).toContain(`deleted  ${prefix}/app:v1`);
    expect(log).toContain(`deleted  ${prefix}/app:v2`);
    expect(log).toMatch(/^summary of run \S+: 1 node: 1 ok, 0 failed; deleted 2 images/m);
    // Deletion allowed: no helper pod is left behind.
    expect(await helperPods()).toEqual([]);
  });

  it("with rbac.allowPodDeletion=false keeps the helper pod and prints the command that deletes it", async () => {
    await importImages([`${prefix}/app:v1`]);
    await installChart(["--set", "rbac.allowPodDeletion=false"]);
    const role = JSON.parse(await kubectl(["get", "role", "-n", ns, "-o", "json"])) as {
      items: { rules: { resources: string[]; verbs: string[] }[] }[];
    };
    const podVerbs = role.items.flatMap((r) => r.rules).filter((r) => r.resources.includes("pods")).flatMap((r) => r.verbs);
    expect(podVerbs).not.toContain("delete");

    const log = await runJobNow(`keep-${id}`);

    expect(await imagesOnNode()).toEqual([`${prefix}/app:v3`, `${prefix}/keep:v1`]);
    expect(await helperPods()).toHaveLength(1);
    const command = /^\s*(kubectl delete pods -n \S+ -l \S+)\s*$/m.exec(log)?.[1];
    expect(command, "the log ends with the kubectl delete command").toBeDefined();
    // The printed command is the real cleanup: run it (as the admin) and the helper pod is gone.
    const args = (command ?? "").split(" ").slice(1);
    await kubectl(args);
    await kubectl(["wait", "-n", ns, "pods", "-l", "app.kubernetes.io/component=agent", "--for=delete", "--timeout=60s"]).catch(() => "");
    expect(await helperPods()).toEqual([]);
  });
});
