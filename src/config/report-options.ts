// `kube-image-cleanup report`: which run report to read and how to print it.
import type { Options } from "yargs";
import { ConfigError } from "../errors.js";
import { configMapName } from "./audit-options.js";
import { optionalString } from "./checks.js";
import * as kubectl from "./kubectl-options.js";

export type ReportOutput = "table" | "json" | "yaml";

export const reportOptions = {
  namespace: kubectl.namespaceOption(
    "namespace of the report (the release namespace; default: the kubeconfig context's, else default)",
  ),
  "report-configmap": {
    type: "string",
    requiresArg: true,
    describe:
      "the report ConfigMap (default: the one labelled app.kubernetes.io/component=run-report in the namespace)",
  },
  release: {
    type: "string",
    requiresArg: true,
    describe:
      "the Helm release whose report to read, when the namespace has several (its app.kubernetes.io/instance label)",
  },
  run: {
    type: "string",
    requiresArg: true,
    describe: "show the nodes of this run (default: the newest)",
  },
  output: kubectl.outputOption(
    ["table", "json", "yaml"],
    "table: the runs and the nodes of one run; json or yaml: the stored report as it is " +
      "(`pretty`, the older name of table, is still taken)",
  ),
  ...kubectl.kubectlOptions,
} as const satisfies Record<string, Options>;

export interface ReportConfig extends kubectl.KubectlConfig<ReportOutput> {
  configMap: string | undefined;
  release: string | undefined;
  runId: string | undefined;
}

const LABEL_VALUE = /^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;

export function loadReportConfig(args: Record<string, unknown>): Readonly<ReportConfig> {
  const runId = optionalString("--run", args.run);
  if (runId !== undefined && !/^[A-Za-z0-9][-A-Za-z0-9_.]{0,62}$/.test(runId))
    throw new ConfigError(
      "--run",
      runId,
      "give a run id as the report lists it, e.g. 20261201t030000-1a2b",
    );
  const release = optionalString("--release", args.release);
  if (release !== undefined && !LABEL_VALUE.test(release))
    throw new ConfigError(
      "--release",
      release,
      "give a Helm release name, as `helm list` shows it",
    );
  return Object.freeze({
    ...kubectl.loadKubectlConfig(args, ["table", "json", "yaml"] as const),
    configMap: configMapName("--report-configmap", args["report-configmap"]),
    release,
    runId,
  });
}
