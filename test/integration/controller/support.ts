// What the controller's integration tests share: a namespace, service accounts bound to exactly the
// chart's RBAC (DESIGN.md "RBAC"), kubeconfigs for them from the TokenRequest API, sample images on
// the real node, and a built CLI to run as a real process.
import { execFile, execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync, copyFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import {
  AuthenticationV1TokenRequest,
  CoreV1Api,
  KubeConfig,
  V1TokenRequestSpec,
} from "@kubernetes/client-node";
import { pino } from "pino";
import type { RunConfig } from "../../../src/config/run-options.js";
import { loadRunConfig } from "../../../src/config/run-options.js";
import type { NodeResult } from "../../../src/controller/results.js";
import type { Kube } from "../../../src/kube/api.js";
import { createKube } from "../../../src/kube/clients.js";
import { createPrettyRunReporter, type RunReporter } from "../../../src/report/run-reporter.js";
import { ensureCluster, kubectl } from "../../support/cluster.js";

const repoRoot = join(import.meta.dirname, "..", "..", "..");

export const silent = pino({ level: "silent" });

export function adminKubeConfig(): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromFile(ensureCluster().kubeconfig);
  return kc;
}

/** The chart's RBAC (chart/templates/role.yaml, clusterrole.yaml) for one service account. */
export function chartRbac(
  ns: string,
  sa: string,
  opts: { allowPodDeletion: boolean; clusterRole?: boolean },
): string {
  const podVerbs = opts.allowPodDeletion
    ? ["create", "get", "list", "watch", "delete"]
    : ["create", "get", "list", "watch"];
  const objects: unknown[] = [
    { apiVersion: "v1", kind: "ServiceAccount", metadata: { name: sa, namespace: ns } },
    {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "Role",
      metadata: { name: sa, namespace: ns },
      rules: [
        { apiGroups: [""], resources: ["pods"], verbs: podVerbs },
        { apiGroups: [""], resources: ["pods/log"], verbs: ["get"] },
        { apiGroups: [""], resources: ["events"], verbs: ["list"] },
      ],
    },
    {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "RoleBinding",
      metadata: { name: sa, namespace: ns },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: sa },
      subjects: [{ kind: "ServiceAccount", name: sa, namespace: ns }],
    },
  ];
  if (opts.clusterRole !== false) {
    objects.push(
      {
        apiVersion: "rbac.authorization.k8s.io/v1",
        kind: "ClusterRole",
        metadata: { name: `${ns}-${sa}` },
        rules: [
          { apiGroups: [""], resources: ["nodes"], verbs: ["get", "list"] },
          { apiGroups: [""], resources: ["pods"], verbs: ["list"] },
        ],
      },
      {
        apiVersion: "rbac.authorization.k8s.io/v1",
        kind: "ClusterRoleBinding",
        metadata: { name: `${ns}-${sa}` },
        roleRef: {
          apiGroup: "rbac.authorization.k8s.io",
          kind: "ClusterRole",
          name: `${ns}-${sa}`,
        },
        subjects: [{ kind: "ServiceAccount", name: sa, namespace: ns }],
      },
    );
  }
  return JSON.stringify({ apiVersion: "v1", kind: "List", items: objects });
}

/** A kubeconfig that authenticates as the service account, with a token from the TokenRequest API. */
export async function serviceAccountKubeConfig(ns: string, sa: string): Promise<KubeConfig> {
  const admin = adminKubeConfig();
  const core = admin.makeApiClient(CoreV1Api);
  const tokenRequest = await core.createNamespacedServiceAccountToken({
    name: sa,
    namespace: ns,
    body: Object.assign(new AuthenticationV1TokenRequest(), {
      spec: Object.assign(new V1TokenRequestSpec(), { audiences: [], expirationSeconds: 3600 }),
    }),
  });
  const token = tokenRequest.status?.token;
  if (!token) throw new Error(`TokenRequest for ${ns}/${sa} returned no token`);
  const cluster = admin.getCurrentCluster();
  if (!cluster) throw new Error("admin kubeconfig has no cluster");
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ ...cluster, name: "kic" }],
    users: [{ name: sa, token }],
    contexts: [{ name: sa, cluster: "kic", user: sa, namespace: ns }],
    currentContext: sa,
  });
  return kc;
}

