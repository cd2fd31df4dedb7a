// The README's "Install" and "Debug a run", run as written on the local real cluster: the shell
// blocks are read from README.md and given to bash, with only what this machine needs changed (and
// each change must find its text, so a README edit cannot slip past): the locally built image and
// the local cluster's values instead of a pushed image (no registry to push to; the docker
// build/push block is not run), only the real node (benchmarks may add kwok nodes), and a fresh
// namespace per run. CONTRIBUTING.md ("The README's install, checked") says the same.
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import type { V1CronJob } from "@kubernetes/client-node";
import { afterAll, describe, expect, it } from "vitest";
import { ensureCluster, kubectl } from "../support/cluster.js";
import { helm, repo } from "../support/helm-release.js";

const run = promisify(execFile);
const readme = readFileSync(join(repo, "README.md"), "utf8");
const ns = `kic-readme-${randomBytes(3).toString("hex")}`;

/** The ```sh blocks of one `## ` section of the README, in order. */
function shellBlocks(heading: string): string[] {
  const start = readme.indexOf(`\n## ${heading}\n`);
  if (start < 0) throw new Error(`README.md has no section "## ${heading}"`);
  const end = readme.indexOf("\n## ", start + 1);
  const section = readme.slice(start, end < 0 ? undefined : end);
  return [...section.matchAll(/^```sh\n([\s\S]*?)^```/gm)].map((m) => m[1] ?? "");
}

/** `text` with `from` replaced; fails when the README no longer has `from`. */
function replaceExactly(text: string, from: string | RegExp, to: string): string {
  const found = typeof from === "string" ? text.includes(from) : from.test(text);
  if (!found)
    throw new Error(`README.md changed: the test's substitution finds no ${String(from)}`);
  return text.replaceAll(from, to);
}

const IMAGE_SETTINGS =
  "--set image.repository=registry.example.com/tools/kube-image-cleanup --set image.tag=0.1.0";

/** A README block as this machine runs it. */
function forThisMachine(block: string): string {
  const c = ensureCluster();
  let script = replaceExactly(block, /(-n |namespace )kube-image-cleanup\b/g, `$1${ns}`);
  if (script.includes("helm install"))
    script = replaceExactly(
      script,
      IMAGE_SETTINGS,
      `-f test/local-cluster-values.yaml --set runtime.socket=${c.containerdSocket} ` +
        `--set 'nodes.names={${c.nodeName}}'`,
    );
  if (script.includes("<helper pod>"))
    script = script.replaceAll(
      "<helper pod>",
      `"$(kubectl get pods -n ${ns} -l app.kubernetes.io/instance=kic,app.kubernetes.io/component=agent -o jsonpath='{.items[0].metadata.name}')"`,
    );
  return script;
}

async function bash(script: string): Promise<string> {
  const c = ensureCluster();
  const { stdout, stderr } = await run("bash", ["-euo", "pipefail", "-c", script], {
    cwd: repo,
    env: {
      ...process.env,
      KUBECONFIG: c.kubeconfig,
      PATH: `${c.binDir}:${process.env.PATH ?? ""}`,
    },
    maxBuffer: 16 << 20,
    timeout: 420_000,
  });
  // The log is the point of these steps: show it, so a failure is readable in CI.
  process.stdout.write(`$ ${script}\n${stdout}${stderr}`);
  return stdout;
}

async function cronJobArgs(): Promise<string[]> {
  const cj = JSON.parse(
    await kubectl(["get", "cronjob", "-n", ns, "kic-kube-image-cleanup", "-o", "json"]),
  ) as V1CronJob;
  return cj.spec?.jobTemplate.spec?.template.spec?.containers[0]?.args ?? [];
}

describe("the README's install, as written", () => {
  const install = shellBlocks("Install");
  const debug = shellBlocks("Debug a run");

  afterAll(async () => {
    await helm(["uninstall", "kic", "-n", ns]).catch(() => "");
    await kubectl(["delete", "namespace", ns, "--wait=true", "--timeout=90s"]).catch(() => "");
  });

  it("has the blocks this test runs: build and push, namespace, install, first run, upgrade; debug", () => {
    expect(install).toHaveLength(5);
    expect(install[0]).toMatch(/^docker build .*\ndocker push /);
    expect(install[1]).toContain("pod-security.kubernetes.io/enforce=privileged");
    expect(install[2]).toContain("--set dryRun=true");
    expect(install[3]).toContain("kubectl logs");
    expect(install[4]).toContain("--reuse-values --set dryRun=false");
    expect(debug).toHaveLength(1);
  });

  it("labels the namespace, installs a dry run and prints the first Job's log", async () => {
    await bash(forThisMachine(install[1] ?? ""));
    const labels = JSON.parse(
      await kubectl(["get", "namespace", ns, "-o", "jsonpath={.metadata.labels}"]),
    ) as Record<string, string>;
    expect(labels["pod-security.kubernetes.io/enforce"]).toBe("privileged");

    await bash(forThisMachine(install[2] ?? ""));
    expect(await cronJobArgs()).toContain("--dry-run=true");

    const log = await bash(forThisMachine(install[3] ?? ""));
    expect(log).toMatch(/^kube-image-cleanup run \S+ \(DRY RUN: nothing is deleted\)$/m);
    expect(log).toContain(`[1/1] ${ensureCluster().nodeName}: would delete 0 images`);
    expect(log).toMatch(/^summary of run \S+ \(dry run\): 1 node: 1 ok, 0 failed;/m);
  });

  it("switches deletion on with helm upgrade --reuse-values, keeping the other values", async () => {
    await bash(forThisMachine(install[4] ?? ""));
    const args = await cronJobArgs();
    expect(args).toContain("--dry-run=false");
    expect(args).toContain("--include=registry.example.com/shop/**");
  });

  it("the debug recipe keeps the helper pod, shows its log and prints the delete command", async () => {
    const out = await bash(forThisMachine(debug[0] ?? ""));
    expect(out).toMatch(/^1 helper pod left \(.*\); delete it with:$/m);
    expect(out).toContain(
      `kubectl delete pods -n ${ns} -l app.kubernetes.io/name=kube-image-cleanup,app.kubernetes.io/instance=kic,app.kubernetes.io/component=agent`,
    );
    // `kubectl get pods` listed it, and the agent's own log ends with its JSON result.
    expect(out).toMatch(/^kic-\S+ +0\/1 +Completed/m);
    expect(out).toContain('"msg":"agent result"');
    const pods = await kubectl([
      "get",
      "pods",
      "-n",
      ns,
      "-o",
      "name",
      "-l",
      "app.kubernetes.io/instance=kic,app.kubernetes.io/component=agent",
    ]);
    expect(pods.trim().split("\n")).toHaveLength(1);
  });
});
