import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { configErrorOf } from "../support/config-error.js";
import { loadKubeConfig } from "../../../src/kube/kubeconfig.js";
import { tempDir } from "../../support/temp-dir.js";

const dir = tempDir("kic-kubeconfig-");
const file = (name: string, text: string) => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};
const valid = (server: string) =>
  `clusters: [{name: c, cluster: {server: "${server}"}}]\nusers: [{name: u, user: {token: t}}]\n` +
  `contexts: [{name: c, context: {cluster: c, user: u}}, {name: d, context: {cluster: gone, user: u}}]\ncurrent-context: c\n`;
const good = file("good", valid("https://127.0.0.1:6443"));
const noHome = { HOME: join(dir, "no-home") };

describe("loadKubeConfig: every unusable kubeconfig is a ConfigError naming the key and the file", () => {
  [
    {
      name: "missing file",
      kubeconfig: join(dir, "nope"),
      key: "--kubeconfig",
      says: /the file does not exist/,
    },
    { name: "directory", kubeconfig: dir, key: "--kubeconfig", says: /it is a directory/ },
    {
      name: "empty file",
      kubeconfig: file("empty", " \n"),
      key: "--kubeconfig",
      says: /the file is empty/,
    },
    {
      name: "YAML syntax error",
      kubeconfig: file("broken", "clusters: [\n"),
      key: "--kubeconfig",
      says: /not a valid kubeconfig: unexpected end of the stream/,
    },
    {
      name: "entry without server",
      kubeconfig: file("no-server", "clusters: [{name: c, cluster: {}}]\n"),
      key: "--kubeconfig",
      says: /clusters\[0\]\.cluster\.server is missing/,
    },
    {
      name: "YAML that is a list",
      kubeconfig: file("list", "- a\n"),
      key: "--kubeconfig",
      says: /holds no contexts/,
    },
    {
      name: "current-context naming nothing",
      kubeconfig: file(
        "no-current",
        valid("https://x").replace("current-context: c", "current-context: z"),
      ),
      key: "--kubeconfig",
      says: /no current-context named "z"; give --context, one of c, d/,
    },
    {
      name: "server that is not a URL",
      kubeconfig: file("no-url", valid("10.0.0.1:6443")),
      key: "--kubeconfig",
      says: /has server "10\.0\.0\.1:6443"; give an https:\/\/ URL/,
    },
    {
      name: "context whose cluster is missing",
      kubeconfig: good,
      context: "d",
      key: "--kubeconfig",
      says: /context "d" names a cluster that/,
    },
    {
      name: "unknown --context",
      kubeconfig: good,
      context: "prod",
      key: "--context",
      says: /use one of the contexts in kubeconfig .* c, d/,
    },
  ].forEach((t) => {
    it(t.name, () => {
      const err = configErrorOf(() =>
        loadKubeConfig({ kubeconfig: t.kubeconfig, context: t.context }, noHome),
      );
      expect(err.key).toBe(t.key);
      expect(err.message).toMatch(t.says);
      expect(err.message).not.toContain("\n");
    });
  });

  it("names the file of a KUBECONFIG list that is wrong", () => {
    const err = configErrorOf(() =>
      loadKubeConfig({}, { ...noHome, KUBECONFIG: `${good}:${join(dir, "broken")}` }),
    );
    expect(err.key).toBe("KUBECONFIG");
    expect(err.given).toBe(join(dir, "broken"));
    expect(err.message).toMatch(/\(one of KUBECONFIG=/);
  });

  it("names ~/.kube/config when that is the file used", () => {
    const home = join(dir, "home");
    mkdirSync(join(home, ".kube"), { recursive: true });
    writeFileSync(join(home, ".kube", "config"), "{");
    expect(configErrorOf(() => loadKubeConfig({}, { HOME: home })).key).toBe("~/.kube/config");
  });

  it("merges a KUBECONFIG list as kubectl does: the first definition of a name and the first current-context win", () => {
    const other = file(
      "other",
      valid("https://127.0.0.2:6443")
        .replace(/name: c\b/g, "name: o")
        .replace(/cluster: c\b/, "cluster: o")
        .replace("current-context: c", "current-context: o"),
    );
    const loaded = loadKubeConfig({}, { ...noHome, KUBECONFIG: `${good}:${other}` });
    expect(loaded.config.getCurrentCluster()?.server).toBe("https://127.0.0.1:6443");
    expect(loaded.config.getContexts().map((c) => c.name)).toEqual(["c", "d", "o"]);
    // Both files define user "u" and context "d": kubectl keeps the first, client-node would throw.
    expect(loaded.config.getUsers()).toHaveLength(1);
  });
});
