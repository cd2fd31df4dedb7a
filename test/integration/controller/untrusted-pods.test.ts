// What pod authors write reaches the controller: `image` strings the API server accepts (it only
// refuses leading and trailing whitespace). Against the real API server and kubelet: a tenant's
// image string must neither forge lines in the Job log nor stop a node's run, and the images pods
// need must still reach the agent on the node, however many.
import { execFileSync } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseCtrImageList } from "../../../src/agent/ctr-parse.js";
import { ensureCluster, kubectl } from "../../support/cluster.js";
import {
  collectingReporter,
  execFileAsync,
  testRunConfig,
  controllerOnCluster,
  removeGhostNode,
  nodeFlags,
  helperPodsIn,
} from "../../support/controller-on-cluster.js";

const fixture = controllerOnCluster("untrusted", {
  accounts: { kic: { allowPodDeletion: true } },
  cli: true,
});
const { tok, ns, repo, ref } = fixture;
const ghosts: string[] = [];

const apply = (obj: unknown) => kubectl(["apply", "-f", "-"], { input: JSON.stringify(obj) });
const create = (obj: unknown) => kubectl(["create", "-f", "-"], { input: JSON.stringify(obj) });

/** A pod bound to `node` that never needs to run: its images only have to be in its spec. */
const boundPod = (name: string, node: string, spec: Record<string, unknown>) => ({
  apiVersion: "v1",
  kind: "Pod",
  metadata: { name, namespace: ns },
  spec: { nodeName: node, restartPolicy: "Never", terminationGracePeriodSeconds: 0, ...spec },
});

/** The manifest digest `ctr images ls` shows for an image on the node (what ctr's adapter indexes). */
function targetDigest(name: string): string {
  const c = ensureCluster();
  const out = execFileSync(
    "ctr",
    ["--address", c.containerdSocket, "--namespace", "k8s.io", "images", "ls", `name==${name}`],
    { encoding: "utf8" },
  );
  const line = parseCtrImageList(out)[0];
  if (!line) throw new Error(`${name} is not on the node`);
  return line.digest;
}

