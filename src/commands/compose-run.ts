// The composition of a run, in one place: which clients, which reporter, which sinks. The controller
// gets them handed in (src/controller/main.ts) and knows none of src/report/. Imported only when a
// run starts, like the controller (the Kubernetes client costs ~75 MB the agent should not pay).
import type { RunConfig } from "../config/run-options.js";
import { pullOnce, runOnce, type RunParts } from "../controller/main.js";
import { createKube } from "../kube/clients.js";
import { loadKubeConfig } from "../kube/kubeconfig.js";
import { createLogger, type Logger } from "../log.js";
import {
  formatInventoryCsv,
  formatInventoryJson,
  formatInventoryTable,
  formatInventoryYaml,
  Inventory,
} from "../report/inventory.js";
import { createListReporter } from "../report/list-reporter.js";
import { createJsonRunReporter, createPrettyRunReporter } from "../report/run-reporter.js";
import { createRunSinks } from "../report/sinks/index.js";
import type { RunReporter } from "../run-model/reporter.js";
import type { PullConfig } from "../config/pull-options.js";
import type { PullRunReporter } from "../run-model/pull-result.js";
import { createJsonPullReporter, createPrettyPullReporter } from "../report/pull-reporter.js";

function createRunReporter(
  config: Pick<RunConfig, "output" | "logFormat">,
  log: Logger,
): RunReporter {
  if (config.output === "json") {
    return createJsonRunReporter(config.logFormat === "json" ? log : createLogger("json"));
  }
  return createPrettyRunReporter((line) => process.stdout.write(`${line}\n`));
}

/** `run` and `schedule`: the run log on stdout (pretty or JSON), and the sinks the config asks for. */
export function composeRun(config: Readonly<RunConfig>): Required<RunParts> {
  const log = createLogger(config.logFormat);
  const kube = createKube(loadKubeConfig(config), log, { timeoutMs: config.requestTimeoutMs });
  return {
    log,
    kube,
    report: createRunReporter(config, log),
    sinks: createRunSinks(config.audit, kube, { narrowed: config.nodes.names.length > 0 }),
  };
}

export type ListFormat = "table" | "json" | "yaml" | "csv";

/** The logger and clients of a command that needs them before its run (`list` finds its release). */
export function composeClients(
  config: Pick<RunConfig, "logFormat" | "kubeconfig" | "context" | "requestTimeoutMs">,
): Pick<RunParts, "log" | "kube"> {
  const log = createLogger(config.logFormat);
  return {
    log,
    kube: createKube(loadKubeConfig(config), log, { timeoutMs: config.requestTimeoutMs }),
  };
}

/**
 * `list`: the same run forced to dry run and without sinks, its progress on stderr, and one
 * cluster-wide image table on stdout (src/report/inventory.ts), also when a fatal error stopped it.
 */
export async function listImages(
  config: Readonly<RunConfig>,
  format: ListFormat,
  { log, kube }: Pick<RunParts, "log" | "kube"> = composeClients(config),
): Promise<number> {
  if (!config.dryRun) throw new Error("list runs only as a dry run");
  const inventory = new Inventory();
  const report = createListReporter(inventory, (line) => process.stderr.write(`${line}\n`));
  return runOnce(config, { log, kube, report }, () => {
    const rows = inventory.list();
    const out = (text: string) => process.stdout.write(text);
    if (format === "json") out(`${formatInventoryJson(rows, inventory.nodes)}\n`);
    else if (format === "yaml") out(formatInventoryYaml(rows, inventory.nodes));
    else if (format === "csv") out(formatInventoryCsv(rows));
    else out(`${formatInventoryTable(rows, inventory.nodes).join("\n")}\n`);
  });
}

/** `pull`: the pre-pull log on stdout (pretty or JSON); no sinks (a pull records nothing). */
export function composePull(
  config: Readonly<PullConfig>,
): Pick<RunParts, "log" | "kube"> & { report: PullRunReporter } {
  const { log, kube } = composeClients(config);
  return {
    log,
    kube,
    report:
      config.output === "json"
        ? createJsonPullReporter(config.logFormat === "json" ? log : createLogger("json"))
        : createPrettyPullReporter((line) => process.stdout.write(`${line}\n`)),
  };
}

/** `run`: one run of the parts composed for it; resolves with the exit code. */
export function runComposed(config: Readonly<RunConfig>): Promise<number> {
  return runOnce(config, composeRun(config));
}

/** `pull`: one pre-pull run of the parts composed for it; resolves with the exit code. */
export function pullComposed(config: Readonly<PullConfig>): Promise<number> {
  return pullOnce(config, composePull(config));
}
