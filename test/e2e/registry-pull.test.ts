// Images as a node gets them from a registry, end to end on the local real cluster: sample images are
// pushed to the cluster's registry (test/cluster/registry.sh, plain HTTP on loopback, configured for
// the node's containerd in its hosts.toml), pods pull them with `imagePullPolicy: IfNotPresent` and
// `Always`, the chart's CronJob deletes the pulled images nobody uses (every name the pull gave them,
// the repo digest too), and a deleted image is pulled again by the next pod that needs it. Then
// images.onlyIfPullable: a manifest deleted in the registry between pull and run, and a side-loaded
// image, are kept with the registry's answer; a missing pull Secret stops the run (exit 2). The other
// e2e files keep their images imported (`ctr images import`), as air-gapped nodes get them.
import { randomBytes } from "node:crypto";
import { beforeAll, describe, expect, it } from "vitest";
import { ensureCluster, kubectl } from "../support/cluster.js";
import {
  imagesOnNode,
  importSampleImages,
  pushImages,
  run,
  type PushedImage,
  helmRelease,
} from "../support/helm-release.js";
import { applyIn, podOnNode, pullSecret, sleeper, waitReady } from "../support/kube-objects.js";

const id = randomBytes(3).toString("hex");
const ns = `kic-e2e-reg-${id}`;
const release = `reg-${id}`;

