// Workload protection end to end on the local real cluster, through the chart: a suspended CronJob's
// image and the image of a Deployment scaled to zero are kept with reasons naming them, while no pod
// uses either, and deleted by the first run after those workloads are gone. The run also keeps
// --unused-for clocks (images.unusedFor: 0s), proving the flag passes the admission policy and the
// labels are written on the node through nsenter.
import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { ensureCluster, kubectl } from "../support/cluster.js";
import {
  ctrOnNode,
  helmRelease,
  imagesOnNode,
  importSampleImages,
} from "../support/helm-release.js";
import { applyIn, idleDeployment, sleeper } from "../support/kube-objects.js";

const id = randomBytes(3).toString("hex");
const ns = `kic-e2e-workloads-${id}`;
const release = `workloads-${id}`;
const prefix = `e2e.local/${id}`;
const chart = helmRelease({ ns, release, imagePrefix: prefix });

const container = (image: string) => sleeper("c", image);

/** The clock label of an image reference on the node, or undefined. */
async function clockOf(ref: string): Promise<string | undefined> {
  const stdout = await ctrOnNode(["images", "ls"]);
  // The clock is kept on the image's own record (named sha256:<image id>), which points at the
  // same manifest digest as the tag's record.
  const lines = stdout.split("\n");
  const digest = lines.find((l) => l.startsWith(`${ref} `))?.split(/\s+/)[2];
  const own = lines.find((l) => l.startsWith("sha256:") && l.split(/\s+/)[2] === digest);
  return /kube-image-cleanup\.io\/unused-since=([^,\s]+)/.exec(own ?? "")?.[1];
}

describe("workload protection on the real cluster", () => {
  it("keeps a suspended CronJob's and a zero-replica Deployment's images, naming them, and deletes them once the workloads are gone", async () => {
    const { nodeName } = ensureCluster();
    await importSampleImages([`${prefix}/backup:v1`, `${prefix}/web:v1`, `${prefix}/loose:v1`]);
    const backup = { restartPolicy: "Never", containers: [container(`${prefix}/backup:v1`)] };
    await applyIn(ns, {
      apiVersion: "batch/v1",
      kind: "CronJob",
      metadata: { name: "backup" },
      spec: {
        schedule: "0 3 * * *",
        suspend: true,
        jobTemplate: { spec: { template: { spec: backup } } },
      },
    });
    await applyIn(ns, idleDeployment("web", { containers: [container(`${prefix}/web:v1`)] }));
    await chart.installValues({ images: { include: [`${prefix}/*`], unusedFor: "0s" } });

    const first = await chart.runJobNow(`first-${id}`);

    expect(await imagesOnNode(prefix)).toEqual([`${prefix}/backup:v1`, `${prefix}/web:v1`].sort());
    expect(first).toContain(`deleted  ${prefix}/loose:v1`);
    expect(first).toContain(
      `kept     ${prefix}/backup:v1  protected: needed by cronjob ${ns}/backup`,
    );
    // The Deployment's ReplicaSet names the image too: the first workload by kind is the Deployment.
    expect(first).toContain(
      `kept     ${prefix}/web:v1  protected: needed by deployment ${ns}/web and 1 other workload`,
    );
    expect(first).toMatch(new RegExp(`^\\[1/1\\] ${nodeName}: deleted 1 image`, "m"));
    // Kept by their workloads, unused on the node: their --unused-for clocks run.
    expect(await clockOf(`${prefix}/backup:v1`)).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);

    await kubectl([
      "delete",
      "-n",
      ns,
      "cronjob/backup",
      "deployment/web",
      "--cascade=foreground",
      "--wait=true",
    ]);
    await kubectl([
      "wait",
      "-n",
      ns,
      "replicaset",
      "-l",
      "app=web",
      "--for=delete",
      "--timeout=60s",
    ]).catch(() => "");

    const second = await chart.runJobNow(`second-${id}`);

    expect(second).toContain(`deleted  ${prefix}/backup:v1`);
    expect(second).toContain(`deleted  ${prefix}/web:v1`);
    expect(await imagesOnNode(prefix)).toEqual([]);
  });
});
