// Sink: at the end of a run, the run-report ConfigMap gets the run's summary in front of the earlier
// ones (src/report/run-report/). RBAC: `get` and `update` on that one ConfigMap (resourceNames);
// the chart creates it, because `create` cannot be limited to a name. Two runs writing at once:
// the update carries the resourceVersion read, and a conflict reads again.
/* eslint-disable @typescript-eslint/no-unsafe-class-instance-assignment --
 * client-node's models are classes only for their serializer metadata; it takes plain objects (as
 * its own examples do), and a literal manifest reads like the YAML it becomes. */
import type { V1ConfigMap } from "@kubernetes/client-node";
import { APP_NAME, COMPONENT_LABEL, INSTANCE_LABEL, NAME_LABEL } from "../../run-model/labels.js";
import type { AuditApi } from "../../kube/api.js";
import { statusOf, toKubeApiError, type Verb } from "../../kube/errors.js";
import { addRun } from "../run-report/fit.js";
import { parseReport, REPORT_KEY } from "../run-report/parse.js";
import { storedRun } from "../run-report/stored-run.js";
import type { RunSink } from "../../run-model/sink.js";

/** The label the chart and this sink put on the report ConfigMap (`report` finds it by it). */
export const REPORT_COMPONENT = "run-report";

/** Reads and writes when another run updated the ConfigMap in between. */
const ATTEMPTS = 3;

type ReportApi = Pick<
  AuditApi,
  "readNamespacedConfigMap" | "replaceNamespacedConfigMap" | "createNamespacedConfigMap"
>;

export function createRunReportSink(api: ReportApi, name: string, maxRuns: number): RunSink {
  return {
    name: "run report",
    async summary(summary, ctx) {
      const { namespace } = ctx;
      const fail = (err: unknown, verb: Verb) =>
        new Error(
          `ConfigMap ${name} not written: ${toKubeApiError(err, { verb, resource: "configmaps", namespace }).message}`,
        );
      const run = storedRun(summary, ctx);
      for (let attempt = 1; ; attempt++) {
        let current: V1ConfigMap | undefined;
        try {
          current = await api.readNamespacedConfigMap({ name, namespace });
        } catch (err) {
          if (statusOf(err) !== 404) throw fail(err, "get");
        }
        if (current === undefined) {
          await createReport(api, name, namespace, ctx.instance, addRun([], run, maxRuns)).catch(
            (err: unknown) => {
              if (statusOf(err) === 403)
                throw new Error(
                  `ConfigMap ${name} does not exist in namespace ${namespace}: the chart creates it (report.enabled=true); ` +
                    `without the chart create it first: kubectl create configmap ${name} -n ${namespace}`,
                );
              throw fail(err, "create");
            },
          );
          return;
        }
        const parsed = parseReport(current.data?.[REPORT_KEY]);
        const report = addRun(parsed.ok ? parsed.report.runs : [], run, maxRuns);
        // The object read, with the report replaced (its resourceVersion makes the update fail
        // with a conflict when another run wrote in between).
        const body: V1ConfigMap = current;
        body.data = { ...current.data, [REPORT_KEY]: JSON.stringify(report) };
        try {
          await api.replaceNamespacedConfigMap({ name, namespace, body });
        } catch (err) {
          if (statusOf(err) === 409 && attempt < ATTEMPTS) continue;
          throw fail(err, "update");
        }
        if (!parsed.ok)
          throw new Error(
            `ConfigMap ${name}: the earlier runs were dropped: ${parsed.problem}; it now holds this run`,
          );
        return;
      }
    },
  };
}

async function createReport(
  api: ReportApi,
  name: string,
  namespace: string,
  instance: string,
  report: unknown,
): Promise<void> {
  await api.createNamespacedConfigMap({
    namespace,
    body: {
      metadata: {
        name,
        namespace,
        labels: {
          [NAME_LABEL]: APP_NAME,
          [INSTANCE_LABEL]: instance,
          [COMPONENT_LABEL]: REPORT_COMPONENT,
        },
      },
      data: { [REPORT_KEY]: JSON.stringify(report) },
    },
  });
}
