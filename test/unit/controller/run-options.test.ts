import yargs from "yargs";
import { describe, expect, it } from "vitest";
import { ConfigError } from "../../../src/errors.js";
import { loadRunConfig, runOptions } from "../../../src/config/run-options.js";

/** Parses argv with the real option table, as `run` does (env prefix KIC included). */
async function load(argv: string[], env: NodeJS.ProcessEnv = {}) {
  // yargs' .env() reads process.env; the variables are set only for this parse.
  const added = Object.keys(env).filter((k) => !(k in process.env));
  Object.assign(process.env, env);
  try {
    const args = await yargs(argv).options(runOptions).env("KIC").strict().fail(false).parseAsync();
    return loadRunConfig(args, env);
  } finally {
    for (const k of added) Reflect.deleteProperty(process.env, k);
  }
}

describe("run options", () => {
  it("has safe defaults: Linux nodes, one at a time, not-ready skipped, pods deleted", async () => {
    const c = await load(["--include", "docker.io/acme/*"]);
    expect(c.nodes).toEqual({
      selector: "kubernetes.io/os=linux",
      names: [],
      exclude: [],
      skipNotReady: true,
      skipCordoned: false,
    });
    expect(c.concurrency).toBe(10);
    expect(c.keepPods).toBe(false);
    expect(c.dryRun).toBe(false);
    expect(c.nodeTimeoutSeconds).toBe(600);
    expect(c.helper.tolerations).toEqual([{ operator: "Exists" }]);
    expect(c.helper.image).toMatch(
      /^ghcr\.io\/kube-image-cleanup\/kube-image-cleanup:\d+\.\d+\.\d+/,
    );
    expect(c.output).toBe("table");
    expect(c.owner).toBeUndefined();
  });

  it("takes node names comma-separated and repeated, as the chart passes them", async () => {
    const c = await load([
      "--include",
      "x/*",
      "--nodes",
      "a,b",
      "--nodes=c",
      "--exclude-nodes=d,e",
    ]);
    expect(c.nodes.names).toEqual(["a", "b", "c"]);
    expect(c.nodes.exclude).toEqual(["d", "e"]);
  });

  it("reads every flag from KIC_ variables too", async () => {
    const c = await load([], {
      KIC_INCLUDE: "docker.io/acme/*",
      KIC_CONCURRENCY: "5",
      KIC_KEEP_PODS: "true",
    });
    expect(c.agent.include).toEqual(["docker.io/acme/*"]);
    expect(c.concurrency).toBe(5);
    expect(c.keepPods).toBe(true);
  });

  it("takes the owner pod and namespace from the downward API variables", () => {
    const c = loadRunConfig(
      { include: ["x/*"] },
      { POD_NAME: "kic-1", POD_UID: "u-1", POD_NAMESPACE: "kic" },
    );
    expect(c.owner).toEqual({ name: "kic-1", uid: "u-1", namespace: "kic" });
    expect(c.namespace).toBe("kic");
    expect(
      loadRunConfig({ include: ["x/*"], namespace: "other" }, { POD_NAMESPACE: "kic" }).namespace,
    ).toBe("other");
  });

  it("accepts '' as every node and set-based selectors", async () => {
    expect((await load(["--include", "x/*", "--node-selector", ""])).nodes.selector).toBe("");
    expect(
      (await load(["--include", "x/*", "--node-selector", "pool in (a,b),!gpu,tier!=db"])).nodes
        .selector,
    ).toBe("pool in (a,b),!gpu,tier!=db");
  });

  it("parses tolerations from JSON", async () => {
    const c = await load([
      "--include",
      "x/*",
      "--helper-tolerations",
      '[{"key":"gpu","operator":"Exists","effect":"NoSchedule"},{"key":"a","operator":"Equal","value":"b","effect":"NoExecute","tolerationSeconds":30}]',
    ]);
    expect(c.helper.tolerations).toEqual([
      { key: "gpu", operator: "Exists", effect: "NoSchedule" },
      { key: "a", operator: "Equal", value: "b", effect: "NoExecute", tolerationSeconds: 30 },
    ]);
  });

  const bad: [string, string[], string, RegExp][] = [
    ["no include", [], "--include", /give at least one glob/],
    ["concurrency 0", ["--concurrency", "0"], "--concurrency", /whole number from 1 to 500/],
    ["concurrency 1.5", ["--concurrency", "1.5"], "--concurrency", /whole number/],
    ["concurrency text", ["--concurrency", "many"], "--concurrency", /whole number/],
    ["a bare number timeout", ["--node-timeout", "30"], "--node-timeout", /duration like 90s/],
    ["a timeout too short", ["--node-timeout", "5s"], "--node-timeout", /at least 10s/],
    ["a bad quantity", ["--helper-cpu-limit", "lots"], "--helper-cpu-limit", /Kubernetes quantity/],
    [
      "tolerations that are not JSON",
      ["--helper-tolerations", "Exists"],
      "--helper-tolerations",
      /JSON list of tolerations/,
    ],
    [
      "a toleration effect",
      ["--helper-tolerations", '[{"operator":"Exists","effect":"Never"}]'],
      "--helper-tolerations effect",
      /NoSchedule, PreferNoSchedule, NoExecute/,
    ],
    [
      "a node selector",
      ["--node-selector", "a=b,=c"],
      "--node-selector",
      /is not a label requirement/,
    ],
    ["a node name", ["--nodes", "Node_A"], "--nodes", /lowercase DNS names/],
    ["a relative socket", ["--socket", "containerd.sock"], "--socket", /absolute path/],
    ["a min age", ["--min-age", "old"], "--min-age", /duration/],
    ["an exclude that can never match", ["--exclude", "*"], "--exclude", /never match/],
    ["an include with capitals", ["--include", "Acme/*"], "--include", /lowercase/],
  ];
  for (const [what, argv, key, allowed] of bad) {
    it(`rejects ${what}, naming ${key}`, async () => {
      const args = what === "no include" ? argv : ["--include", "x/*", ...argv];
      const err = await load(args).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as ConfigError).key).toBe(key);
      expect((err as ConfigError).message).toMatch(allowed);
      expect((err as ConfigError).exitCode).toBe(2);
    });
  }
});
