// Objects the e2e files put into a namespace of the local cluster beside the chart: pods pinned to
// the real node, workloads, pull Secrets. One shape for each, so a file states only what its
// scenario needs of them.
import { ensureCluster, kubectl } from "./cluster.js";
import { dockerConfigJson } from "./registry.js";

/** `kubectl apply` of `object` (as JSON on stdin) in namespace `ns`. */
export async function applyIn(ns: string, object: object): Promise<void> {
  await kubectl(["apply", "-n", ns, "-f", "-"], { input: JSON.stringify(object) });
}

/** Waits (up to `timeout`) for pod `name` in `ns` to be Ready. */
export async function waitReady(ns: string, name: string, timeout = "60s"): Promise<void> {
  await kubectl(["wait", "-n", ns, `pod/${name}`, "--for=condition=Ready", `--timeout=${timeout}`]);
}

/**
 * A container `name` that sleeps an hour in `image`, never pulled unless `pullPolicy` says so;
 * `more` adds fields (volume mounts).
 */
export function sleeper(
  name: string,
  image: string,
  pullPolicy = "Never",
  more: Record<string, unknown> = {},
): Record<string, unknown> {
  return { name, image, imagePullPolicy: pullPolicy, command: ["sleep", "3600"], ...more };
}

/** Pod `name` bound to the cluster's real node with these containers; `spec` adds fields. */
export function podOnNode(
  name: string,
  containers: Record<string, unknown>[],
  spec: Record<string, unknown> = {},
): object {
  const { nodeName } = ensureCluster();
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name },
    spec: { nodeName, ...spec, containers },
  };
}

/**
 * A `kubernetes.io/dockerconfigjson` Secret `name` with `user`:`password` for `registry`.
 * `encoded`: the config under `data` (base64), as most tools write it; otherwise `stringData`.
 */
export function pullSecret(
  name: string,
  registry: string,
  user: string,
  password: string,
  encoded = false,
): object {
  const config = dockerConfigJson(registry, user, password);
  return {
    apiVersion: "v1",
    kind: "Secret",
    metadata: { name },
    type: "kubernetes.io/dockerconfigjson",
    ...(encoded
      ? { data: { ".dockerconfigjson": Buffer.from(config).toString("base64") } }
      : { stringData: { ".dockerconfigjson": config } }),
  };
}

/** Deployment `name` scaled to zero (it names images, runs nothing) with this pod spec. */
export function idleDeployment(name: string, podSpec: Record<string, unknown>): object {
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name },
    spec: {
      replicas: 0,
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name } }, spec: podSpec },
    },
  };
}
