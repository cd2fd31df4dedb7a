// An image that a running pod mounts as a volume (Kubernetes ImageVolume, beta in 1.34) is kept by
// the agent on the node, because the runtime says it is mounted: on the local cluster's node when it
// runs containerd 2 (`KICTEST_RUNTIME=containerd2`, which also turns the feature gate on). Debian's
// containerd 1.6 cannot mount images, so this file is its own vitest project, e2e-containerd2, which
// npm test runs after switching the node to containerd 2 (test/cluster/on-runtime.sh); on any other
// node the file fails at once, saying how to run it (never a silent skip). The agent runs with no
// --protect list here: what the API server says the pod needs (the controller's protection) would
// hide whether the runtime's word is read.
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runAgent } from "../../src/agent/agent.js";
import { createHostExec } from "../../src/agent/host-exec.js";
import { createPrettyReporter } from "../../src/agent/report.js";
import type { AgentResult, RuntimeClientName } from "../../src/run-model/agent-result.js";
import { loadAgentConfig } from "../../src/config/agent-options.js";
import { ensureCluster, kubectl } from "../support/cluster.js";

const repo = join(import.meta.dirname, "..", "..");
const id = randomBytes(3).toString("hex");
const ns = `kic-e2e-vol-${id}`;
const prefix = `e2e.local/${id}`;
const appImage = `${prefix}/app:v1`;
const volumeImage = `${prefix}/vol:v1`;

const cluster = ensureCluster();
/** The node's runtime as the kubelet reports it, e.g. "containerd://v2.4.2". */
const nodeRuntime = execFileSync(
  join(cluster.binDir, "kubectl"),
  [
    "--kubeconfig",
    cluster.kubeconfig,
    "get",
    "node",
    cluster.nodeName,
    "-o",
    "jsonpath={.status.nodeInfo.containerRuntimeVersion}",
  ],
  { encoding: "utf8" },
);
if (!/^containerd:\/\/v?2\./.test(nodeRuntime))
  throw new Error(
    `test/e2e/image-volume.test.ts needs the node on containerd 2; ${cluster.nodeName} runs ${nodeRuntime}. ` +
      "Run it as npm test does: bash test/cluster/on-runtime.sh containerd2 npx vitest run --project e2e-containerd2",
  );

async function agent(client: RuntimeClientName): Promise<AgentResult> {
  const config = loadAgentConfig(
    {
      socket: cluster.containerdSocket,
      "host-exec": "direct",
      "node-name": cluster.nodeName,
      client,
      include: [`${prefix}/vol:*`],
    },
    {},
  );
  return runAgent(config, {
    exec: createHostExec("direct"),
    log: pino({ level: "silent" }),
    report: createPrettyReporter(() => undefined),
  });
}

/** Ids of the images on the node named `volumeImage` (crictl's own filter argument is not one). */
function imagesOnNode(): string[] {
  const listed = JSON.parse(
    execFileSync(
      join(cluster.binDir, "crictl"),
      ["--runtime-endpoint", `unix://${cluster.containerdSocket}`, "images", "-o", "json"],
      { encoding: "utf8" },
    ),
  ) as { images: { id: string; repoTags?: string[] }[] };
  return listed.images.filter((i) => i.repoTags?.includes(volumeImage)).map((i) => i.id);
}

describe(`image volumes on a containerd 2 node (this node: ${nodeRuntime})`, () => {
  const path = process.env.PATH;
  beforeAll(async () => {
    // The node's clients: the pinned crictl, containerd 2's own ctr.
    process.env.PATH = `${join(cluster.binDir, "containerd2")}:${cluster.binDir}:${path ?? ""}`;
    execFileSync("bash", [join(repo, "test/cluster/sample-images.sh"), appImage, volumeImage]);
    await kubectl(["create", "namespace", ns]);
    await kubectl(["apply", "-n", ns, "-f", "-"], {
      input: JSON.stringify({
        apiVersion: "v1",
        kind: "Pod",
        metadata: { name: "reader" },
        spec: {
          nodeName: cluster.nodeName,
          containers: [
            {
              name: "app",
              image: appImage,
              imagePullPolicy: "Never",
              command: ["sleep", "3600"],
              volumeMounts: [{ name: "data", mountPath: "/data", readOnly: true }],
            },
          ],
          volumes: [{ name: "data", image: { reference: volumeImage, pullPolicy: "Never" } }],
        },
      }),
    });
    await kubectl(["wait", "-n", ns, "pod/reader", "--for=condition=Ready", "--timeout=90s"]);
  });
  afterAll(async () => {
    process.env.PATH = path;
    await kubectl(["delete", "namespace", ns, "--wait=true", "--timeout=90s"]).catch(() => "");
    execFileSync("bash", [
      "-c",
      `ctr --address "$1" -n k8s.io images rm "$2" "$3" >/dev/null 2>&1 || true`,
      "bash",
      cluster.containerdSocket,
      appImage,
      volumeImage,
    ]);
  });

  it("the pod really reads the image's files through the volume", async () => {
    // The sample images carry busybox: its binary is in the mounted volume.
    const out = await kubectl(["exec", "-n", ns, "reader", "--", "ls", "/data/bin"]);
    expect(out).toContain("busybox");
  });

  it.each(["crictl", "ctr"] as RuntimeClientName[])(
    "keeps the image the running pod mounts as a volume (in-use: mounted as an image volume), with %s",
    async (client) => {
      const result = await agent(client);
      expect(result.failed).toEqual([]);
      expect(result.deleted).toEqual([]);
      expect(result.kept).toHaveLength(1);
      expect(result.kept[0]).toMatchObject({ reason: "in-use" });
      expect(result.kept[0]?.detail).toMatch(/mounted as an image volume/);
      expect(imagesOnNode()).toHaveLength(1);
    },
  );

  it("deletes that image once the pod and its sandbox are gone", async () => {
    await kubectl(["delete", "pod", "-n", ns, "reader", "--wait=true", "--timeout=90s"]);
    // The kubelet removes the pod's sandbox (and with it the image volume) in its own time: its
    // garbage collection runs once a minute.
    const crictl = (args: string[]) =>
      execFileSync(
        join(cluster.binDir, "crictl"),
        ["--runtime-endpoint", `unix://${cluster.containerdSocket}`, ...args],
        { encoding: "utf8" },
      );
    const end = Date.now() + 150_000;
    while (crictl(["pods", "-q", "--namespace", ns]).trim() !== "" && Date.now() < end)
      await new Promise((r) => setTimeout(r, 1000));
    expect(crictl(["pods", "-q", "--namespace", ns]).trim()).toBe("");

    const result = await agent("crictl");
    expect(result.failed).toEqual([]);
    expect(result.deleted.map((d) => d.names).flat()).toContain(volumeImage);
    expect(imagesOnNode()).toEqual([]);
  });
});