describe("pods pull from the cluster's registry", () => {
  const { registry } = ensureCluster();
  const prefix = `${registry}/e2e-${id}`;
  const refs = [`${prefix}/app:v1`, `${prefix}/app:v2`, `${prefix}/app:v3`, `${prefix}/web:v1`];
  let pushed: Map<string, PushedImage>;
  const chart = helmRelease({ ns, release, imagePrefix: prefix });

  /** The chart deleting only under <prefix>/onlyif/ what its registry still serves, with `secret`. */
  async function installOnlyIfPullable(secret: string, ...more: string[]): Promise<void> {
    await chart.install([
      "--set",
      `images.include={${prefix}/onlyif/*}`,
      "--set",
      "images.onlyIfPullable=true",
      "--set",
      `registryPullSecrets={${secret}}`,
      ...more,
    ]);
  }

  async function startPod(name: string, image: string, pullPolicy: "IfNotPresent" | "Always") {
    const containers = [sleeper("c", image, pullPolicy)];
    await applyIn(ns, podOnNode(name, containers, { terminationGracePeriodSeconds: 0 }));
    await waitReady(ns, name, "90s");
  }

  /** The kubelet's image events of a pod: "Pulling", "Pulled" and their messages. */
  async function pullEvents(podName: string): Promise<string[]> {
    const events = JSON.parse(
      await kubectl([
        "get",
        "events",
        "-n",
        ns,
        "--field-selector",
        `involvedObject.name=${podName}`,
        "-o",
        "json",
      ]),
    ) as { items: { reason: string; message: string }[] };
    return events.items
      .filter((e) => e.reason === "Pulling" || e.reason === "Pulled")
      .map((e) => `${e.reason}: ${e.message}`);
  }

  /** What the node's CRI says about an image: its tags and the repo digests the pull recorded. */
  async function inspectImage(ref: string): Promise<{ repoTags: string[]; repoDigests: string[] }> {
    const c = ensureCluster();
    const { stdout } = await run("crictl", [
      "--runtime-endpoint",
      `unix://${c.containerdSocket}`,
      "--image-endpoint",
      `unix://${c.containerdSocket}`,
      "inspecti",
      "-o",
      "json",
      ref,
    ]);
    return (JSON.parse(stdout) as { status: { repoTags: string[]; repoDigests: string[] } }).status;
  }

  /**
   * Waits until the node's runtime holds no container of these (deleted) pods. The API forgets a
   * pod once the kubelet has stopped its containers, but the exited containers stay in the runtime
   * until the kubelet's container GC (every minute) removes them, and the tool keeps, rightly, an
   * image an exited container still names. A run started before that GC tick saw them "in use".
   */
  async function waitUntilContainersGone(pods: string[]): Promise<void> {
    const c = ensureCluster();
    const deadline = Date.now() + 180_000;
    for (;;) {
      const { stdout } = await run("crictl", [
        "--runtime-endpoint",
        `unix://${c.containerdSocket}`,
        "ps",
        "-a",
        "-o",
        "json",
        "--label",
        `io.kubernetes.pod.namespace=${ns}`,
      ]);
      const left = (
        JSON.parse(stdout) as { containers: { labels: Record<string, string> }[] }
      ).containers.filter((k) => pods.includes(k.labels["io.kubernetes.pod.name"] ?? ""));
      if (left.length === 0) return;
      if (Date.now() > deadline)
        throw new Error(
          `the kubelet kept ${left.length} containers of ${pods.join(", ")} for 180 s`,
        );
      await new Promise((r) => setTimeout(r, 2_000));
    }
  }

  beforeAll(async () => {
    pushed = new Map((await pushImages(refs)).map((p) => [p.name, p]));
  });

  it("pulls with IfNotPresent and Always as the kubelet does: each image gets the registry's repo digest", async () => {
    expect(await imagesOnNode(prefix)).toEqual([]);
    await startPod("present", `${prefix}/app:v2`, "IfNotPresent");
    await startPod("always", `${prefix}/web:v1`, "Always");
    // Two more pulled images that nobody will use once their pods are gone.
    await startPod("old1", `${prefix}/app:v1`, "IfNotPresent");
    await startPod("old3", `${prefix}/app:v3`, "IfNotPresent");
    await kubectl(["delete", "pod", "-n", ns, "old1", "old3", "--wait=true", "--timeout=60s"]);
    await waitUntilContainersGone(["old1", "old3"]);

    for (const ref of refs) {
      const image = await inspectImage(ref);
      const repository = ref.slice(0, ref.lastIndexOf(":"));
      expect(image.repoTags).toContain(ref);
      expect(image.repoDigests).toEqual([`${repository}@${pushed.get(ref)?.manifest ?? "?"}`]);
    }
    expect(await pullEvents("present")).toEqual(
      expect.arrayContaining([
        `Pulling: Pulling image "${prefix}/app:v2"`,
        expect.stringMatching(new RegExp(`^Pulled: Successfully pulled image "${prefix}/app:v2"`)),
      ]),
    );
    // Always: the kubelet asks the registry although nothing is cached for it yet, and again at
    // every container start; the image was pulled, not found present.
    expect(await pullEvents("always")).toEqual(
      expect.arrayContaining([
        expect.stringMatching(new RegExp(`^Pulled: Successfully pulled image "${prefix}/web:v1"`)),
      ]),
    );
  });

  it("the chart's run deletes the pulled images nobody uses with every name the pull gave them, keeps the running one", async () => {
    const c = ensureCluster();
    await chart.install(["--set", `images.include={${prefix}/app:*}`]);

    const log = await chart.runJobNow(`now-${id}`);

    expect(log).toMatch(
      new RegExp(
        `^\\[1/1\\] ${c.nodeName}: deleted 2 images, .* reclaimed, kept 1 \\(in-use 1\\)`,
        "m",
      ),
    );
    expect(log).toContain(`deleted  ${prefix}/app:v1`);
    expect(log).toContain(`deleted  ${prefix}/app:v3`);
    // Neither the tag nor the repo digest the pull recorded is left of the deleted ones.
    const app = (v: string) => `${prefix}/app:${v}`;
    const digestName = (v: string) => `${prefix}/app@${pushed.get(app(v))?.manifest ?? "?"}`;
    expect(await imagesOnNode(prefix)).toEqual(
      [
        app("v2"),
        digestName("v2"),
        `${prefix}/web:v1`,
        `${prefix}/web@${pushed.get(`${prefix}/web:v1`)?.manifest ?? "?"}`,
      ].sort(),
    );
  });

  it("a deleted image is pulled again from the registry by the next pod that needs it", async () => {
    await startPod("again", `${prefix}/app:v1`, "IfNotPresent");
    expect(await pullEvents("again")).toEqual(
      expect.arrayContaining([
        expect.stringMatching(new RegExp(`^Pulled: Successfully pulled image "${prefix}/app:v1"`)),
      ]),
    );
    expect((await inspectImage(`${prefix}/app:v1`)).repoDigests).toEqual([
      `${prefix}/app@${pushed.get(`${prefix}/app:v1`)?.manifest ?? "?"}`,
    ]);
  });

  it("images.onlyIfPullable: deletes what the registry still serves, keeps a tag deleted there and a side-loaded image, each with its reason", async () => {
    const c = ensureCluster();
    const only = `${prefix}/onlyif`;
    const got = new Map(
      (await pushImages([`${only}/app:v1`, `${only}/app:v2`])).map((p) => [p.name, p]),
    );
    await startPod("pull1", `${only}/app:v1`, "IfNotPresent");
    await startPod("pull2", `${only}/app:v2`, "IfNotPresent");
    await kubectl(["delete", "pod", "-n", ns, "pull1", "pull2", "--wait=true", "--timeout=60s"]);
    await waitUntilContainersGone(["pull1", "pull2"]);
    // Side-loaded: imported under the registry's name, never pushed there (an air-gapped copy).
    await importSampleImages([`${only}/side:v1`]);
    // The registry stops serving app:v2 (its manifest, with every tag on it, is deleted there).
    const del = await fetch(
      `http://${registry}/v2/e2e-${id}/onlyif/app/manifests/${got.get(`${only}/app:v2`)?.manifest ?? "?"}`,
      { method: "DELETE" },
    );
    expect(del.status).toBe(202);
    // A pull Secret for the registry (it needs none; the Secret still travels the whole way).
    await applyIn(ns, pullSecret("registry-pull", registry, "kic", "kic-e2e-password", true));
    await installOnlyIfPullable("registry-pull");

    const log = await chart.runJobNow(`pullable-${id}`);

    expect(log).toMatch(
      new RegExp(`^\\[1/1\\] ${c.nodeName}: deleted 1 image, .* kept 2 \\(not-pullable 2\\)`, "m"),
    );
    expect(log).toContain(`deleted  ${only}/app:v1`);
    expect(log).toContain(
      `kept     ${only}/app:v2  not-pullable: ${registry} no longer serves e2e-${id}/onlyif/app:v2 (HTTP 404)`,
    );
    expect(log).toContain(
      `kept     ${only}/side:v1  not-pullable: ${registry} no longer serves e2e-${id}/onlyif/side:v1 (HTTP 404)`,
    );
    expect(log).not.toContain("kic-e2e-password");
    const left = (await imagesOnNode(prefix)).filter((n) => n.startsWith(`${only}/`));
    expect(left).toEqual(expect.arrayContaining([`${only}/app:v2`, `${only}/side:v1`]));
    expect(left).not.toContain(`${only}/app:v1`);
  });

  it("images.onlyIfPullable in helper.mode=socket: the unprivileged agent reads the mounted Secret and asks from the node's network", async () => {
    const c = ensureCluster();
    const only = `${prefix}/onlyif`;
    await installOnlyIfPullable(
      "registry-pull",
      "--set",
      "helper.mode=socket",
      "--set",
      `helper.socket.gid=${String(c.containerdSocketGid)}`,
    );

    const log = await chart.runJobNow(`socket-${id}`);

    // What the privileged run kept is kept again, for the same reasons: the Secret file was read
    // (an unreadable one fails the node) and the registry on the node's loopback answered.
    expect(log).toMatch(
      new RegExp(`^\\[1/1\\] ${c.nodeName}: deleted 0 images, .*kept 2 \\(not-pullable 2\\)`, "m"),
    );
    expect(log).toContain(
      `kept     ${only}/app:v2  not-pullable: ${registry} no longer serves e2e-${id}/onlyif/app:v2 (HTTP 404)`,
    );
  });

  it("images.onlyIfPullable with a registry pull Secret that does not exist: the run stops before any node, exit 2, naming the Secret", async () => {
    await installOnlyIfPullable("no-such-secret");
    const job = `nosecret-${id}`;
    const log = await chart.runJobNow(job, "Failed");
    expect(log).toContain(
      `invalid --registry-pull-secret: given "no-such-secret"; no Secret no-such-secret in namespace ${ns}: create it there`,
    );
    const pods = JSON.parse(
      await kubectl(["get", "pods", "-n", ns, "-l", `job-name=${job}`, "-o", "json"]),
    ) as {
      items: {
        status: { containerStatuses?: { state: { terminated?: { exitCode: number } } }[] };
      }[];
    };
    expect(pods.items[0]?.status.containerStatuses?.[0]?.state.terminated?.exitCode).toBe(2);
  });
});
