// The chart's CronJob passes values as flags to `kube-image-cleanup run`. These tests parse the
// rendered argv with the CLI's own option table (yargs, strict) and config loader, so a flag the CLI
// does not know, a value it refuses, or a value that arrives changed fails here rather than at 3 a.m.
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseCommand } from "../support/parse-command.js";
import { socketModeSecurityContext } from "../support/socket-mode-security.js";
import { runCommand } from "../../../src/commands/run.js";
import { loadRunConfig, runOptions, type RunConfig } from "../../../src/config/run-options.js";
import { buildHelperPod } from "../../../src/controller/helper-pod.js";
import { chartDir, only, render, REQUIRED_VALUES } from "./helm.js";

const podEnv = {
  POD_NAME: "kic-kube-image-cleanup-29000000-abcde",
  POD_UID: "0000-1111",
  POD_NAMESPACE: "kic-system",
};

function controllerArgs(opts: Parameters<typeof render>[0]): string[] {
  const job = only(render(opts), "CronJob");
  const args = job.spec?.jobTemplate.spec?.template.spec?.containers[0]?.args;
  if (!args) throw new Error("controller container has no args");
  return args;
}

/** The helper pod a run with `config` creates on node-a (nothing to protect, no owner). */
const helperPodOf = (config: Readonly<RunConfig>) =>
  buildHelperPod({
    createdAt: Date.now(),
    config,
    namespace: "kic-system",
    runId: "r",
    node: "node-a",
    protect: [],
    owner: undefined,
  });

function configFor(opts: Parameters<typeof render>[0]): Readonly<RunConfig> {
  return loadRunConfig(parseCommand(runCommand, controllerArgs(opts)), podEnv);
}

const ci = (name: string) => ({ files: [join(chartDir, "ci", name)] });

