// `list` and `report` from a workstation, in one line, on the real API server: the chart installed
// as the README says, then the CLI as npm ships it (`npm pack`, installed from the tarball into an
// empty directory) run as a person's own user: a token of a service account that holds only the
// permissions the docs list for a workstation. `list -n <namespace>` must find the release's
// CronJob and use its image, patterns, node selection, socket and helper mode; flags given win; no
// release, several, or no permission to read CronJobs: one line, exit 2, naming what to pass.
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ensureCluster, kubectl } from "../../support/cluster.js";
import { installPackedCli, type PackedCli } from "../../support/packed-cli.js";
import {
  nodeImageNames,
  sampleImages,
  nodeFlags,
  helperPodsIn,
} from "../../support/controller-on-cluster.js";
import { chartDir, helmOk, localClusterValuesFile, testValues } from "./release.js";

const execFileAsync = promisify(execFile);
const id = randomBytes(3).toString("hex");
const ns = `kic-ws-${id}`;
const emptyNs = `kic-ws-empty-${id}`;
const prefix = `ws.local/${id}`;
const tmp = mkdtempSync(join(tmpdir(), "kic-workstation-"));
let cli: PackedCli | undefined;

interface Outcome {
  code: number;
  stdout: string;
  stderr: string;
}

/** The installed CLI as the workstation user (or another kubeconfig), nothing else from this env. */
async function kic(args: string[], kubeconfig = join(tmp, "workstation.kubeconfig")) {
  if (cli === undefined) throw new Error("the packed CLI was not installed");
  try {
    const r = await execFileAsync(cli.bin, args, {
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: tmp, KUBECONFIG: kubeconfig },
      encoding: "utf8",
      timeout: 240_000,
    });
    return { code: 0, stdout: r.stdout, stderr: r.stderr } satisfies Outcome;
  } catch (err) {
    const e = err as { code?: unknown; stdout?: string; stderr?: string };
    if (typeof e.code !== "number") throw err;
    return { code: e.code, stdout: e.stdout ?? "", stderr: e.stderr ?? "" } satisfies Outcome;
  }
}

async function install(release: string, include: string): Promise<void> {
  const values = {
    ...testValues(),
    images: { include: [include] },
    // Only the real node: benchmarks may add kwok nodes to the same cluster.
    nodes: { names: [ensureCluster().nodeName] },
  };
  const file = join(tmp, `${release}.values.json`);
  writeFileSync(file, JSON.stringify(values));
  await helmOk(["install", release, chartDir, "-n", ns, "-f", localClusterValuesFile, "-f", file]);
}

/**
 * What a person needs to run `list` and `report` from a workstation (docs: "From a workstation"):
 * read nodes and pods everywhere, run helper pods in the release namespace, read its CronJob and
 * report. `cronjobs: false` leaves out every CronJob read (the release's, and workload protection's
cluster-wide list), for the 403 message.
 */
function workstationRbac(user: string, cronjobs: boolean): string {
  return `
apiVersion: v1
kind: ServiceAccount
metadata: { name: ${user}, namespace: ${ns} }
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: { name: ${user}, namespace: ${ns} }
rules:
  - { apiGroups: [""], resources: [pods], verbs: [create, get, list, watch, delete] }
  - { apiGroups: [""], resources: [pods/log], verbs: [get] }
  - { apiGroups: [""], resources: [events], verbs: [list] }
  - { apiGroups: [""], resources: [configmaps], verbs: [get, list] }
${cronjobs ? "  - { apiGroups: [batch], resources: [cronjobs], verbs: [get, list] }" : ""}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: { name: ${user}, namespace: ${ns} }
roleRef: { apiGroup: rbac.authorization.k8s.io, kind: Role, name: ${user} }
subjects: [{ kind: ServiceAccount, name: ${user}, namespace: ${ns} }]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: { name: ${ns}-${user} }
rules:
  - { apiGroups: [""], resources: [nodes], verbs: [list] }
  - { apiGroups: [""], resources: [pods], verbs: [list, watch] }
  - { apiGroups: [apps], resources: [deployments, statefulsets, daemonsets, replicasets], verbs: [list] }
  - { apiGroups: [batch], resources: [${cronjobs ? "jobs, cronjobs" : "jobs"}], verbs: [list] }
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: { name: ${ns}-${user} }
roleRef: { apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: ${ns}-${user} }
subjects: [{ kind: ServiceAccount, name: ${user}, namespace: ${ns} }]
`;
}

