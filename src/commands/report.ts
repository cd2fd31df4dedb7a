// `kube-image-cleanup report`: prints the run-report ConfigMap as the run log's tables. Wiring only;
// reading lives in src/report/run-report/read-report.ts, printing in format.ts.
import { loadReportConfig, reportOptions } from "../config/report-options.js";
import { ConfigError } from "../errors.js";
import type { ExitingCommand } from "./index.js";
import { withUsage } from "./usage.js";

export const reportCommand: ExitingCommand = {
  command: "report",
  describe:
    "print the last runs kept in the run-report ConfigMap (outlives the Jobs and their logs)",
  options: reportOptions,
  builder: (y) =>
    withUsage(y.options(reportOptions), {
      examples: [
        ["$0 report -n kube-image-cleanup", "the runs, and the nodes of the newest"],
        ["$0 report -n kube-image-cleanup --run 20261201t030000-1a2b", "the nodes of one run"],
        [
          "$0 report -n kube-image-cleanup -o yaml",
          "the stored report as it is (json also), for scripts",
        ],
      ],
    }),
  handler: async (args) => {
    const config = loadReportConfig(args);
    const [{ createKube }, { loadKubeConfig }, { createLogger }, { readRunReport }, format, yaml] =
      await Promise.all([
        import("../kube/clients.js"),
        import("../kube/kubeconfig.js"),
        import("../log.js"),
        import("../report/run-report/read-report.js"),
        import("../report/run-report/format.js"),
        import("../text/yaml.js"),
      ]);
    const kube = createKube(loadKubeConfig(config), createLogger("pretty"), {
      timeoutMs: config.requestTimeoutMs,
      auditTimeoutMs: config.requestTimeoutMs,
    });
    try {
      const namespace = config.namespace ?? kube.contextNamespace ?? "default";
      const { name, report } = await readRunReport(
        kube.audit,
        namespace,
        config.configMap,
        config.release,
      );
      const out = (line: string) => process.stdout.write(`${line}\n`);
      if (config.output === "json") {
        out(JSON.stringify(report, null, 2));
        return 0;
      }
      if (config.output === "yaml") {
        process.stdout.write(yaml.toYaml(report));
        return 0;
      }
      format.formatRunList(report, `${namespace}/${name}`).forEach(out);
      const run =
        config.runId === undefined
          ? report.runs[0]
          : report.runs.find((r) => r.runId === config.runId);
      if (run === undefined && config.runId !== undefined)
        throw new ConfigError("--run", config.runId, `use one of the runs listed above`);
      if (run !== undefined) {
        out("");
        format.formatStoredRun(run).forEach(out);
      }
      return 0;
    } finally {
      kube.close();
    }
  },
};
