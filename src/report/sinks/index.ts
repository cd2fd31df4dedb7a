// The sinks a run's configuration asks for, in the order they run at the end of the run.
import type { AuditConfig } from "../../config/audit-options.js";
import type { Kube } from "../../kube/api.js";
import { createNodeEventSink } from "./node-events.js";
import { createPushgatewaySink } from "./pushgateway.js";
import { createRunReportSink } from "./run-report.js";
import type { RunSink } from "../../run-model/sink.js";

/** `narrowed`: the run visits only the nodes named with --nodes (the metrics sink keeps the others' counts). */
export function createRunSinks(
  config: AuditConfig,
  kube: Pick<Kube, "audit">,
  scope: { narrowed: boolean } = { narrowed: false },
): RunSink[] {
  const sinks: RunSink[] = [];
  if (config.events) sinks.push(createNodeEventSink(kube.audit));
  if (config.reportConfigMap !== undefined)
    sinks.push(createRunReportSink(kube.audit, config.reportConfigMap, config.reportRuns));
  if (config.pushgatewayUrl !== undefined)
    sinks.push(createPushgatewaySink(config.pushgatewayUrl, { scope }));
  return sinks;
}
