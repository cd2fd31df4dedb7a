// `list`'s run log: the run's header, notes and summary as readable lines, each node as one line
// (the first of its section), while its images go into the cluster-wide table (inventory.ts).
import type { RunReporter } from "../run-model/reporter.js";
import { escapeControl } from "../text/escape.js";
import type { Inventory } from "./inventory.js";
import { formatNodeSection } from "./pretty.js";
import { createPrettyRunReporter } from "./run-reporter.js";

export function createListReporter(
  inventory: Inventory,
  write: (line: string) => void,
): RunReporter {
  const progress = createPrettyRunReporter(write);
  return {
    ...progress,
    // One line per node (its first line); the table gathers the details.
    node: (r, done, total) => {
      if (r.result !== undefined) inventory.add(r.node, r.result);
      write(escapeControl(formatNodeSection(r, done, total)[0] ?? ""));
    },
  };
}
