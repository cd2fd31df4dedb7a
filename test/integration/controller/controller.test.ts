// The controller against the real local cluster: a real kube-apiserver with RBAC, the controller
// authenticated as service accounts bound to exactly the chart's RBAC, and helper pods running the
// real agent through nsenter against the real node's containerd.
import { KubeConfig } from "@kubernetes/client-node";
import { beforeAll, describe, expect, it } from "vitest";
import { instanceLabels, runSelector, selectorOf } from "../../../src/run-model/labels.js";
import { summaryExitCode } from "../../../src/run-model/run-summary.js";
import { ensureCluster, kubectl } from "../../support/cluster.js";
import {
  collectingReporter,
  eventually,
  execFileAsync,
  nodeImageNames,
  podsWith,
  serviceAccountKubeConfig,
  testRunConfig,
  writeKubeconfig,
  controllerOnCluster,
  removeGhostNode,
  nodeFlags,
  startCli,
  WORKLOAD_READS,
} from "../../support/controller-on-cluster.js";

const fixture = controllerOnCluster("ctl", {
  accounts: {
    kic: { allowPodDeletion: true },
    "kic-nodelete": { allowPodDeletion: false },
    "kic-nocluster": { allowPodDeletion: true, clusterRole: false },
  },
  cli: true,
});
const { tok, ns, repo, ref, tmp } = fixture;

const podManifest = (
  name: string,
  image: string,
  extra: { metadata?: Record<string, unknown>; spec?: Record<string, unknown> } = {},
) =>
  fixture.pod(
    name,
    { containers: [{ name: "c", image, imagePullPolicy: "Never" }], ...extra.spec },
    extra.metadata,
  );

const apply = (obj: unknown) => kubectl(["apply", "-f", "-"], { input: JSON.stringify(obj) });

async function ghostNode(suffix = ""): Promise<string> {
  // A Node object no kubelet serves: pods bound to it stay Pending, as on a node that went away.
  const name = `kic-ghost-${tok}${suffix}`;
  await apply({
    apiVersion: "v1",
    kind: "Node",
    metadata: { name, labels: { "kubernetes.io/os": "linux", "kic-test": ns } },
  });
  return name;
}

const removeGhost = (name: string) => removeGhostNode(ns, name);

/** `run --include x/*` by the built CLI with kubeconfig `kc` (a file `name` in tmp): how it ended. */
const runAs = (kc: KubeConfig, name: string): Promise<{ code: number; stderr: string }> =>
  execFileAsync(process.execPath, [
    fixture.cli,
    "run",
    "--kubeconfig",
    writeKubeconfig(kc, tmp, name),
    "--namespace",
    ns,
    "--include",
    "x/*",
  ]).then(
    (ok) => ({ code: 0, stderr: ok.stderr }),
    (e: unknown) => e as { code: number; stderr: string },
  );

