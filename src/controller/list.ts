// `list`: a read-only sweep. The same run as `run` (node selection, concurrency, one helper pod per
// node) forced to dry run and without sinks, its progress on stderr, and one cluster-wide image
// table on stdout (src/report/inventory.ts).
import type { RunConfig } from "../config/run-options.js";
import { createKube, loadKubeConfig } from "../kube/clients.js";
import { createLogger } from "../log.js";
import {
  formatInventoryCsv,
  formatInventoryJson,
  formatInventoryTable,
  Inventory,
} from "../report/inventory.js";
import { createPrettyRunReporter, type RunReporter } from "../report/run-reporter.js";
import { formatNodeSection } from "../report/pretty.js";
import { escapeControl } from "../text/escape.js";
import { interruptOnSignals } from "./interrupt.js";
import { summaryExitCode } from "../run-model/run-summary.js";
import { runController } from "./run.js";

export type ListFormat = "table" | "json" | "csv";

export async function listImages(config: Readonly<RunConfig>, format: ListFormat): Promise<number> {
  if (!config.dryRun) throw new Error("list runs only as a dry run");
  const log = createLogger(config.logFormat);
  const kube = createKube(loadKubeConfig(config), log);
  const progress = createPrettyRunReporter((line) => process.stderr.write(`${line}\n`));
  const inventory = new Inventory();
  const report: RunReporter = {
    ...progress,
    // One line per node on stderr (its first line); the table gathers the details.
    node: (r, done, total) => {
      if (r.result !== undefined) inventory.add(r.node, r.result);
      process.stderr.write(`${escapeControl(formatNodeSection(r, done, total)[0] ?? "")}\n`);
    },
  };
  const interrupt = interruptOnSignals((signal) => {
    report.note(`${signal}: no new nodes start; deleting the helper pods in flight`);
  });
  try {
    const { summary, fatal } = await runController(config, {
      kube,
      log,
      report,
      signal: interrupt.signal,
    });
    const rows = inventory.list();
    const out = (text: string) => process.stdout.write(text);
    if (format === "json") out(`${formatInventoryJson(rows, inventory.nodes)}\n`);
    else if (format === "csv") out(formatInventoryCsv(rows));
    else out(`${formatInventoryTable(rows, inventory.nodes).join("\n")}\n`);
    if (fatal) throw fatal;
    return summaryExitCode(summary);
  } finally {
    interrupt.dispose();
    kube.close();
  }
}
