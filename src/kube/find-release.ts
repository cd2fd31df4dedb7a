// Finding the kube-image-cleanup release installed in a namespace, by the labels the chart puts on
// its CronJob, for `list` from a workstation (src/config/release-settings.ts reads its settings).
import type { V1Container, V1CronJob } from "@kubernetes/client-node";
import { ConfigError } from "../errors.js";
import { APP_NAME, COMPONENT_LABEL, INSTANCE_LABEL } from "../run-model/labels.js";
import type { BatchApi } from "./api.js";
import { toKubeApiError } from "./errors.js";

/** The chart's CronJob: component `controller`, chart label `kube-image-cleanup-<version>`. */
export const RELEASE_SELECTOR = `${COMPONENT_LABEL}=controller`;
const CHART_LABEL = "helm.sh/chart";

export interface FoundRelease {
  /** The Helm release (the CronJob's app.kubernetes.io/instance). */
  release: string;
  namespace: string;
  cronJob: string;
  container: V1Container;
}

function isChartCronJob(c: V1CronJob): boolean {
  // Not app.kubernetes.io/name: nameOverride changes it; the chart label keeps the chart's name.
  return c.metadata?.labels?.[CHART_LABEL]?.startsWith(`${APP_NAME}-`) === true;
}

function controllerContainer(c: V1CronJob): V1Container | undefined {
  const containers = c.spec?.jobTemplate.spec?.template.spec?.containers ?? [];
  return (
    containers.find((k) => k.name === "controller") ?? containers.find((k) => k.args?.[0] === "run")
  );
}

/**
 * The release in `namespace`: the one named `wanted`, or the only one there. Undefined when there
 * is none and none was asked for (the caller decides whether the flags alone will do). Several
 * without `wanted`, or `wanted` not found: a ConfigError naming what to pass.
 */
export async function findRelease(
  api: BatchApi,
  namespace: string,
  wanted: string | undefined,
): Promise<FoundRelease | undefined> {
  const list = await api
    .listNamespacedCronJob({ namespace, labelSelector: RELEASE_SELECTOR })
    .catch((err: unknown) => {
      // Read as the person's own user: no chart value grants it, a Role the cluster admin binds does.
      throw toKubeApiError(
        err,
        { verb: "list", resource: "cronjobs", namespace },
        `reading the release's settings needs get and list on cronjobs (batch) in namespace ${namespace} for your user: ` +
          `kubectl create role kic-release-reader -n ${namespace} --verb=get,list --resource=cronjobs.batch, ` +
          `then kubectl create rolebinding kic-release-reader -n ${namespace} --role=kic-release-reader --user=<you>; ` +
          "or skip the release with --release '' and give --include and --helper-image yourself",
      );
    });
  const found: FoundRelease[] = [];
  for (const c of list.items.filter(isChartCronJob)) {
    const container = controllerContainer(c);
    const release = c.metadata?.labels?.[INSTANCE_LABEL];
    if (container === undefined || release === undefined) continue;
    found.push({ release, namespace, cronJob: c.metadata?.name ?? "", container });
  }
  const names = found.map((f) => f.release).sort();
  if (wanted !== undefined) {
    const match = found.find((f) => f.release === wanted);
    if (match !== undefined) return match;
    throw new ConfigError(
      "--release",
      wanted,
      names.length === 0
        ? `no kube-image-cleanup release is installed in namespace ${namespace}; name its namespace with -n`
        : `namespace ${namespace} has ${names.join(", ")}; pass one of them`,
    );
  }
  if (found.length > 1) {
    throw new ConfigError(
      "--release",
      undefined,
      `namespace ${namespace} has ${found.length} kube-image-cleanup releases (${names.join(", ")}); pass --release ${names[0] ?? ""} (or another of them)`,
    );
  }
  return found[0];
}