describe("controller against a real API server and kubelet", () => {
  beforeAll(async () => {
    fixture.images([ref("app:v1"), ref("app:v2"), ref("app:v3"), ref("app:v4"), ref("other:v1")]);
    // app:v3 runs in a pod (in use); app:v4 belongs to a pod bound to the node that cannot start
    // (a missing ConfigMap), so no container uses it: only the API server knows it is needed.
    await apply(podManifest("user-running", ref("app:v3")));
    await apply(
      podManifest("user-pending", ref("app:v4"), {
        spec: {
          containers: [
            {
              name: "c",
              image: ref("app:v4"),
              imagePullPolicy: "Never",
              volumeMounts: [{ name: "cfg", mountPath: "/cfg" }],
            },
          ],
          volumes: [{ name: "cfg", configMap: { name: `missing-${tok}` } }],
        },
      }),
    );
    await kubectl([
      "wait",
      "-n",
      ns,
      "pod/user-running",
      "--for=jsonpath={.status.phase}=Running",
      "--timeout=90s",
    ]);
  });

  it("deletes exactly the unused matching images as the chart's service account, keeps what pods need, and deletes its helper pod", async () => {
    const { lines, nodes, reporter } = collectingReporter();
    const runId = `it-${tok}-main`;
    const config = testRunConfig(ns, `main-${tok}`, {
      include: [ref("app:*")],
      exclude: [ref("app:v2")],
      nodes: [fixture.nodeName],
    });
    const { summary, fatal } = await fixture.run("kic", config, { report: reporter, runId });

    expect(fatal).toBeUndefined();
    const node = nodes[0];
    expect(node?.status, node?.reason).toBe("ok");
    expect(summary.nodes[0]?.totals).toMatchObject({ deleted: 1, kept: 3, failed: 0 });
    expect(summaryExitCode(summary)).toBe(0);
    expect(node?.result?.deleted.map((d) => d.names)).toEqual([[ref("app:v1")]]);
    const reasons: Record<string, string> = {};
    for (const k of node?.result?.kept ?? []) {
      const name = k.names.find((n) => n.startsWith(repo));
      if (name !== undefined) reasons[name] = k.reason;
    }
    // Images no pattern matched (other:v1) are counted, not listed.
    expect(reasons).toEqual({
      [ref("app:v2")]: "excluded",
      [ref("app:v3")]: "in-use",
      [ref("app:v4")]: "protected",
    });
    const counts = node?.result?.counts;
    expect((counts?.images ?? 0) - (counts?.matched ?? 0)).toBeGreaterThanOrEqual(1);

    const onNode = nodeImageNames();
    expect(onNode).not.toContain(ref("app:v1"));
    for (const kept of ["app:v2", "app:v3", "app:v4", "other:v1"])
      expect(onNode).toContain(ref(kept));

    expect(lines).toContain(`kube-image-cleanup run ${runId}`);
    const section = lines.find((l) => l.startsWith(`[1/1] ${fixture.nodeName}: `)) ?? "";
    expect(section).toMatch(
      /^\[1\/1\] kic-node: deleted 1 image, \d+\.\d [KM]iB reclaimed, kept 3 \(excluded 1, in-use 1, protected 1\), \d+\.\d s$/,
    );
    expect(lines.some((l) => l.includes(`deleted  ${ref("app:v1")}`))).toBe(true);

    // API budget: per node create, log and delete; the run adds the sweep list, the node list, the
    // helper pod watch's list and watch, and the shared pod view's list and watch (the only node
    // is in the first wave: the view's own list is fresh enough for it, no version read).
    expect(summary.requests.byCall).toEqual({
      listNamespacedPod: 2,
      listNode: 1,
      watch: 2,
      listPodForAllNamespaces: 1,
      ...WORKLOAD_READS,
      createNamespacedPod: 1,
      readNamespacedPodLog: 1,
      deleteNamespacedPod: 1,
    });
    expect(summary.requests.podView).toMatchObject({ fromView: 1, nodeLists: 0, fenceReads: 0 });

    const left = await podsWith(ns, runSelector(`main-${tok}`, runId));
    expect(left.every((p) => p.metadata.deletionTimestamp !== undefined)).toBe(true);
  });

  it("creates the helper pod with the spec DESIGN.md asks for, owned by the controller's pod, which garbage collection follows", async () => {
    await apply(podManifest("controller-standin", "registry.k8s.io/pause:kic"));
    const owner = JSON.parse(
      await kubectl(["get", "pod", "-n", ns, "controller-standin", "-o", "json"]),
    ) as { metadata: { uid: string } };
    const instance = `owned-${tok}`;
    const runId = `it-${tok}-owned`;
    const config = {
      ...testRunConfig(ns, instance, {
        include: [ref("app:*")],
        nodes: [fixture.nodeName],
        "dry-run": true,
        "keep-pods": true,
      }),
      owner: { name: "controller-standin", uid: owner.metadata.uid, namespace: ns },
    };
    const { lines, nodes, reporter } = collectingReporter();
    const { summary } = await fixture.run("kic", config, { report: reporter, runId });
    expect(summary.nodes[0]?.status, summary.nodes[0]?.reason).toBe("ok");
    expect(nodes[0]?.result?.dryRun).toBe(true);
    expect(nodeImageNames()).toContain(ref("app:v2")); // dry run: nothing deleted

    const [pod] = await podsWith(ns, runSelector(instance, runId));
    const spec = pod?.spec as {
      nodeName: string;
      hostPID: boolean;
      automountServiceAccountToken: boolean;
      activeDeadlineSeconds: number;
      tolerations: unknown[];
      containers: { args: string[]; securityContext: Record<string, unknown> }[];
    };
    expect(spec.nodeName).toBe(fixture.nodeName);
    expect(spec.hostPID).toBe(true);
    expect(spec.automountServiceAccountToken).toBe(false);
    expect(spec.activeDeadlineSeconds).toBe(90);
    expect(spec.tolerations).toEqual([{ operator: "Exists" }]);
    expect(spec.containers[0]?.securityContext).toMatchObject({ privileged: true, runAsUser: 0 });
    expect(spec.containers[0]?.args).toEqual(
      expect.arrayContaining([
        "agent",
        "--dry-run",
        "--host-exec=nsenter",
        "--protect-file=/etc/kube-image-cleanup/protect/images.json",
      ]),
    );
    // What the pods on the node need travels in the pod's annotation, mounted as that file: each
    // reference with the first pod that needs it, and the pods the controller knew on the node
    // (their UIDs; the agent stops when another pod's sandbox runs) with the helper's own name.
    const protect = JSON.parse(
      pod?.metadata.annotations?.["kube-image-cleanup.io/protect"] ?? "{}",
    ) as {
      images: { ref: string; pod: string; phase: string; pods: number }[];
      pods: { uids: string[]; helper: string };
    };
    expect(protect.images).toEqual(
      expect.arrayContaining([
        { ref: ref("app:v3"), pod: `${ns}/user-running`, phase: "Running", pods: 1 },
        { ref: ref("app:v4"), pod: `${ns}/user-pending`, phase: "Pending", pods: 1 },
      ]),
    );
    const userUids = JSON.parse(
      await kubectl(["get", "pods", "-n", ns, "user-running", "user-pending", "-o", "json"]),
    ) as { items: { metadata: { uid: string } }[] };
    expect(protect.pods.uids).toEqual(
      expect.arrayContaining(userUids.items.map((p) => p.metadata.uid)),
    );
    expect(protect.pods.helper).toBe(`${ns}/${pod?.metadata.name ?? ""}`);
    expect(pod?.metadata.ownerReferences).toEqual([
      { apiVersion: "v1", kind: "Pod", name: "controller-standin", uid: owner.metadata.uid },
    ]);

    const command = `kubectl delete pods -n ${ns} -l ${selectorOf(instanceLabels(instance))}`;
    expect(summary.leftPods).toEqual({ why: "--keep-pods", count: 1, command });
    expect(lines.at(-1)).toBe(`  ${command}`);

    // Deleting the controller's pod (as deleting the Job does) takes its helper pods with it.
    await kubectl(["delete", "pod", "-n", ns, "controller-standin", "--grace-period=0", "--force"]);
    await eventually(
      async () =>
        (await podsWith(ns, runSelector(instance, runId))).length === 0 ? true : undefined,
      "garbage collection of the helper pod",
      90_000,
    );
  });

  it("keeps going when deleting pods is forbidden and ends with the kubectl command that deletes them", async () => {
    const instance = `nodelete-${tok}`;
    const { lines, reporter } = collectingReporter();
    const { summary, fatal } = await fixture.run(
      "kic-nodelete",
      testRunConfig(ns, instance, {
        include: [ref("app:*")],
        nodes: [fixture.nodeName],
        "dry-run": true,
      }),
      { report: reporter },
    );
    expect(fatal).toBeUndefined();
    expect(summary.nodes[0]?.status, summary.nodes[0]?.reason).toBe("ok");
    expect(summaryExitCode(summary)).toBe(0);
    expect(lines).toContain(
      `note: delete pods in namespace ${ns} is forbidden (rbac.allowPodDeletion=false?): helper pods are kept and the log ends with the command that deletes them`,
    );
    expect(summary.leftPods?.why).toBe(
      "deleting pods is forbidden for the controller's service account",
    );
    const command = summary.leftPods?.command ?? "";
    expect(lines.at(-1)).toBe(`  ${command}`);
    expect(await podsWith(ns, selectorOf(instanceLabels(instance)))).toHaveLength(1);

    // The printed command works as printed (run with the admin's kubectl).
    const [kubectlWord, ...args] = command.split(" ");
    expect(kubectlWord).toBe("kubectl");
    expect(await kubectl([...args, "--wait=false"])).toMatch(/pod ".*" deleted/);
  });

  it("sweeps helper pods left by earlier runs of the same instance, and only those", async () => {
    const instance = `sweep-${tok}`;
    const leftover = (name: string, inst: string) =>
      apply(
        podManifest(name, "registry.k8s.io/pause:kic", {
          metadata: {
            labels: {
              ...instanceLabels(inst),
              "kube-image-cleanup.io/run-id": "19990101t000000-dead",
            },
          },
        }),
      );
    await leftover("leftover-mine", instance);
    await leftover("leftover-other-instance", `other-${tok}`);
    const { lines, reporter } = collectingReporter();
    const { summary } = await fixture.run(
      "kic",
      testRunConfig(ns, instance, {
        include: [ref("nothing:*")],
        nodes: [fixture.nodeName],
        "dry-run": true,
      }),
      {
        report: reporter, // A run a quarter of an hour later: the leftovers (no owner) are past their deadline, so
        // their run is over (live-runs.test.ts covers runs still in progress).
        now: () => Date.now() + 15 * 60_000,
      },
    );
    expect(summary.nodes[0]?.status, summary.nodes[0]?.reason).toBe("ok");
    expect(lines).toContain("  swept:       1 helper pod left by earlier runs deleted");
    await eventually(
      async () =>
        (await podsWith(ns, "app.kubernetes.io/component=agent")).some(
          (p) => p.metadata.name === "leftover-mine",
        )
          ? undefined
          : true,
      "the leftover pod to go",
    );
    const other = await podsWith(ns, selectorOf(instanceLabels(`other-${tok}`)));
    expect(other.map((p) => [p.metadata.name, p.metadata.deletionTimestamp])).toEqual([
      ["leftover-other-instance", undefined],
    ]);
  });

  it("reports a helper pod the kubelet rejects for lack of CPU as OutOfcpu and exits 1", async () => {
    // The real CLI as a process: the exit code is what the CronJob's Job sees.
    const r = await execFileAsync(process.execPath, [
      ...fixture.cliArgs("run", "kic", {
        instance: `cpu-${tok}`,
        include: ref("app:*"),
        nodes: fixture.nodeName,
        "helper-image": ensureCluster().image,
        "helper-image-pull-policy": "Never",
        "helper-cpu-request": "1000",
        "helper-cpu-limit": "",
      }),
    ]).then(
      (ok) => ({ code: 0, stdout: ok.stdout, stderr: ok.stderr }),
      (e: unknown) => e as { code: number; stdout: string; stderr: string },
    );
    expect(r.code, r.stderr).toBe(1);
    const lines = r.stdout.split("\n");
    expect(lines.find((l) => l.startsWith("[1/1]"))).toMatch(
      /^\[1\/1\] kic-node: FAILED after .*: kubelet rejected the pod: OutOfcpu \(.*cpu.*\); the node has no CPU left for the helper's request: lower --helper-cpu-request/,
    );
    expect(lines).toContain("nodes that need attention:");
  });

  it("gives up at once on a helper image that is not there, saying so", async () => {
    const started = Date.now();
    const { summary } = await fixture.run(
      "kic",
      testRunConfig(ns, `pull-${tok}`, {
        include: [ref("app:*")],
        nodes: [fixture.nodeName],
        "helper-image": `docker.io/library/kic-absent-${tok}:1`,
      }),
      { report: collectingReporter().reporter },
    );
    expect(summary.nodes[0]?.reason).toMatch(/container agent cannot start: ErrImageNeverPull/);
    expect(Date.now() - started).toBeLessThan(60_000);
  });

  it("explains a helper pod still Pending at the node timeout and goes on with the next node", async () => {
    const ghost = await ghostNode();
    try {
      const { lines, reporter } = collectingReporter();
      const { summary } = await fixture.run(
        "kic",
        testRunConfig(ns, `pending-${tok}`, {
          include: [ref("nothing:*")],
          nodes: [ghost, fixture.nodeName],
          "skip-not-ready": false,
          "node-timeout": "10s",
          "dry-run": true,
        }),
        { report: reporter },
      );
      const byNode = Object.fromEntries(summary.nodes.map((n) => [n.node, n]));
      expect(byNode[ghost]?.reason).toBe(
        `the pod was still Pending after 10s (--node-timeout): the kubelet on ${ghost} has not taken the pod up (is the node up and Ready?)`,
      );
      expect(byNode[fixture.nodeName]?.status).toBe("ok");
      expect(lines.filter((l) => /^\[\d\/2\]/.test(l))).toHaveLength(2);
    } finally {
      await removeGhost(ghost);
    }
  });

  it("on SIGTERM starts no new node, deletes the helper pod in flight, prints a partial summary and exits 1", async () => {
    // Two nodes whose helper pods stay Pending: whichever the rotated order starts with is in
    // flight at the SIGTERM, and the other is never reached.
    const ghosts = [await ghostNode("-1"), await ghostNode("-2")];
    try {
      const instance = `sigterm-${tok}`;
      const { child, exited, stdout, stderr } = startCli([
        ...fixture.cliArgs("run", "kic", {
          instance,
          include: ref("app:*"),
          nodes: ghosts.join(","),
        }),
        "--skip-not-ready=false",
        // One node at a time (the default is 10): the second node must be one never started.
        "--concurrency",
        "1",
        "--helper-image",
        ensureCluster().image,
        "--helper-image-pull-policy",
        "Never",
      ]);
      const first = await eventually(async () => {
        const [pod] = await podsWith(ns, selectorOf(instanceLabels(instance)));
        return pod?.spec.nodeName as string | undefined;
      }, "the helper pod on the first ghost node");
      const second = ghosts.find((g) => g !== first) ?? "";
      child.kill("SIGTERM");
      const code = await exited;
      expect(code, stderr()).toBe(1);
      expect(stdout()).toContain(
        `note: SIGTERM: no new nodes start; deleting the helper pods in flight`,
      );
      expect(stdout()).toMatch(
        new RegExp(
          `\\[1/2\\] ${first}: interrupted after .*: the run was stopped while the agent ran`,
        ),
      );
      expect(stdout()).toContain(
        `1 node not reached by this run (the next run starts at another node):\n  ${second}\n`,
      );
      expect(stdout()).toContain("run interrupted by SIGTERM");
      const pods = await podsWith(ns, selectorOf(instanceLabels(instance)));
      expect(pods.map((p) => p.metadata.deletionTimestamp !== undefined)).toEqual([true]);
    } finally {
      for (const ghost of ghosts) await removeGhost(ghost);
    }
  });

  it("exits 2 naming the verb and resource when the service account lacks the ClusterRole", async () => {
    const kc = await serviceAccountKubeConfig(ns, "kic-nocluster");
    const r = await runAs(kc, "nocluster");
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(
      new RegExp(
        // The run's first cluster-wide read is workload protection's (on by default).
        `^error: forbidden: list deployments in all namespaces: deployments.apps is forbidden: User "system:serviceaccount:${ns}:kic-nocluster" cannot list resource "deployments" .*the chart grants it with protect.workloads=true and rbac.create=true`,
        "m",
      ),
    );
  });

  it("exits 2 when the API server cannot be reached", async () => {
    const kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: [{ name: "down", server: "https://127.0.0.1:1", skipTLSVerify: true }],
      users: [{ name: "u", token: "t" }],
      contexts: [{ name: "down", cluster: "down", user: "u" }],
      currentContext: "down",
    });
    const r = await runAs(kc, "down");
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^error: cannot reach the API server to list .*ECONNREFUSED/m);
  });

  it("schedule repeats the run and never overlaps two runs", async () => {
    const { child, exited, stdout } = startCli([
      fixture.cli,
      "schedule",
      "--cron",
      "*/2 * * * * *",
      "--run-now",
      "--",
      "run",
      "--kubeconfig",
      writeKubeconfig(fixture.account("kic"), tmp, "kic"),
      "--namespace",
      ns,
      "--instance",
      `sched-${tok}`,
      "--include",
      ref("nothing:*"),
      "--nodes",
      fixture.nodeName,
      "--dry-run",
      ...nodeFlags(),
    ]);
    // Ticks every 2 s, runs take longer (a helper pod per run): ticks come while a run is in flight.
    const skips = () =>
      stdout()
        .split("\n")
        .filter((l) => l === "note: a run is still in progress: this scheduled run is skipped")
        .length;
    await eventually(
      async () =>
        Promise.resolve(
          (stdout().match(/^summary of run/gm) ?? []).length >= 2 && skips() >= 1
            ? true
            : undefined,
        ),
      "two scheduled runs and a tick during a run",
      90_000,
    );
    child.kill("SIGTERM");
    await exited;
    // An overlap was attempted (above) and refused: header and summary strictly alternate.
    expect(skips()).toBeGreaterThanOrEqual(1);
    const marks = stdout()
      .split("\n")
      .filter((l) => l.startsWith("kube-image-cleanup run ") || l.startsWith("summary of run "))
      .map((l) => l.split(" ")[0]);
    for (let i = 0; i < marks.length; i++)
      expect(marks[i]).toBe(i % 2 === 0 ? "kube-image-cleanup" : "summary");
    expect(stdout()).toMatch(/^\[1\/1\] kic-node: would delete 0 images/m);
  });
});
