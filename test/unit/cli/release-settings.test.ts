// `list -n <namespace>` takes the release's settings from its CronJob. These tests render the real
// chart (helm template), read the controller container with the same code `list` uses, and check
// that what `list` would run with is what the values say: image, patterns, nodes, socket, helper
// mode; and that flags the operator gives win.
import { describe, expect, it } from "vitest";
import { loadRunConfig, runOptions, type RunConfig } from "../../../src/config/run-options.js";
import {
  NOT_FROM_RELEASE,
  RELEASE_KEYS,
  releaseSettings,
  withReleaseSettings,
  type ReleaseContainer,
} from "../../../src/config/release-settings.js";
import { only, render, REQUIRED_VALUES } from "../chart/helm.js";

function container(values: unknown): ReleaseContainer {
  const job = only(render({ values, release: "nightly", namespace: "kic" }), "CronJob");
  const c = job.spec?.jobTemplate.spec?.template.spec?.containers.find(
    (k) => k.name === "controller",
  );
  if (c === undefined) throw new Error("no controller container");
  return c;
}

/** What `list` runs with: the release's settings under what was given (`given`), as a dry run. */
function listConfig(
  values: unknown,
  typed: Record<string, unknown> = {},
  env: Record<string, string> = {},
): Readonly<RunConfig> {
  const { args } = withReleaseSettings(
    typed,
    releaseSettings(container(values)),
    (k) => k in typed,
  );
  return loadRunConfig({ ...args, "dry-run": true, output: "table" }, env);
}

const everything = {
  ...REQUIRED_VALUES,
  images: {
    include: ["docker.io/acme/*", "/\\.dkr\\.ecr\\./"],
    exclude: ["*/acme/base:*"],
    minAge: "2d",
    keepNewest: 3,
  },
  limits: { maxImagesPerNode: 40, maxBytesPerNode: "20Gi" },
  image: { repository: "registry.example/kic", tag: "1.2.3", pullPolicy: "Always" },
  imagePullSecrets: [{ name: "regcred" }],
  runtime: {
    client: "crictl",
    socket: "/run/k3s/containerd/containerd.sock",
    nsenterTarget: "containerd",
  },
  nodes: { selector: "pool=batch", exclude: ["node-x"], skipCordoned: true },
  concurrency: 4,
  timeouts: { node: "3m" },
  helper: {
    mode: "socket",
    socket: { uid: 1001, gid: 1800 },
    priorityClassName: "system-node-critical",
    tolerations: [{ key: "gpu", operator: "Exists", effect: "NoSchedule" }],
    resources: { requests: { cpu: "20m", memory: "64Mi" }, limits: { cpu: "1", memory: "256Mi" } },
  },
  rbac: { allowPodDeletion: false },
};

