// `kube-image-cleanup report`: which run report to read and how to print it.
import type { Options } from "yargs";
import { ConfigError } from "../errors.js";
import { configMapName } from "./audit-options.js";
import { oneOf, optionalString } from "./checks.js";
import { controllerOptions } from "./run-options.js";

const { kubeconfig, context } = controllerOptions;

export const reportOptions = {
  namespace: {
    type: "string",
    requiresArg: true,
    describe:
      "namespace of the report (the release namespace; default: the kubeconfig context's, else default)",
  },
  "report-configmap": {
    type: "string",
    requiresArg: true,
    describe:
      "the report ConfigMap (default: the one labelled app.kubernetes.io/component=run-report in the namespace)",
  },
  run: {
    type: "string",
    requiresArg: true,
    describe: "show the nodes of this run (default: the newest)",
  },
  output: {
    choices: ["pretty", "json"],
    default: "pretty",
    describe: "tables, or the stored JSON as it is",
  },
  kubeconfig,
  context,
} as const satisfies Record<string, Options>;

export interface ReportConfig {
  namespace: string | undefined;
  configMap: string | undefined;
  runId: string | undefined;
  output: "pretty" | "json";
  kubeconfig: string | undefined;
  context: string | undefined;
}

export function loadReportConfig(args: Record<string, unknown>): Readonly<ReportConfig> {
  const runId = optionalString("--run", args.run);
  if (runId !== undefined && !/^[A-Za-z0-9][-A-Za-z0-9_.]{0,62}$/.test(runId))
    throw new ConfigError(
      "--run",
      runId,
      "give a run id as the report lists it, e.g. 20261201t030000-1a2b",
    );
  return Object.freeze({
    namespace: optionalString("--namespace", args.namespace),
    configMap: configMapName("--report-configmap", args["report-configmap"]),
    runId,
    output: oneOf("--output", args.output ?? "pretty", ["pretty", "json"] as const),
    kubeconfig: optionalString("--kubeconfig", args.kubeconfig),
    context: optionalString("--context", args.context),
  });
}
