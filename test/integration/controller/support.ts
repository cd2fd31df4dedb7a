// What the controller's integration tests share: a namespace, service accounts bound to the RBAC
// the chart renders (DESIGN.md "RBAC"), kubeconfigs for them from the TokenRequest API, sample images on
// the real node, and a built CLI to run as a real process.
import { execFile, execFileSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
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
import type { NodeResult } from "../../../src/run-model/node-result.js";
import type { Kube } from "../../../src/kube/api.js";
import { createKube } from "../../../src/kube/clients.js";
import { createPrettyRunReporter } from "../../../src/report/run-reporter.js";
import type { RunReporter } from "../../../src/run-model/reporter.js";
import { ensureCluster, kubectl } from "../../support/cluster.js";
import { render, REQUIRED_VALUES } from "../../unit/chart/helm.js";

const repoRoot = join(import.meta.dirname, "..", "..", "..");

export const silent = pino({ level: "silent" });

export function adminKubeConfig(): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromFile(ensureCluster().kubeconfig);
  return kc;
}

/** The kinds of the chart's RBAC: what a service account may do, nothing that runs. */
const RBAC_KINDS = new Set([
  "ServiceAccount",
  "Role",
  "RoleBinding",
  "ClusterRole",
  "ClusterRoleBinding",
]);

/**
 * The RBAC the chart renders (`helm template`, chart/templates/role.yaml, clusterrole.yaml,
 * serviceaccount.yaml) for a service account named `sa` in `ns`: its ServiceAccount, Role,
 * RoleBinding and (unless `clusterRole: false`, an operator who left the ClusterRole out) its
 * ClusterRole `<sa>-<ns>` and binding, as a List to `kubectl apply`. Not a copy: a rule the chart
 * adds or drops changes what these tests run with.
 */
export function chartRbac(
  ns: string,
  sa: string,
  opts: {
    allowPodDeletion: boolean;
    clusterRole?: boolean;
    events?: boolean;
    report?: boolean;
    /** images.onlyIfPullable with these registryPullSecrets (the Role may get exactly them). */
    registryPullSecrets?: string[];
  },
): string {
  const objects = render({
    release: sa,
    namespace: ns,
    values: {
      ...REQUIRED_VALUES,
      ...(opts.registryPullSecrets === undefined
        ? {}
        : {
            images: { ...REQUIRED_VALUES.images, onlyIfPullable: true },
            registryPullSecrets: opts.registryPullSecrets,
          }),
      fullnameOverride: sa,
      rbac: { create: true, allowPodDeletion: opts.allowPodDeletion },
      serviceAccount: { create: true },
      // Off unless asked for: the events Role lives in namespace default, outside the test's own.
      events: { enabled: opts.events ?? false },
      report: { enabled: opts.report ?? false },
    },
  })
    .filter((o) => RBAC_KINDS.has(o.kind ?? ""))
    .filter((o) => opts.clusterRole !== false || !o.kind?.startsWith("Cluster"));
  const accounts = objects.filter((o) => o.kind === "ServiceAccount").map((o) => o.metadata?.name);
  if (accounts.length !== 1 || accounts[0] !== sa)
    throw new Error(
      `the chart rendered service accounts ${JSON.stringify(accounts)}, expected ${sa}`,
    );
  return JSON.stringify({ apiVersion: "v1", kind: "List", items: objects });
}

/** Name of the ClusterRole (and binding) chartRbac() applies: the chart's `<fullname>-<namespace>`. */
export const chartClusterRoleName = (ns: string, sa: string): string => `${sa}-${ns}`;

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
      annotations?: Record<string, string>;
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
export { buildCliInTemp as buildCli, removeBuiltCli } from "../../support/built-cli.js";

export function writeKubeconfig(kc: KubeConfig, dir: string, name: string): string {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${name}.kubeconfig`);
  writeFileSync(file, kc.exportConfig(), { mode: 0o600 });
  return file;
}

export const execFileAsync = promisify(execFile);