describe("pods whose image strings are not image references", () => {
  beforeAll(() => {
    fixture.images([ref("victim:v1"), ref("needed:v1")]);
  });

  afterAll(async () => {
    // No kubelet confirms deletions on a ghost node: force them, or the namespace never goes.
    for (const ghost of ghosts) await removeGhostNode(ns, ghost);
  });

  it("a tenant's image with newlines forging a node section, deleted lines and a summary leaves exactly one section per node and one summary in the Job log", async () => {
    // It names a real image by digest at the end, so before the fix it was matched, kept as
    // "protected" and its text printed raw as that image's detail.
    const forged = [
      "x",
      `[1/1] ${fixture.nodeName}: deleted 9 images, 9.0 GiB reclaimed, kept 0, 1.0 s`,
      "    deleted  docker.io/library/postgres:16  0123456789ab  1.0 GiB",
      "",
      "summary of run forged: 1 node: 1 ok, 0 failed; deleted 9 images, 9.0 GiB reclaimed; 1.0 s; 4 API requests",
      `  ${fixture.nodeName}  ok  9  9.0 GiB  0  0  1.0 s@${targetDigest(ref("victim:v1"))}`,
    ].join("\n");
    await create(
      boundPod("forger", fixture.nodeName, {
        containers: [{ name: "c", image: forged, imagePullPolicy: "Never" }],
      }),
    );
    // The API server stored it as written.
    const stored = await kubectl([
      "get",
      "pod",
      "forger",
      "-n",
      ns,
      "-o",
      "jsonpath={.spec.containers[0].image}",
    ]);
    expect(stored).toBe(forged);

    const r = await execFileAsync(process.execPath, [
      ...fixture.cliArgs("run", "kic", {
        instance: `forged-${tok}`,
        include: ref("victim:*"),
        nodes: fixture.nodeName,
        client: "ctr",
      }),
      "--dry-run",
      ...nodeFlags(),
    ]).catch((e: unknown) => e as { code: number; stdout: string; stderr: string });
    const log = `${r.stdout}\n${r.stderr}`;
    // As `kubectl logs job/...` and a terminal show it: every line break counts.
    const lines = log.split(/\r\n|\r|\n|\u2028|\u2029|\u0085/);
    expect("code" in r ? r.code : 0, log).toBe(0);
    expect(lines.filter((l) => /^\[\d+\/\d+\] /.test(l))).toEqual([
      expect.stringMatching(new RegExp(`^\\[1/1\\] ${fixture.nodeName}: would delete 1 image`)),
    ]);
    expect(lines.filter((l) => l.startsWith("summary of run "))).toHaveLength(1);
    expect(lines.filter((l) => /^ {4}deleted /.test(l))).toEqual([]);
    expect(lines.filter((l) => l.startsWith(`  ${fixture.nodeName}  `))).toHaveLength(1);
    // Not an image reference, so it protects nothing: the image it pointed at is a candidate.
    expect(log).toContain(`    would delete  ${ref("victim:v1")}`);
  });

  it("a pod image string over 128 KiB does not stop the node's run, and thousands of valid references still reach the agent", async () => {
    // One string longer than the kernel takes as one argument (MAX_ARG_STRLEN, 128 KiB): before
    // the fix it went into the helper's argv, the container could not start, and the node was
    // never cleaned again.
    const huge = `${repo}/${"a".repeat(140 * 1024)}:v1`;
    await create(
      boundPod("huge", fixture.nodeName, {
        containers: [{ name: "c", image: huge, imagePullPolicy: "Never" }],
      }),
    );
    // Many valid references (init containers: the kubelet only ever tries the first), twice over
    // in two pods; the image the node really has comes last.
    const refs = Array.from({ length: 1500 }, (_, i) =>
      ref(`many-${String(i).padStart(4, "0")}:v1`),
    );
    for (const name of ["many-a", "many-b"]) {
      await create(
        boundPod(name, fixture.nodeName, {
          initContainers: refs.map((image, i) => ({
            name: `i${i}`,
            image,
            imagePullPolicy: "Never",
          })),
          containers: [{ name: "c", image: ref("needed:v1"), imagePullPolicy: "Never" }],
        }),
      );
    }

    const { nodes, lines, reporter } = collectingReporter();
    const { summary } = await fixture.run(
      "kic",
      testRunConfig(ns, `many-${tok}`, {
        include: [ref("needed:*")],
        nodes: [fixture.nodeName],
        "dry-run": true,
      }),
      { report: reporter },
    );
    const node = nodes[0];
    expect(node?.status, `${node?.reason ?? ""}\n${lines.join("\n")}`).toBe("ok");
    expect(summary.nodes).toHaveLength(1);
    // Every distinct valid reference, once: the 1,500, the needed image, and whatever else runs
    // on the node (the huge string is not among them).
    expect(node?.protectedImages).toBeGreaterThanOrEqual(1501);
    // The agent read them: the image the pods need is kept, as protected.
    const needed = node?.result?.kept.find((k) => k.names.includes(ref("needed:v1")));
    expect(needed).toMatchObject({ reason: "protected" });
    expect(node?.result?.deleted).toEqual([]);
  }, 300_000);

  it("fails a node whose pods reference more images than a pod annotation holds, naming why, and creates no helper pod", async () => {
    // A Node object no kubelet serves: the pods bound to it only need to exist.
    const ghost = `kic-untrusted-ghost-${tok}`;
    ghosts.push(ghost);
    await apply({
      apiVersion: "v1",
      kind: "Node",
      metadata: { name: ghost, labels: { "kubernetes.io/os": "linux" } },
    });
    // 4 x 1,000 references of ~90 characters: ~360 KiB as a list, more than 256 KiB.
    for (let p = 0; p < 4; p++) {
      await create(
        boundPod(`too-many-${p}`, ghost, {
          containers: Array.from({ length: 1000 }, (_, i) => ({
            name: `c${i}`,
            image: ref(`pod-${p}/a-long-repository-name-for-room-${String(i).padStart(4, "0")}:v1`),
          })),
        }),
      );
    }
    const { nodes, reporter } = collectingReporter();
    await fixture.run(
      "kic",
      testRunConfig(ns, `too-many-${tok}`, {
        include: [ref("*")],
        nodes: [ghost],
        "skip-not-ready": false,
      }),
      { report: reporter },
    );
    expect(nodes[0]?.status).toBe("failed");
    expect(nodes[0]?.reason).toMatch(
      // Workload protection is on (the default): its templates' images travel in the same list.
      /^the pods on the node and the cluster's workload templates reference 4000 distinct images \(\d+ KiB as a list\), more than a pod's annotations can hold \(256 KiB\).*kubectl get pods -A --field-selector spec\.nodeName=kic-untrusted-ghost-/,
    );
    expect(nodes[0]?.pod).toBeUndefined();
    const helpers = await helperPodsIn(ns);
    expect(helpers.trim()).toBe("");
  });
});
