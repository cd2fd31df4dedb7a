// `kube-image-cleanup pull`'s options and the agent's pull action: what is taken, what is refused
// (naming the flag), and the helper pod and argv the controller builds from them.
import { describe, expect, it } from "vitest";
import { pullSecretVolume } from "../support/pull-secret-volume.js";
import { configErrorOf } from "../support/config-error.js";
import { loadAgentConfig } from "../../../src/config/agent-options.js";
import { loadPullConfig, parseWorkloadRef } from "../../../src/config/pull-options.js";
import { buildPullPod, pullHelperArgs } from "../../../src/controller/pull-job.js";

const env = {};
const load = (args: Record<string, unknown>) => loadPullConfig(args, env);

describe("pull options", () => {
  it("takes images, pull Secrets and the retry policy; defaults: 2 retries after 5s", () => {
    const c = load({
      image: ["registry.example.com/team/app:v1", "nginx:1.25", "nginx:1.25"],
      "registry-pull-secret": ["team-registry"],
    });
    expect(c.images).toEqual(["registry.example.com/team/app:v1", "nginx:1.25"]);
    expect(c.registryPullSecrets).toEqual(["team-registry"]);
    expect(c).toMatchObject({ retries: 2, backoff: "5s", imagesOf: undefined });
    expect(c.nodes.selector).toBe("kubernetes.io/os=linux");
    expect(load({ image: ["a:1"], "pull-retries": "0", "pull-backoff": "1m" })).toMatchObject({
      retries: 0,
      backoff: "1m",
    });
  });

  it.each([
    ["deployment/shop/web", { kind: "deployment", namespace: "shop", name: "web" }],
    ["Deployments/shop/web", { kind: "deployment", namespace: "shop", name: "web" }],
    ["statefulset/db/pg", { kind: "statefulset", namespace: "db", name: "pg" }],
    ["daemonset/kube-system/agent", { kind: "daemonset", namespace: "kube-system", name: "agent" }],
    ["cronjob/ops/nightly", { kind: "cronjob", namespace: "ops", name: "nightly" }],
    ["job/ops/once", { kind: "job", namespace: "ops", name: "once" }],
  ])("--images-of %s", (given, want) => {
    expect(parseWorkloadRef(given)).toEqual(want);
    expect(load({ "images-of": given }).imagesOf).toEqual(want);
  });

  it.each([
    [{}, "IMAGE", /give at least one image to pull/],
    [{ image: ["Not A Reference"] }, "IMAGE", /image reference grammar/],
    [{ image: [`sha256:${"a".repeat(64)}`] }, "IMAGE", /an image id/],
    [{ image: Array.from({ length: 101 }, (_, i) => `a:${String(i)}`) }, "IMAGE", /at most 100/],
    [{ "images-of": "pod/shop/web" }, "--images-of", /KIND one of deployment, statefulset/],
    [{ "images-of": "deployment/web" }, "--images-of", /KIND\/NAMESPACE\/NAME/],
    [{ "images-of": "deployment/Shop/web" }, "--images-of", /as Kubernetes spells them/],
    [{ image: ["a:1"], "pull-retries": "many" }, "--pull-retries", /0 to 10/],
    [{ image: ["a:1"], "pull-retries": "11" }, "--pull-retries", /0 to 10/],
    [{ image: ["a:1"], "pull-backoff": "0s" }, "--pull-backoff", /1s to 10m/],
    [{ image: ["a:1"], client: "ctr" }, "--client", /through the CRI/],
    [
      { image: ["a:1"], "registry-pull-secret": ["Bad_Name"] },
      "--registry-pull-secret",
      /as Kubernetes spells it/,
    ],
    [{ image: ["a:1"], "node-timeout": "5s" }, "--node-timeout", /at least 10s/],
  ])("refuses %j naming %s", (args, key, allowed) => {
    const err = configErrorOf(() => load(args));
    expect(err.key).toBe(key);
    expect(err.message).toMatch(allowed);
  });
});

describe("the agent's pull action", () => {
  it("takes --action pull with --pull-image, without --include", () => {
    const c = loadAgentConfig(
      { action: "pull", "pull-image": ["r.io/a:1"], "pull-retries": "1", "pull-backoff": "2s" },
      {},
    );
    expect(c.action).toBe("pull");
    expect(c.pull).toEqual({ images: ["r.io/a:1"], retries: 1, backoffSeconds: 2 });
    expect(loadAgentConfig({ include: ["x/*"] }, {}).action).toBe("clean");
  });

  it.each([
    [{ action: "pull" }, "--pull-image", /needs at least one --pull-image/],
    [{ include: ["x/*"], "pull-image": ["r.io/a:1"] }, "--pull-image", /only --action pull/],
    [{ action: "pull", "pull-image": ["r.io/a:1"], client: "ctr" }, "--client", /through the CRI/],
    [{ action: "pull", "pull-image": ["a b"] }, "--pull-image", /image reference grammar/],
  ])("refuses %j naming %s", (args, key, allowed) => {
    const err = configErrorOf(() => loadAgentConfig(args, {}));
    expect(err.key).toBe(key);
    expect(err.message).toMatch(allowed);
  });
});