describe("list takes the installed release's settings from its CronJob", () => {
  it("uses the release's image, patterns, nodes, runtime socket and helper mode", () => {
    const c = listConfig(everything);
    expect(c.helper.image).toBe("registry.example/kic:1.2.3");
    expect(c.helper.pullPolicy).toBe("Always");
    expect(c.helper.pullSecrets).toEqual(["regcred"]);
    expect(c.agent.include).toEqual(["docker.io/acme/*", "/\\.dkr\\.ecr\\./"]);
    expect(c.agent.exclude).toEqual(["*/acme/base:*"]);
    expect(c.agent.minAge).toBe("2d");
    expect(c.agent.keepNewest).toBe("3");
    expect(c.agent.maxImagesPerNode).toBe("40");
    expect(c.agent.maxBytesPerNode).toBe("20Gi");
    expect(c.agent.client).toBe("crictl");
    expect(c.agent.socket).toBe("/run/k3s/containerd/containerd.sock");
    expect(c.agent.nsenterTarget).toBe("containerd");
    expect(c.nodes).toEqual({
      selector: "pool=batch",
      names: [],
      exclude: ["node-x"],
      skipNotReady: true,
      skipCordoned: true,
    });
    expect(c.concurrency).toBe(4);
    expect(c.nodeTimeoutSeconds).toBe(180);
    expect(c.instance).toBe("nightly");
    expect(c.helper.mode).toBe("socket");
    expect(c.helper.socketUid).toBe(1001);
    expect(c.helper.socketGid).toBe(1800);
    expect(c.helper.priorityClass).toBe("system-node-critical");
    expect(c.helper.tolerations).toEqual([
      { key: "gpu", operator: "Exists", effect: "NoSchedule" },
    ]);
    expect(c.helper.resources).toEqual({
      requests: { cpu: "20m", memory: "64Mi" },
      limits: { cpu: "1", memory: "256Mi" },
    });
  });

  it("keeps list a dry run without sinks and leaves the chart's --keep-pods to the chart's account", () => {
    const c = listConfig({
      ...everything,
      dryRun: false,
      report: { enabled: true },
      metrics: { pushgateway: { url: "http://pg:9091" } },
    });
    expect(c.dryRun).toBe(true);
    // rbac.allowPodDeletion=false makes the chart pass --keep-pods: about its service account, not
    // about the person running list.
    expect(c.keepPods).toBe(false);
    expect(c.audit.reportConfigMap).toBeUndefined();
    expect(c.audit.pushgatewayUrl).toBeUndefined();
    expect(c.output).toBe("table");
  });

  it("lets every flag the operator gives win over the release's", () => {
    const c = listConfig(everything, {
      include: ["**"],
      "helper-image": "mine/kic:dev",
      "helper-mode": "privileged",
      "node-selector": "",
      concurrency: "2",
    });
    expect(c.agent.include).toEqual(["**"]);
    // Not given: still the release's.
    expect(c.agent.exclude).toEqual(["*/acme/base:*"]);
    expect(c.helper.image).toBe("mine/kic:dev");
    expect(c.helper.mode).toBe("privileged");
    expect(c.nodes.selector).toBe("");
    expect(c.concurrency).toBe(2);
  });

  it("reads KIC_ variables the chart's controller.env sets, below the flags", () => {
    const c = container({
      ...REQUIRED_VALUES,
      concurrency: 3,
      controller: {
        env: [
          { name: "KIC_MIN_AGE", value: "12h" },
          { name: "KIC_CONCURRENCY", value: "9" },
          { name: "KIC_HELPER_IMAGE", valueFrom: { secretKeyRef: { name: "s", key: "k" } } },
        ],
      },
    });
    const s = releaseSettings(c);
    expect(s["min-age"]).toBe("12h");
    // The chart's own flag wins over its variable, as yargs reads them in the pod.
    expect(s.concurrency).toBe("3");
    // A value from a Secret cannot be read from here: the chart's flag stands.
    expect(s["helper-image"]).toMatch(/^ghcr\.io\/kube-image-cleanup\/kube-image-cleanup:/);
  });

  it("takes only settings that choose images, nodes and how helpers reach the runtime", () => {
    const s = releaseSettings(container(everything));
    for (const key of Object.keys(s)) expect(RELEASE_KEYS).toContain(key);
    for (const key of [
      "output",
      "log-format",
      "events",
      "report-configmap",
      "keep-pods",
      "dry-run",
      "namespace",
    ])
      expect(s).not.toHaveProperty(key);
  });

  it("decides for every option of run whether list takes it from the release (exactly one list)", () => {
    const decided = [...RELEASE_KEYS, ...NOT_FROM_RELEASE].sort();
    expect(decided).toEqual(Object.keys(runOptions).sort());
    expect(new Set(decided).size).toBe(decided.length);
  });

  it("says which settings it took", () => {
    const { taken } = withReleaseSettings(
      { include: ["x/*"] },
      releaseSettings(container(everything)),
      (k) => k === "include",
    );
    expect(taken).not.toContain("include");
    expect(taken).toEqual(
      expect.arrayContaining(["helper-image", "helper-mode", "socket", "node-selector", "exclude"]),
    );
  });
});
