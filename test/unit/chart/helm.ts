// Runs the real helm binary (built by test/cluster/build-binaries.sh) on chart/ and parses what it
// renders. No cluster needed: `helm template` and `helm lint` are client-only.
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type {
  KubernetesObject,
  V1ClusterRole,
  V1ClusterRoleBinding,
  V1ConfigMap,
  V1CronJob,
  V1Job,
  V1Pod,
  V1Role,
  V1RoleBinding,
  V1ServiceAccount,
  V1ValidatingAdmissionPolicy,
  V1ValidatingAdmissionPolicyBinding,
} from "@kubernetes/client-node";
import yaml from "js-yaml";
import { cacheDir } from "../../support/cluster.js";

export const repoRoot = join(import.meta.dirname, "..", "..", "..");
export const chartDir = join(repoRoot, "chart");
export const helmBin = join(cacheDir, "bin", "helm");
/**
 * The helm here is built from source without the release ldflags, so its default Kubernetes
 * version is v1.20 and fails the chart's kubeVersion; pass the local cluster's version.
 */
export const KUBE_VERSION = "v1.34.4";

/**
 * What `helm install` sees on an API server that serves ValidatingAdmissionPolicy v1 (Kubernetes
 * 1.30 and later, the local cluster too); `helm template` alone does not assume it.
 */
export const VAP_API = [
  "--api-versions",
  "admissionregistration.k8s.io/v1/ValidatingAdmissionPolicy",
];

/** The values the chart requires; everything else is a default. */
export const REQUIRED_VALUES = { schedule: "0 3 * * *", images: { include: ["docker.io/acme/*"] } };

export interface HelmResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

export function helm(args: string[]): HelmResult {
  const r = spawnSync(helmBin, args, { encoding: "utf8", timeout: 60_000 });
  if (r.error)
    throw new Error(
      `cannot run ${helmBin} (built by test/cluster/build-binaries.sh): ${r.error.message}`,
    );
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

export interface RenderOptions {
  /** Values as an object (written to a temporary values file). */
  values?: unknown;
  /** Values files, e.g. chart/ci/*.yaml. */
  files?: string[];
  namespace?: string;
  release?: string;
  extraArgs?: string[];
}

/** `helm template` with the given values; returns helm's result without judging it. */
export function helmTemplate(opts: RenderOptions = {}): HelmResult {
  const dir = mkdtempSync(join(tmpdir(), "kic-chart-"));
  try {
    const args = ["template", opts.release ?? "kic", chartDir, "--kube-version", KUBE_VERSION];
    args.push("--namespace", opts.namespace ?? "kic-system");
    for (const f of opts.files ?? []) args.push("-f", f);
    if (opts.values !== undefined) {
      const file = join(dir, "values.json");
      writeFileSync(file, JSON.stringify(opts.values));
      args.push("-f", file);
    }
    args.push(...(opts.extraArgs ?? []));
    return helm(args);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Renders and parses every object; fails the test with helm's message when rendering fails. */
export function render(opts: RenderOptions = {}): KubernetesObject[] {
  const r = helmTemplate(opts);
  if (r.status !== 0) throw new Error(`helm template failed (${String(r.status)}):\n${r.stderr}`);
  return yaml
    .loadAll(r.stdout)
    .filter((doc): doc is KubernetesObject => doc !== null && typeof doc === "object");
}

/** Renders expecting failure; returns helm's error output. */
export function renderError(opts: RenderOptions): string {
  const r = helmTemplate(opts);
  if (r.status === 0) throw new Error("helm template succeeded, but a failure was expected");
  return r.stderr;
}

/** client-node's model classes as plain shapes: parsed YAML has their fields, not their prototype. */
type Plain<T> = { [K in keyof T]: T[K] };

/** The kinds the chart renders, with their client-node types. */
interface ChartKinds {
  ClusterRole: Plain<V1ClusterRole>;
  ClusterRoleBinding: Plain<V1ClusterRoleBinding>;
  ConfigMap: Plain<V1ConfigMap>;
  CronJob: Plain<V1CronJob>;
  Job: Plain<V1Job>;
  Pod: Plain<V1Pod>;
  Role: Plain<V1Role>;
  RoleBinding: Plain<V1RoleBinding>;
  ServiceAccount: Plain<V1ServiceAccount>;
  ValidatingAdmissionPolicy: Plain<V1ValidatingAdmissionPolicy>;
  ValidatingAdmissionPolicyBinding: Plain<V1ValidatingAdmissionPolicyBinding>;
}

export type Rendered<K extends keyof ChartKinds> = ChartKinds[K];

/** The one object of this kind (and name, if given); fails when there is none or more than one. */
export function only<K extends keyof ChartKinds>(
  objects: KubernetesObject[],
  kind: K,
  name?: string,
): ChartKinds[K] {
  const found = objects.filter(
    (o) => o.kind === kind && (name === undefined || o.metadata?.name === name),
  );
  if (found.length !== 1) {
    throw new Error(`expected one ${kind}${name ? ` ${name}` : ""}, found ${String(found.length)}`);
  }
  // The kind was checked above; the fields are what helm rendered (parsed YAML, not validated here).
  return found[0] as ChartKinds[K];
}

export function kinds(objects: KubernetesObject[]): string[] {
  return objects.map((o) => o.kind ?? "").sort();
}
