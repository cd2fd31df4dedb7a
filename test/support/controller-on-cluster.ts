// The controller on the local cluster, the fixture of test/integration/controller/: a namespace,
// service accounts bound to the RBAC the chart renders (DESIGN.md "RBAC"), kubeconfigs for them from
// the TokenRequest API, sample images on the real node, a built CLI to run as a real process, and
// the teardown of all of it (controllerOnCluster below). The helpers it is made of are exported for
// the tests that need one piece (a chart test's sample images, an agent test's built CLI).
import { execFile, execFileSync, spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
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
import { afterAll, beforeAll } from "vitest";
import type { RunConfig } from "../../src/config/run-options.js";
import { loadRunConfig } from "../../src/config/run-options.js";
import type { NodeResult } from "../../src/run-model/node-result.js";
import type { Kube } from "../../src/kube/api.js";
import { createKube } from "../../src/kube/clients.js";
import { runController, type RunDeps } from "../../src/controller/run.js";
import { createPrettyRunReporter } from "../../src/report/run-reporter.js";
import type { RunReporter } from "../../src/run-model/reporter.js";
import { buildCliInTemp, removeBuiltCli } from "./built-cli.js";
import { ensureCluster, kubectl } from "./cluster.js";
import { tempDir } from "./temp-dir.js";
import { render, REQUIRED_VALUES } from "../unit/chart/helm.js";

const repoRoot = join(import.meta.dirname, "..", "..");

export const silent = pino({ level: "silent" });

/**
 * The API calls of workload protection's read, once per run (one page each on a test cluster), as
 * they appear in a run summary's `requests.byCall`.
 */
export const WORKLOAD_READS = {
  listDeploymentForAllNamespaces: 1,
  listStatefulSetForAllNamespaces: 1,
  listDaemonSetForAllNamespaces: 1,
  listReplicaSetForAllNamespaces: 1,
  listJobForAllNamespaces: 1,
  listCronJobForAllNamespaces: 1,
} as const;

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

/** The helper pods (component agent) left in `ns`, as `kubectl get -o name` lists them. */
export function helperPodsIn(ns: string): Promise<string> {
  return kubectl([
    "get",
    "pods",
    "-n",
    ns,
    "-l",
    "app.kubernetes.io/component=agent",
    "-o",
    "name",
  ]);
}

/** A CLI process: what it printed so far, and its exit code once it exits. */
export interface CliProcess {
  child: ChildProcess;
  readonly stdout: () => string;
  readonly stderr: () => string;
  exited: Promise<number | null>;
}

/** Starts `node <args>` (args[0] the built CLI) with its output collected. */
export function startCli(args: string[]): CliProcess {
  const child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
  child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on("exit", resolve));
  return { child, stdout: () => stdout, stderr: () => stderr, exited };
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

export function writeKubeconfig(kc: KubeConfig, dir: string, name: string): string {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${name}.kubeconfig`);
  writeFileSync(file, kc.exportConfig(), { mode: 0o600 });
  return file;
}

export const execFileAsync = promisify(execFile);

/** Pods bound to `node` force-deleted, then the Node: no kubelet confirms deletions on a ghost node. */
export async function removeGhostNode(ns: string, node: string): Promise<void> {
  await kubectl([
    "delete",
    "pods",
    "-n",
    ns,
    "--field-selector",
    `spec.nodeName=${node}`,
    "--force",
    "--grace-period=0",
    "--ignore-not-found",
  ]);
  await kubectl(["delete", "node", node, "--ignore-not-found"]);
}

/** A service account the fixture creates: the chart's RBAC for it, as chartRbac() takes it. */
export type AccountRbac = Parameters<typeof chartRbac>[2];

export interface ControllerOnCluster {
  /** Random per file: names of the namespace, images and runs never meet another run's. */
  readonly tok: string;
  readonly ns: string;
  /** `demo.local/kic-<name>-<tok>`: the repository of this file's sample images. */
  readonly repo: string;
  readonly ref: (name: string) => string;
  /** A temp dir removed after the file's tests. */
  readonly tmp: string;
  /** The cluster's one real kubelet node (set once the fixture's beforeAll ran). */
  readonly nodeName: string;
  /** The built CLI's dist/cli.js (with `cli: true`). */
  readonly cli: string;
  /** A kubeconfig of one of the fixture's service accounts (a TokenRequest token). */
  account(sa: string): KubeConfig;
  /** The clients of that account, as the controller makes them. */
  kube(sa: string): Kube;
  /** Imports sample images into the node's containerd; they are removed at teardown. */
  images(refs: string[]): SampleImage[];
  /** Names to remove from the node at teardown (images a test makes some other way). */
  forgetImages(names: string[]): void;
  /** An AbortSignal nothing aborts. */
  readonly never: () => AbortSignal;
  /**
   * A Pod manifest `name` in the fixture's namespace, bound to the real node, never restarted and
   * gone at once when deleted; `spec` adds to it (its containers) or overrides (another nodeName),
   * `metadata` adds to its metadata.
   */
  pod(name: string, spec: Record<string, unknown>, metadata?: Record<string, unknown>): object;
  /**
   * runController as service account `as` (or with these clients), logging nowhere; the signal
   * is never() unless given.
   */
  run(
    as: string | Kube,
    config: Readonly<RunConfig>,
    deps: Omit<RunDeps, "kube" | "log" | "signal"> & Partial<Pick<RunDeps, "signal">>,
  ): ReturnType<typeof runController>;
  /**
   * The start of the built CLI's command line for `command` as service account `sa` (a kubeconfig
   * file in tmp) in the fixture's namespace: `[cli, command, --kubeconfig, <file>, --namespace, ns]`,
   * then each of `flags` as `--<name> <value>`.
   */
  cliArgs(command: string, sa: string, flags?: Record<string, string>): string[];
}

/** The flags that aim a CLI run at the local cluster's node, as testRunConfig() does for code. */
export function nodeFlags(): string[] {
  const c = ensureCluster();
  return [
    "--helper-image",
    c.image,
    "--helper-image-pull-policy",
    "Never",
    "--socket",
    c.containerdSocket,
    "--nsenter-target",
    "containerd",
  ];
}

/**
 * The controller's test fixture on the local cluster. Call it at a file's top level (or in a
 * describe): its beforeAll creates namespace `kic-<name>-<tok>` (labelled privileged, unless
 * `privileged: false`: the helper pods are), applies the chart's RBAC for each account in
 * `accounts` and gets a token for each, builds the CLI when `cli` is set; its afterAll deletes the
 * namespace, each account's ClusterRole and binding (and the events Role in `default`), the sample
 * images and the CLI. Hooks of the file declared after this call run after its set-up and before its
 * teardown.
 */
export function controllerOnCluster(
  name: string,
  opts: { accounts: Record<string, AccountRbac>; cli?: boolean; privileged?: boolean },
): ControllerOnCluster {
  const tok = randomBytes(3).toString("hex");
  const ns = `kic-${name}-${tok}`;
  const repo = `demo.local/kic-${name}-${tok}`;
  const tmp = tempDir(`kic-${name}-it-`);
  const kubeconfigs = new Map<string, KubeConfig>();
  const made: string[] = [];
  let nodeName = "";
  let cli = "";

  beforeAll(async () => {
    nodeName = ensureCluster().nodeName;
    if (opts.cli === true) cli = buildCliInTemp();
    await kubectl(["create", "namespace", ns]);
    if (opts.privileged !== false)
      await kubectl(["label", "namespace", ns, "pod-security.kubernetes.io/enforce=privileged"]);
    for (const [sa, rbac] of Object.entries(opts.accounts))
      await kubectl(["apply", "-f", "-"], { input: chartRbac(ns, sa, rbac) });
    for (const sa of Object.keys(opts.accounts))
      kubeconfigs.set(sa, await serviceAccountKubeConfig(ns, sa));
  });

  afterAll(async () => {
    await kubectl(["delete", "namespace", ns, "--wait=false"]);
    for (const [sa, rbac] of Object.entries(opts.accounts)) {
      const role = chartClusterRoleName(ns, sa);
      await kubectl(["delete", "clusterrole,clusterrolebinding", role, "--ignore-not-found"]);
      if (rbac.events === true)
        await kubectl(["delete", "role,rolebinding", role, "-n", "default", "--ignore-not-found"]);
    }
    removeNodeImages(made);
    removeBuiltCli(cli);
  });

  const account = (sa: string): KubeConfig => {
    const kc = kubeconfigs.get(sa);
    if (!kc)
      throw new Error(`no service account ${sa} in this fixture (or its beforeAll has not run)`);
    return kc;
  };
  return {
    tok,
    ns,
    repo,
    ref: (image) => `${repo}/${image}`,
    tmp,
    get nodeName() {
      return nodeName;
    },
    get cli() {
      return cli;
    },
    account,
    kube: (sa) => kubeFor(account(sa), `service account ${sa}`),
    images: (refs) => {
      made.push(...refs);
      return sampleImages(refs);
    },
    forgetImages: (names) => made.push(...names),
    never: () => new AbortController().signal,
    pod: (podName, spec, metadata = {}) => ({
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: podName, namespace: ns, ...metadata },
      spec: { nodeName, restartPolicy: "Never", terminationGracePeriodSeconds: 0, ...spec },
    }),
    run: (as, config, deps) =>
      runController(config, {
        kube: typeof as === "string" ? kubeFor(account(as), `service account ${as}`) : as,
        log: silent,
        signal: new AbortController().signal,
        ...deps,
      }),
    cliArgs: (command, sa, flags = {}) => [
      cli,
      command,
      "--kubeconfig",
      writeKubeconfig(account(sa), tmp, sa),
      "--namespace",
      ns,
      ...Object.entries(flags).flatMap(([name, value]) => [`--${name}`, value]),
    ],
  };
}
