// `kube-image-cleanup list`: what the patterns would touch across the cluster, before deletion is
// switched on. Wiring only; the run is composed in compose-run.ts.
import type { Options } from "yargs";
import { auditOptions } from "../config/audit-options.js";
import { oneOf } from "../config/checks.js";
import { loadRunConfig, runOptions } from "../config/run-options.js";
import type { ExitingCommand } from "./index.js";

/** `run`'s options without those a read-only sweep has no use for, and its own --output. */
const dropped = new Set(["output", "dry-run", ...Object.keys(auditOptions)]);
const shared = Object.fromEntries(
  Object.entries(runOptions).filter(([key]) => !dropped.has(key)),
) as Omit<typeof runOptions, "output" | "dry-run" | keyof typeof auditOptions>;

export const listOptions = {
  ...shared,
  output: {
    choices: ["table", "json", "csv"],
    default: "table",
    describe: "one table (aligned text), a JSON document, or CSV",
  },
} as const satisfies Record<string, Options>;

export const listCommand: ExitingCommand = {
  command: "list",
  describe:
    "read-only: a dry-run helper pod per node, then one table of the images the patterns match across the cluster",
  options: listOptions,
  builder: (y) =>
    y
      .options(listOptions)
      .example("$0 list --include '**'", "every image on every Linux node")
      .example(
        "$0 list --include 'docker.io/acme/*' --output csv > images.csv",
        "what the patterns would touch, for a spreadsheet",
      ),
  handler: async (args) => {
    const format = oneOf("--output", args.output ?? "table", ["table", "json", "csv"] as const);
    // A dry run, always; no Events, report or metrics (it cleans nothing).
    const config = loadRunConfig({ ...args, output: "pretty", "dry-run": true, events: false });
    const { listImages } = await import("./compose-run.js");
    return listImages(config, format);
  },
};