describe("controller args rendered by the chart", () => {
  it("only uses flags the run command declares", () => {
    const everything = {
      ...REQUIRED_VALUES,
      images: {
        include: ["a/*"],
        exclude: ["a/b:*"],
        minAge: "1d",
        unusedFor: "14d",
        keepNewest: 2,
      },
      limits: { maxImagesPerNode: 50, maxBytesPerNode: "10Gi" },
      runtime: { client: "crictl", socket: "/run/containerd/containerd.sock", nsenterTarget: "1" },
      nodes: { selector: "a=b", names: ["n1"], exclude: ["n2"] },
      imagePullSecrets: [{ name: "regcred" }],
      helper: { priorityClassName: "high", mode: "socket", socket: { uid: 1000, gid: 0 } },
      rbac: { allowPodDeletion: false },
      metrics: { pushgateway: { url: "http://pushgateway.monitoring:9091" } },
    };
    const flags = controllerArgs({ values: everything })
      .slice(1)
      .map((a) => /^--([a-z-]+)/.exec(a)?.[1]);
    const known = Object.keys(runOptions);
    for (const flag of flags) expect(known, String(flag)).toContain(flag);
    // Every value-driven flag appears at least once with these values.
    expect(new Set(flags).size).toBe(40);
  });

  it("passes events, the report and the Pushgateway on, and leaves them out when turned off", () => {
    const on = configFor({
      values: {
        ...REQUIRED_VALUES,
        report: { runs: 3 },
        metrics: { pushgateway: { url: "https://push.example:9091/" } },
      },
    });
    expect(on.audit).toEqual({
      events: true,
      reportConfigMap: "kic-kube-image-cleanup-report",
      reportRuns: 3,
      pushgatewayUrl: "https://push.example:9091",
    });
    const off = configFor({
      values: { ...REQUIRED_VALUES, events: { enabled: false }, report: { enabled: false } },
    });
    expect(off.audit).toEqual({
      events: false,
      reportConfigMap: undefined,
      reportRuns: 10,
      pushgatewayUrl: undefined,
    });
  });

  it("passes images.unusedFor and protect.workloads to the run", () => {
    const on = configFor({
      values: { ...REQUIRED_VALUES, images: { ...REQUIRED_VALUES.images, unusedFor: "14d" } },
    });
    expect(on.agent.unusedFor).toBe("14d");
    expect(on.protectWorkloads).toBe(true);
    const off = configFor({ values: { ...REQUIRED_VALUES, protect: { workloads: false } } });
    expect(off.agent.unusedFor).toBeUndefined();
    expect(off.protectWorkloads).toBe(false);
  });

  it("turns the defaults into the CLI's defaults, with the release as instance and namespace", () => {
    const config = configFor({ values: REQUIRED_VALUES });
    expect(config.agent).toEqual({
      include: ["docker.io/acme/*"],
      exclude: [],
      minAge: undefined,
      client: "auto",
      socket: undefined,
      onlyIfPullable: false,
      registryTimeout: "10s",
    });
    expect(config.registryPullSecrets).toEqual([]);
    expect(config.dryRun).toBe(false);
    expect(config.nodes).toEqual({
      selector: "kubernetes.io/os=linux",
      names: [],
      exclude: [],
      skipNotReady: true,
      skipCordoned: false,
    });
    expect(config.concurrency).toBe(10);
    expect(config.namespace).toBe("kic-system");
    expect(config.instance).toBe("kic");
    expect(config.helper).toEqual({
      mode: "privileged",
      socketUid: 1000,
      socketGid: 0,
      image: "ghcr.io/kube-image-cleanup/kube-image-cleanup:0.1.0",
      pullPolicy: "IfNotPresent",
      pullSecrets: [],
      resources: {
        requests: { cpu: "10m", memory: "48Mi" },
        limits: { cpu: "500m", memory: "192Mi" },
      },
      tolerations: [{ operator: "Exists" }],
      priorityClass: undefined,
    });
    expect(config.nodeTimeoutSeconds).toBe(600);
    expect(config.keepPods).toBe(false);
    expect(config.output).toBe("table");
    expect(config.logFormat).toBe("pretty");
    expect(config.audit).toEqual({
      events: true,
      reportConfigMap: "kic-kube-image-cleanup-report",
      reportRuns: 10,
      pushgatewayUrl: undefined,
    });
    expect(config.owner).toEqual({
      name: podEnv.POD_NAME,
      uid: podEnv.POD_UID,
      namespace: "kic-system",
    });
  });

  it("ci/02: dry run, json output and log format, exclude and min age", () => {
    const config = configFor(ci("02-dry-run-json.yaml"));
    expect(config.dryRun).toBe(true);
    expect(config.output).toBe("json");
    expect(config.logFormat).toBe("json");
    expect(config.agent.include).toEqual(["docker.io/acme/*", "quay.io/acme/**"]);
    expect(config.agent.exclude).toEqual(["docker.io/acme/base:*"]);
    expect(config.agent.minAge).toBe("7d");
  });

  it("ci/11: grep-style patterns, keepNewest and per-node limits reach the CLI unchanged", () => {
    const config = configFor(ci("11-retention.yaml"));
    expect(config.agent.include).toEqual(["/123456789012\\.dkr\\.ecr\\./", "docker.io/acme/*"]);
    expect(config.agent.exclude).toEqual(["/-rc[0-9]*$/i"]);
    expect(config.agent.keepNewest).toBe("3");
    expect(config.agent.maxImagesPerNode).toBe("100");
    expect(config.agent.maxBytesPerNode).toBe("20Gi");
  });

  it("ci/12: onlyIfPullable with its timeout and the registry pull Secrets reaches the CLI", () => {
    const config = configFor(ci("12-only-if-pullable.yaml"));
    expect(config.agent.onlyIfPullable).toBe(true);
    expect(config.agent.registryTimeout).toBe("20s");
    expect(config.registryPullSecrets).toEqual(["registry-pull", "hub-pull"]);
  });

  it("passes no registry flag without onlyIfPullable, also when Secrets are named", () => {
    const flags = controllerArgs({
      values: { ...REQUIRED_VALUES, registryPullSecrets: ["registry-pull"] },
    }).join(" ");
    expect(flags).not.toMatch(/--only-if-pullable|--registry-timeout|--registry-pull-secret/);
  });

  it("passes no retention flag by default (keepNewest 0, no limits)", () => {
    const flags = controllerArgs({ values: REQUIRED_VALUES }).join(" ");
    expect(flags).not.toMatch(/--keep-newest|--max-images-per-node|--max-bytes-per-node/);
  });

  it("ci/03: keeps helper pods when pod deletion is not allowed", () => {
    expect(configFor(ci("03-keep-pods.yaml")).keepPods).toBe(true);
  });

  it("ci/04: node selection, concurrency and node timeout", () => {
    const config = configFor(ci("04-node-selection.yaml"));
    expect(config.nodes).toEqual({
      selector: "role=worker,topology.kubernetes.io/zone in (eu-west-1a,eu-west-1b)",
      names: ["node-a", "node-b"],
      exclude: ["node-c"],
      skipNotReady: false,
      skipCordoned: true,
    });
    expect(config.concurrency).toBe(4);
    expect(config.nodeTimeoutSeconds).toBe(300);
  });

  it("ci/05: runtime client and socket", () => {
    const config = configFor(ci("05-runtime.yaml"));
    expect(config.agent.client).toBe("ctr");
    expect(config.agent.socket).toBe("/run/k3s/containerd/containerd.sock");
    expect(config.agent.nsenterTarget).toBe("containerd");
    expect(config.agent.include).toEqual(["**/pause:*"]);
  });

  it("ci/06: helper pods use the same image by digest, pull policy and pull secret", () => {
    const config = configFor(ci("06-image-digest.yaml"));
    expect(config.helper.image).toBe(
      "registry.example.com/tools/kube-image-cleanup@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
    );
    expect(config.helper.pullPolicy).toBe("Always");
    expect(config.helper.pullSecrets).toEqual(["registry-credentials"]);
  });

  it("ci/10: helper resources, tolerations and priority class", () => {
    const config = configFor(ci("10-placement.yaml"));
    expect(config.helper.resources).toEqual({
      requests: { cpu: "20m", memory: "64Mi" },
      // Helm merges maps: the default cpu limit stays unless set to null.
      limits: { cpu: "500m", memory: "256Mi" },
    });
    expect(config.helper.tolerations).toEqual([
      { key: "dedicated", operator: "Equal", value: "gpu", effect: "NoSchedule" },
    ]);
    expect(config.helper.priorityClass).toBe("system-node-critical");
  });

  it("ci/12: Docker Engine nodes: the docker client on Docker's socket, mounted alone into an unprivileged helper", () => {
    const config = configFor(ci("12-docker.yaml"));
    expect(config.agent.client).toBe("docker");
    expect(config.agent.socket).toBe("/var/run/docker.sock");
    expect(config.helper).toMatchObject({ mode: "socket", socketUid: 65532, socketGid: 999 });
    const pod = helperPodOf(config);
    expect(pod.spec?.volumes?.filter((v) => v.hostPath !== undefined)).toEqual([
      { name: "runtime-socket", hostPath: { path: "/var/run/docker.sock", type: "Socket" } },
    ]);
    expect(pod.spec?.containers[0]?.args).toEqual(
      expect.arrayContaining([
        "--client=docker",
        "--socket=/run/kube-image-cleanup/runtime.sock",
        "--host-exec=socket",
        "--keep-newest=3",
      ]),
    );
  });

  it("ci/11: socket mode, its uid and gid, and the node's socket: the helper pod has none of the privileged fields", () => {
    const config = configFor(ci("11-socket-mode.yaml"));
    expect(config.helper).toMatchObject({ mode: "socket", socketUid: 65532, socketGid: 1800 });
    expect(config.agent.socket).toBe("/run/k3s/containerd/containerd.sock");
    const pod = helperPodOf(config);
    const spec = pod.spec;
    const container = spec?.containers[0];
    expect(spec?.hostPID).toBeUndefined();
    expect(spec?.hostNetwork).toBeUndefined();
    expect(spec?.hostIPC).toBeUndefined();
    expect(container?.securityContext).toEqual(socketModeSecurityContext(65532, 1800));
    // No host path but the socket file itself.
    expect(spec?.volumes?.filter((v) => v.hostPath !== undefined)).toEqual([
      {
        name: "runtime-socket",
        hostPath: { path: "/run/k3s/containerd/containerd.sock", type: "Socket" },
      },
    ]);
    expect(container?.args).toContain("--host-exec=socket");
    expect(container?.args?.some((a) => /nsenter/.test(a))).toBe(false);
  });

  it("privileged mode by default: the helper pod is the node-shell one, unchanged", () => {
    const config = configFor({ values: REQUIRED_VALUES });
    const pod = helperPodOf(config);
    expect(pod.spec?.hostPID).toBe(true);
    expect(pod.spec?.containers[0]?.securityContext).toEqual({
      privileged: true,
      runAsUser: 0,
      runAsGroup: 0,
      runAsNonRoot: false,
    });
    expect(pod.spec?.volumes?.map((v) => v.name)).toEqual(["protect"]);
    expect(pod.spec?.containers[0]?.args).toContain("--host-exec=nsenter");
  });

  it("leaves a helper request or limit out when its value is null, instead of falling back to the CLI default", () => {
    const config = configFor({
      values: {
        ...REQUIRED_VALUES,
        helper: { resources: { requests: { cpu: null }, limits: { cpu: null, memory: null } } },
      },
    });
    expect(config.helper.resources).toEqual({ requests: { memory: "48Mi" }, limits: {} });
  });

  it("selects every node with an empty selector", () => {
    expect(
      configFor({ values: { ...REQUIRED_VALUES, nodes: { selector: "" } } }).nodes.selector,
    ).toBe("");
  });

  it("passes globs with spaces, quotes and shell characters through unchanged", () => {
    const include = ["docker.io/acme/*", "a b", "x;rm -rf /", "$(id)", "a'b\"c", "--dry-run"];
    const parsed = parseCommand(
      runCommand,
      controllerArgs({ values: { ...REQUIRED_VALUES, images: { include } } }),
    );
    expect(parsed.include).toEqual(include);
    // No image reference has such characters: the loader refuses them, quoting the value as given.
    expect(() => loadRunConfig(parsed, podEnv)).toThrow('invalid --include: given "a b"');
  });
});