export function kubeFor(kc: KubeConfig, source: string): Kube {
  return createKube({ config: kc, source }, silent);
}

/** A run config as the chart would build it, aimed at the local cluster's node and image. */
export function testRunConfig(
  ns: string,
  instance: string,
  args: Record<string, unknown>,
): Readonly<RunConfig> {
  const c = ensureCluster();
  return loadRunConfig(
    {
      namespace: ns,
      instance,
      "helper-image": c.image,
      "helper-image-pull-policy": "Never",
      socket: c.containerdSocket,
      // PID 1 of this sandbox cannot be entered (test/cluster/README.md); the node's containerd
      // process stands in for the node's init, as on a real node through hostPID.
      "nsenter-target": "containerd",
      "node-timeout": "90s",
      ...args,
    },
    {},
  );
}

/** The pretty run log as lines, and every node's full result as the reporter received it. */
export function collectingReporter(): {
  lines: string[];
  nodes: NodeResult[];
  reporter: RunReporter;
} {
  const lines: string[] = [];
  const nodes: NodeResult[] = [];
  const pretty = createPrettyRunReporter((l) => lines.push(l));
  return {
    lines,
    nodes,
    reporter: {
      ...pretty,
      node: (r, done, total) => {
        nodes.push(r);
        pretty.node(r, done, total);
      },
    },
  };
}

export interface SampleImage {
  name: string;
  id: string;
  size: number;
}

/** Imports small busybox-based images into the node's containerd (test/cluster/sample-images.sh). */
export function sampleImages(refs: string[]): SampleImage[] {
  const out = execFileSync("bash", [join(repoRoot, "test/cluster/sample-images.sh"), ...refs], {
    encoding: "utf8",
  });
  return out
    .split("\n")
    .filter((l) => l.startsWith("{"))
    .map((l) => JSON.parse(l) as SampleImage);
}

/** Image names on the node, as its containerd (k8s.io namespace) lists them. */
export function nodeImageNames(): string[] {
  const c = ensureCluster();
  const out = execFileSync(
    "ctr",
    ["--address", c.containerdSocket, "--namespace", "k8s.io", "images", "ls", "-q"],
    {
      encoding: "utf8",
    },
  );
  return out.split("\n").filter(Boolean);
}

export function removeNodeImages(names: string[]): void {
  const c = ensureCluster();
  for (const name of names) {
    try {
      execFileSync(
        "ctr",
        ["--address", c.containerdSocket, "--namespace", "k8s.io", "images", "rm", name],
        { stdio: "ignore" },
      );
    } catch {
      // Already deleted (by the run under test, usually): nothing to clean up.
    }
  }
}

interface PodList {
  items: {
    metadata: {
      name: string;
      deletionTimestamp?: string;
      ownerReferences?: unknown[];
      labels?: Record<string, string>;
    };
    spec: Record<string, unknown>;
  }[];
}

export async function podsWith(ns: string, selector: string): Promise<PodList["items"]> {
  return (
    JSON.parse(await kubectl(["get", "pods", "-n", ns, "-l", selector, "-o", "json"])) as PodList
  ).items;
}

/** Polls (test side only) until `check` holds. */
export async function eventually<T>(
  check: () => Promise<T | undefined>,
  what: string,
  timeoutMs = 60_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

/** Compiles src/ into a temp directory (package.json beside dist/, as in the image) for CLI runs. */
export function buildCli(): string {
  const dir = mkdtempSync(join(tmpdir(), "kic-ctl-cli-"));
  execFileSync(
    join(repoRoot, "node_modules/.bin/tsc"),
    ["-p", join(repoRoot, "tsconfig.build.json"), "--outDir", join(dir, "dist")],
    {
      stdio: "inherit",
    },
  );
  copyFileSync(join(repoRoot, "package.json"), join(dir, "package.json"));
  symlinkSync(join(repoRoot, "node_modules"), join(dir, "node_modules"));
  return join(dir, "dist", "cli.js");
}

export function writeKubeconfig(kc: KubeConfig, dir: string, name: string): string {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${name}.kubeconfig`);
  writeFileSync(file, kc.exportConfig(), { mode: 0o600 });
  return file;
}

export const execFileAsync = promisify(execFile);