describe("the pull helper pod", () => {
  const config = load({
    image: ["registry.example.com/team/app:v1", "nginx:1.25"],
    "registry-pull-secret": ["team-registry", "other"],
    namespace: "kic",
    "node-timeout": "5m",
  });
  const ctx = { namespace: "kic", runId: "r1", owner: { name: "ctl", uid: "u1" } };
  const createdAt = Date.parse("2026-12-07T03:00:00Z");

  it("runs the agent's pull action with one --pull-image per image and the Secrets' files", () => {
    expect(pullHelperArgs(config, config.images, "node-a", createdAt)).toEqual([
      "agent",
      "--action=pull",
      "--pull-image=registry.example.com/team/app:v1",
      "--pull-image=nginx:1.25",
      "--pull-retries=2",
      "--pull-backoff=5s",
      "--pull-secret-file=/etc/kube-image-cleanup/pull-secrets/team-registry/.dockerconfigjson",
      "--pull-secret-file=/etc/kube-image-cleanup/pull-secrets/other/.dockerconfigjson",
      "--client=auto",
      "--host-exec=nsenter",
      "--log-format=json",
      "--node-name=node-a",
      // The node timeout (5m) less its reserve (60 s), from the pod's creation.
      "--deadline=2026-12-07T03:04:00.000Z",
    ]);
  });

  it("mounts each Secret by name only: no protect list, no host network, nothing of the Secret's content", () => {
    const pod = buildPullPod(config, config.images, ctx, "node-a", createdAt);
    const spec = pod.spec;
    expect(spec?.nodeName).toBe("node-a");
    expect(spec?.hostNetwork).toBeUndefined();
    expect(spec?.hostPID).toBe(true);
    expect(spec?.volumes).toEqual([
      pullSecretVolume(0, "team-registry"),
      pullSecretVolume(1, "other"),
    ]);
    expect(spec?.containers[0]?.env).toEqual([{ name: "NODE_NAME", value: "node-a" }]);
    expect(pod.metadata?.annotations).toEqual({ "kube-image-cleanup.io/node": "node-a" });
    expect(pod.metadata?.ownerReferences?.[0]).toMatchObject({ name: "ctl", uid: "u1" });
    expect(spec?.activeDeadlineSeconds).toBe(300);
  });

  it("in socket mode: the mounted socket, unprivileged", () => {
    const socketConfig = load({ image: ["a:1"], "helper-mode": "socket" });
    const pod = buildPullPod(socketConfig, socketConfig.images, ctx, "node-a", createdAt);
    expect(pod.spec?.containers[0]?.args).toContain(
      "--socket=/run/kube-image-cleanup/runtime.sock",
    );
    expect(pod.spec?.containers[0]?.args).toContain("--host-exec=socket");
    expect(pod.spec?.containers[0]?.securityContext?.privileged).toBe(false);
  });
});

describe("pull's command line", () => {
  /** The args pull's handler would get: yargs with the command's own builder, as cli.ts wires it. */
  async function parsed(argv: string[]): Promise<Record<string, unknown>> {
    const { default: yargs } = await import("yargs");
    const { pullCommand } = await import("../../../src/commands/pull.js");
    let got: Record<string, unknown> = {};
    await yargs(argv)
      .command({
        command: `${pullCommand.command} ${pullCommand.positional ?? ""}`,
        describe: pullCommand.describe,
        builder: pullCommand.builder,
        handler: (args) => {
          got = args;
        },
      })
      .parseAsync();
    return got;
  }

  it("a list option takes one word each time: the images after it stay images", async () => {
    const args = await parsed([
      "pull",
      "--registry-pull-secret",
      "team-registry",
      "registry.example.com/team/app:v2",
      "--nodes",
      "node-a",
      "nginx:1.25",
      "--registry-pull-secret=other",
      "--nodes=node-b,node-c",
    ]);
    expect(args.image).toEqual(["registry.example.com/team/app:v2", "nginx:1.25"]);
    expect(args["registry-pull-secret"]).toEqual(["team-registry", "other"]);
    expect(args.nodes).toEqual(["node-a", "node-b,node-c"]);
  });
});
