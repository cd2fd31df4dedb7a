// Nothing deleted goes unrecorded, on the real cluster: a node timeout shorter than the work, and a
// run interrupted (SIGTERM) while its agent deletes. Either way the run log lists every image that
// is gone from the node's containerd.
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import type { KubeConfig } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { instanceLabels, selectorOf } from "../../../src/run-model/labels.js";
import { runController } from "../../../src/controller/run.js";
import { ensureCluster, kubectl } from "../../support/cluster.js";
import {
  buildCli,
  removeBuiltCli,
  chartRbac,
  collectingReporter,
  eventually,
  kubeFor,
  nodeImageNames,
  podsWith,
  removeNodeImages,
  sampleImages,
  serviceAccountKubeConfig,
  silent,
  testRunConfig,
  writeKubeconfig,
  type SampleImage,
} from "./support.js";
import { tempDir } from "../../support/temp-dir.js";

const tok = randomBytes(3).toString("hex");
const ns = `kic-partial-${tok}`;
const repo = `demo.local/kic-partial-${tok}`;
const tmp = tempDir("kic-partial-it-");
// On the local cluster 150 images went within the 10 s a 15 s node timeout leaves the agent: 250
// under the smallest node timeout (10 s: the agent gets 5 s) are more work than the time. The
// SIGTERM case needs the agent still busy when the signal lands after its first batch: 100 were
// sometimes all gone by then on an idle machine, 250 are not.
const COUNT = { deadline: 250, sigterm: 250 } as const;

let nodeName = "";
let kic: KubeConfig;
let cli = "";
afterAll(() => {
  removeBuiltCli(cli);
});
const made: string[] = [];
const sets: Record<keyof typeof COUNT, SampleImage[]> = { deadline: [], sigterm: [] };

function bulk(set: keyof typeof COUNT): SampleImage[] {
  const refs = Array.from({ length: COUNT[set] }, (_, i) => `${repo}/${set}:v${String(i)}`);
  made.push(...refs);
  return sampleImages(refs);
}

/** Names of `images` the run log lists as deleted (from the result, or as a partial record). */
function listedDeleted(lines: string[], images: SampleImage[]): string[] {
  return images
    .map((i) => i.name)
    .filter((name) =>
      lines.some(
        (l) =>
          l.includes(`deleted  ${name}  `) || l.includes(`deleted (partial record)  ${name}  `),
      ),
    );
}

describe("a helper that does not finish its work", () => {
  beforeAll(async () => {
    nodeName = ensureCluster().nodeName;
    cli = buildCli();
    await kubectl(["create", "namespace", ns]);
    await kubectl(["label", "namespace", ns, "pod-security.kubernetes.io/enforce=privileged"]);
    await kubectl(["apply", "-f", "-"], {
      input: chartRbac(ns, "kic", { allowPodDeletion: true }),
    });
    kic = await serviceAccountKubeConfig(ns, "kic");
    // Imported here: a few hundred milliseconds each, longer than a test may take.
    sets.deadline = bulk("deadline");
    sets.sigterm = bulk("sigterm");
  });

  afterAll(async () => {
    await kubectl(["delete", "namespace", ns, "--wait=false"]);
    await kubectl(["delete", "clusterrole,clusterrolebinding", `${ns}-kic`, "--ignore-not-found"]);
    removeNodeImages(made);
  });

  it("with a node timeout shorter than the work, the run log lists exactly what was deleted", async () => {
    const images = sets.deadline;
    const { lines, nodes, reporter } = collectingReporter();
    const config = testRunConfig(ns, `deadline-${tok}`, {
      include: [`${repo}/deadline:*`],
      nodes: [nodeName],
      "node-timeout": "10s",
    });
    await runController(config, {
      kube: kubeFor(kic, "service account kic"),
      log: silent,
      report: reporter,
      signal: new AbortController().signal,
      runId: `dl-${tok}`,
    });

    const node = nodes[0];
    expect(node?.status).toBe("failed");
    const onNode = new Set(nodeImageNames());
    const gone = images.map((i) => i.name).filter((n) => !onNode.has(n));
    // The work was more than the time: some images went, not all ...
    expect(gone.length, node?.reason).toBeGreaterThan(0);
    expect(gone.length, node?.reason).toBeLessThan(COUNT.deadline);
    // ... and the run log lists exactly those.
    expect(listedDeleted(lines, images).sort()).toEqual(gone.sort());
    expect(node?.reason).toMatch(
      /the agent stopped at its deadline with \d+ planned images not attempted: raise --node-timeout|partial record/,
    );
  });

  it("when the run is stopped (SIGTERM) while its agent deletes, the run log lists what the agent recorded", async () => {
    const images = sets.sigterm;
    const instance = `sigterm-${tok}`;
    const child = spawn(
      process.execPath,
      [
        cli,
        "run",
        "--kubeconfig",
        writeKubeconfig(kic, tmp, "kic"),
        "--namespace",
        ns,
        "--instance",
        instance,
        "--include",
        `${repo}/sigterm:*`,
        "--nodes",
        nodeName,
        "--helper-image",
        ensureCluster().image,
        "--helper-image-pull-policy",
        "Never",
        "--socket",
        ensureCluster().containerdSocket,
        "--nsenter-target",
        "containerd",
        "--node-timeout",
        "2m",
      ],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on("exit", resolve));
    // Stop the run once the agent has recorded its first batch as done.
    const pod = await eventually(async () => {
      const pods = await podsWith(ns, selectorOf(instanceLabels(instance)));
      const name = pods[0]?.metadata.name;
      if (name === undefined) return undefined;
      const log = await kubectl(["logs", "-n", ns, name]).catch(() => "");
      return log.includes('"msg":"removed images"') ? name : undefined;
    }, "the agent's first removal batch");
    child.kill("SIGTERM");
    expect(await exited, stderr).toBe(1);
    await kubectl(["wait", "-n", ns, `pod/${pod}`, "--for=delete", "--timeout=60s"]).catch(
      () => "",
    );

    const lines = stdout.split("\n");
    expect(stdout).toMatch(
      new RegExp(
        `\\[1/1\\] ${nodeName}: interrupted after .*: the run was stopped while the agent ran; before that its log records \\d+ images deleted`,
      ),
    );
    const recorded = listedDeleted(lines, images);
    const underWay = images
      .map((i) => i.name)
      .filter((n) => lines.some((l) => l.includes(`outcome unknown (partial record)  ${n}  `)));
    expect(recorded.length).toBeGreaterThan(0);
    // Every image gone from the node is on record: deleted, or in the batch that was under way.
    const onNode = new Set(nodeImageNames());
    const gone = images.map((i) => i.name).filter((n) => !onNode.has(n));
    for (const name of gone) expect([...recorded, ...underWay], name).toContain(name);
    for (const name of recorded) expect(onNode.has(name), name).toBe(false);
  });
});