/** A kubeconfig holding a token of `user`, with no namespace in its context (as a person's). */
async function tokenKubeconfig(user: string, file: string): Promise<void> {
  const token = (await kubectl(["create", "token", user, "-n", ns, "--duration", "1h"])).trim();
  const admin = JSON.parse(
    await kubectl(["config", "view", "--raw", "--minify", "-o", "json"]),
  ) as {
    clusters: { cluster: { server: string; "certificate-authority-data": string } }[];
  };
  const cluster = admin.clusters[0]?.cluster;
  if (cluster === undefined) throw new Error("the admin kubeconfig has no cluster");
  writeFileSync(
    file,
    JSON.stringify({
      apiVersion: "v1",
      kind: "Config",
      clusters: [{ name: "c", cluster }],
      users: [{ name: user, user: { token } }],
      contexts: [{ name: "c", context: { cluster: "c", user } }],
      "current-context": "c",
    }),
  );
}

interface ListedRow {
  image: string;
  wouldCleanOn: string[];
}

beforeAll(async () => {
  ensureCluster();
  cli = await installPackedCli();
  await kubectl(["create", "namespace", ns]);
  // As the README's install tells the operator (the helper pods are privileged).
  await kubectl(["label", "namespace", ns, "pod-security.kubernetes.io/enforce=privileged"]);
  await kubectl(["create", "namespace", emptyNs]);
  sampleImages([`${prefix}/app:v1`, `${prefix}/keep:v1`]);
  await install("nightly", `${prefix}/app:*`);
  await kubectl(["apply", "-f", "-"], { input: workstationRbac("workstation", true) });
  await kubectl(["apply", "-f", "-"], { input: workstationRbac("no-cronjobs", false) });
  await tokenKubeconfig("workstation", join(tmp, "workstation.kubeconfig"));
  await tokenKubeconfig("no-cronjobs", join(tmp, "no-cronjobs.kubeconfig"));
});

afterAll(async () => {
  for (const release of ["nightly", "weekly"])
    await helmOk(["uninstall", release, "-n", ns, "--ignore-not-found"]).catch(() => undefined);
  for (const user of ["workstation", "no-cronjobs"]) {
    await kubectl([
      "delete",
      "clusterrole,clusterrolebinding",
      `${ns}-${user}`,
      "--ignore-not-found",
    ]);
  }
  await kubectl(["delete", "namespace", ns, emptyNs, "--wait=false", "--ignore-not-found"]);
  const lib = join(import.meta.dirname, "..", "..", "cluster", "lib.sh");
  await execFileAsync("bash", [
    "-c",
    `. "$1" && ctr_k8s images rm ${prefix}/app:v1 ${prefix}/keep:v1 >/dev/null 2>&1 || true`,
    "bash",
    lib,
  ]).catch(() => undefined);
  cli?.remove();
  rmSync(tmp, { recursive: true, force: true });
});

