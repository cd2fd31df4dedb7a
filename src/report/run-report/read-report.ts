// Finding and reading the run report for `kube-image-cleanup report`: by name, or the one
// ConfigMap in the namespace the chart labelled as a run report.
import { ConfigError } from "../../errors.js";
import type { AuditApi } from "../../kube/api.js";
import { statusOf, toKubeApiError } from "../../kube/errors.js";
import { COMPONENT_LABEL, INSTANCE_LABEL } from "../../run-model/labels.js";
import { REPORT_COMPONENT } from "../sinks/run-report.js";
import { parseReport, REPORT_KEY } from "./parse.js";
import type { StoredReport } from "./stored-run.js";

export interface ReadReport {
  name: string;
  report: StoredReport;
}

export async function readRunReport(
  api: Pick<AuditApi, "readNamespacedConfigMap" | "listNamespacedConfigMap">,
  namespace: string,
  name: string | undefined,
  /** Narrows the search to this release's report (its instance label). */
  release?: string,
): Promise<ReadReport> {
  const call = { resource: "configmaps", namespace } as const;
  // `report` runs as a person's own user, whom no chart value grants anything.
  const grant = `your user needs get and list on configmaps in namespace ${namespace} (docs/workstation.md)`;
  let found = name;
  if (found === undefined) {
    const selector =
      `${COMPONENT_LABEL}=${REPORT_COMPONENT}` +
      (release === undefined ? "" : `,${INSTANCE_LABEL}=${release}`);
    const list = await api
      .listNamespacedConfigMap({ namespace, labelSelector: selector })
      .catch((err: unknown) => {
        throw toKubeApiError(err, { ...call, verb: "list" }, grant);
      });
    const names = list.items.map((c) => c.metadata?.name ?? "").filter((n) => n !== "");
    if (names.length !== 1)
      throw new ConfigError(
        "--report-configmap",
        undefined,
        names.length === 0
          ? `no run report (ConfigMap labelled ${selector}) in namespace ${namespace}; give -n, the release's namespace (the chart keeps a report unless report.enabled=false)`
          : `namespace ${namespace} has ${names.length} run reports (${names.join(", ")}); give one of them, or the release with --release`,
      );
    found = names[0] ?? "";
  }
  const configMap = await api
    .readNamespacedConfigMap({ name: found, namespace })
    .catch((err: unknown) => {
      if (statusOf(err) === 404)
        throw new ConfigError(
          "--report-configmap",
          found,
          `no ConfigMap of that name in namespace ${namespace}; the chart names it <release>-kube-image-cleanup-report`,
        );
      throw toKubeApiError(err, { ...call, verb: "get" }, grant);
    });
  const parsed = parseReport(configMap.data?.[REPORT_KEY]);
  if (!parsed.ok)
    throw new ConfigError("--report-configmap", found, `not a run report: ${parsed.problem}`);
  return { name: found, report: parsed.report };
}
