// The retention rules end to end on the local real cluster: a grep-style include, images.keepNewest
// by the creation time in each image's config, a protected image whose reason names the Pending pod
// that needs it, and limits.maxImagesPerNode cutting the node short, each read from the Job's log.
import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { ensureCluster } from "../support/cluster.js";
import { imagesOnNode, importSampleImages, helmRelease } from "../support/helm-release.js";
import { applyIn, podOnNode, sleeper, waitReady } from "../support/kube-objects.js";

const id = randomBytes(3).toString("hex");
const ns = `kic-e2e-rules-${id}`;
const release = `rules-${id}`;
const prefix = `e2e.local/${id}`;
const month = (m: number) => `2026-${String(m).padStart(2, "0")}-01T00:00:00Z`;

/**
 * Imports sample images: for each repository, its tags `v<month>` in the order given, each built
 * on the first of that month of 2026.
 */
async function importImages(repos: Record<string, number[]>): Promise<void> {
  await importSampleImages(
    Object.entries(repos).flatMap(([repo, months]) =>
      months.map((m) => `${repo}:v${String(m)}=${month(m)}`),
    ),
  );
}

const chart = helmRelease({ ns, release, imagePrefix: prefix });

function pod(name: string, image: string, pending = false): object {
  // A config map that does not exist keeps the pod Pending: no container, yet it needs the image.
  const cfg = pending ? { volumeMounts: [{ name: "cfg", mountPath: "/cfg" }] } : {};
  return podOnNode(
    name,
    [sleeper("c", image, "Never", cfg)],
    pending ? { volumes: [{ name: "cfg", configMap: { name: "not-yet-created" } }] } : {},
  );
}

describe("retention rules on the real cluster", () => {
  it("a grep include and keepNewest 1: the newest release and the running one stay, a Pending pod's image is protected by name", async () => {
    const { nodeName } = ensureCluster();
    await importImages({
      [`${prefix}/app`]: [1, 2, 3, 4],
      [`${prefix}/api`]: [1, 2],
      [`${prefix}/tools`]: [1],
    });
    // app:v2 runs (a rolled-back release); api:v1 is what a Pending pod waits for.
    await applyIn(ns, pod("workload", `${prefix}/app:v2`));
    await applyIn(ns, pod("waiting", `${prefix}/api:v1`, true));
    await waitReady(ns, "workload");
    const escaped = prefix.replace(/\./g, "\\.");
    await chart.installValues({
      images: { include: [`/^${escaped}\\/(app|api):v[0-9]+$/`], keepNewest: 1 },
    });

    const log = await chart.runJobNow(`newest-${id}`);

    expect(await imagesOnNode(prefix)).toEqual(
      [
        `${prefix}/api:v1`,
        `${prefix}/api:v2`,
        `${prefix}/app:v2`,
        `${prefix}/app:v4`,
        `${prefix}/tools:v1`,
      ].sort(),
    );
    expect(log).toMatch(
      new RegExp(
        `^\\[1/1\\] ${nodeName}: deleted 2 images, .* reclaimed, kept 4 \\(newest 2, in-use 1, protected 1\\)`,
        "m",
      ),
    );
    expect(log).toContain(`deleted  ${prefix}/app:v1`);
    expect(log).toContain(`deleted  ${prefix}/app:v3`);
    expect(log).toContain(
      `kept     ${prefix}/app:v4  newest: newest 1 of 4 in ${prefix}/app (created 2026-04-01T00:00:00.000Z), --keep-newest 1`,
    );
    expect(log).toContain(
      `kept     ${prefix}/api:v2  newest: newest 1 of 2 in ${prefix}/api (created 2026-02-01T00:00:00.000Z), --keep-newest 1`,
    );
    expect(log).toMatch(
      new RegExp(
        `kept     ${prefix}/app:v2  in-use: container c \\(running\\) of pod ${ns}/workload`,
      ),
    );
    expect(log).toContain(
      `kept     ${prefix}/api:v1  protected: needed by pod ${ns}/waiting (Pending)`,
    );
  });

  it("limits.maxImagesPerNode 1 deletes the oldest, keeps the rest with reason limit and says the node was cut short", async () => {
    const { nodeName } = ensureCluster();
    // Imported out of build order: the limit goes by age, not by arrival.
    await importImages({ [`${prefix}/lim`]: [3, 1, 2] });
    await chart.installValues({
      images: { include: [`${prefix}/lim:*`] },
      limits: { maxImagesPerNode: 1 },
    });

    const log = await chart.runJobNow(`limit-${id}`);

    const left = (await imagesOnNode(prefix)).filter((n) => n.includes("/lim:"));
    expect(left).toEqual([`${prefix}/lim:v2`, `${prefix}/lim:v3`]);
    expect(log).toContain(`deleted  ${prefix}/lim:v1`);
    expect(log).toContain(
      `kept     ${prefix}/lim:v2  limit: --max-images-per-node 1 reached on this node (oldest deleted first): left for a later run`,
    );
    expect(log).toContain(
      "note: per-node limit reached (--max-images-per-node 1): 2 images left for the next run",
    );
    expect(log).toContain(
      "1 node cut short by a per-node limit (the oldest images went first; the next run goes on):",
    );
    expect(log).toContain(`  ${nodeName}: 2 images left (reason limit)`);
  });
});