describe("list and report from a workstation, with the CLI installed from the npm tarball", () => {
  it("list -n <namespace> uses the installed release's image, patterns, nodes, socket and helper mode", async () => {
    const r = await kic(["list", "-n", ns, "-o", "json"]);
    expect(r.code, r.stderr).toBe(0);
    // The one line that says where the settings came from.
    expect(r.stderr).toContain(
      `settings of release nightly (CronJob ${ns}/nightly-kube-image-cleanup)`,
    );
    expect(r.stderr).toContain(`--include=${prefix}/app:*`);
    expect(r.stderr).toContain(`--helper-image=${ensureCluster().image}`);
    expect(r.stderr).toContain("--helper-mode=privileged");
    expect(r.stderr).toContain(`--socket=${ensureCluster().containerdSocket}`);
    expect(r.stderr).toContain(`--nodes=${ensureCluster().nodeName}`);
    const listed = JSON.parse(r.stdout) as { nodes: number; images: ListedRow[] };
    expect(listed.nodes).toBe(1);
    // The release's pattern: app would go, keep is not matched (so not listed).
    expect(listed.images.map((i) => i.image)).toEqual([`${prefix}/app:v1`]);
    expect(listed.images[0]?.wouldCleanOn).toEqual([ensureCluster().nodeName]);
    // A dry run: the image is still there; and list's helper pod is gone.
    expect(nodeImageNames()).toContain(`${prefix}/app:v1`);
    expect(await helperPodsIn(ns)).toBe("");
  });

  it("lets the flags given win over the release's settings", async () => {
    const r = await kic(["list", "-n", ns, "--include", `${prefix}/keep:*`, "-o", "yaml"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).not.toContain("--include=");
    expect(r.stdout).toContain(`image: ${prefix}/keep:v1`);
    expect(r.stdout).not.toContain(`${prefix}/app:v1`);
  });

  it("report -n <namespace> reads the release's run report as the same user", async () => {
    const r = await kic(["report", "-n", ns, "-o", "yaml"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^runs: \[\]$/m);
  });

  it("says which permission is missing when the user may not read CronJobs (403)", async () => {
    const r = await kic(["list", "-n", ns], join(tmp, "no-cronjobs.kubeconfig"));
    expect(r.code).toBe(2);
    expect(r.stdout).toBe("");
    const lines = r.stderr.split("\n").filter(Boolean);
    expect(lines, r.stderr).toHaveLength(1);
    expect(lines[0]).toMatch(
      new RegExp(
        `^error: forbidden: list cronjobs in namespace ${ns}: .*get and list on cronjobs \\(batch\\) in namespace ${ns}.*--release ''`,
      ),
    );
    // And that the message is right: with the flags alone the same user lists (without workload
    // protection, whose cluster-wide CronJob list this user may not make either).
    const flagsOnly = await kic(
      [
        "list",
        "-n",
        ns,
        "--release",
        "",
        "--no-protect-workloads",
        "--include",
        `${prefix}/app:*`,
        ...nodeFlags(),
        "--nodes",
        ensureCluster().nodeName,
      ],
      join(tmp, "no-cronjobs.kubeconfig"),
    );
    expect(flagsOnly.code, flagsOnly.stderr).toBe(0);
    expect(flagsOnly.stdout).toContain(`${prefix}/app:v1`);
  });

  it("names -n and --include when the namespace has no release, one line, exit 2", async () => {
    const admin = ensureCluster().kubeconfig;
    const r = await kic(["list", "-n", emptyNs], admin);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe("");
    const [first = "", ...rest] = r.stderr.split("\n").filter(Boolean);
    expect(first).toMatch(
      new RegExp(
        `^error: invalid --include: nothing was given; no kube-image-cleanup release is installed in namespace ${emptyNs}.*-n.*--include`,
      ),
    );
    expect(rest).toEqual(["see kube-image-cleanup list --help"]);
  });

  it("names --release and the releases when the namespace has several, and takes the one named", async () => {
    await install("weekly", `${prefix}/keep:*`);
    const r = await kic(["list", "-n", ns]);
    expect(r.code).toBe(2);
    const [first = ""] = r.stderr.split("\n");
    expect(first).toMatch(
      /^error: invalid --release: nothing was given; namespace .* has 2 kube-image-cleanup releases \(nightly, weekly\); pass --release nightly/,
    );
    const weekly = await kic(["list", "-n", ns, "--release", "weekly", "-o", "json"]);
    expect(weekly.code, weekly.stderr).toBe(0);
    expect(weekly.stderr).toContain(
      `settings of release weekly (CronJob ${ns}/weekly-kube-image-cleanup)`,
    );
    const listed = JSON.parse(weekly.stdout) as { images: ListedRow[] };
    expect(listed.images.map((i) => i.image)).toEqual([`${prefix}/keep:v1`]);
    const missing = await kic(["list", "-n", ns, "--release", "monthly"]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(
      /^error: invalid --release: given "monthly"; namespace .* has nightly, weekly; pass one of them/,
    );
  });
});
