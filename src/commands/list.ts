// `kube-image-cleanup list`: what the patterns would touch across the cluster, before deletion is
// switched on. From a workstation `list -n <namespace>` takes the settings of the release installed
// there (list-release.ts). Wiring only; the run is composed in compose-run.ts.
import type { Options } from "yargs";
import { auditOptions } from "../config/audit-options.js";
import { oneOf } from "../config/checks.js";
import { wasGiven } from "../config/command-line.js";
import { outputOption, tableIfOld } from "../config/kubectl-options.js";
import { loadRunConfig, runOptions } from "../config/run-options.js";
import { ConfigError } from "../errors.js";
import type { ExitingCommand } from "./index.js";
import { withUsage } from "./usage.js";

/** `run`'s options without those a read-only sweep has no use for, and its own --output. */
const dropped = new Set(["output", "dry-run", ...Object.keys(auditOptions)]);
const shared = Object.fromEntries(
  Object.entries(runOptions).filter(([key]) => !dropped.has(key)),
) as Omit<typeof runOptions, "output" | "dry-run" | keyof typeof auditOptions>;

export const listOptions = {
  ...shared,
  release: {
    type: "string",
    requiresArg: true,
    describe:
      "take the settings this command does not give from this Helm release's CronJob in the namespace " +
      "(default: the only release there); '' takes none, then --include is required",
  },
  output: outputOption(
    ["table", "json", "yaml", "csv"],
    "table (aligned text), json or yaml (one document), or csv",
  ),
} as const satisfies Record<string, Options>;

const LABEL_VALUE = /^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;

/** A dry run, always, with no Events, report or metrics (it cleans nothing). */
const asList = (args: Record<string, unknown>) => ({
  ...args,
  output: "table",
  "dry-run": true,
  events: false,
});

export const listCommand: ExitingCommand = {
  command: "list",
  describe:
    "read-only: a dry-run helper pod per node, then one table of the images the patterns match across the cluster",
  options: listOptions,
  builder: (y) =>
    withUsage(y.options(listOptions), {
      examples: [
        [
          "$0 list -n kube-image-cleanup",
          "what the release installed there would touch: its image, patterns, nodes, socket and helper mode",
        ],
        [
          "$0 list -n kube-image-cleanup --include '**' -l node-role.kubernetes.io/worker",
          "every image on the workers, the rest of the settings from the release",
        ],
        [
          "$0 list -n kube-image-cleanup -o csv > images.csv",
          "what the patterns would touch, for a spreadsheet",
        ],
        [
          "$0 list --release '' --include 'docker.io/acme/*' --helper-image registry.example/kube-image-cleanup:0.1.0",
          "without an installed release",
        ],
      ],
    }),
  handler: async (args, line) => {
    const env = process.env;
    const format = oneOf("--output", tableIfOld(args.output ?? "table"), [
      "table",
      "json",
      "yaml",
      "csv",
    ] as const);
    const wanted = typeof args.release === "string" ? args.release : undefined;
    if (wanted !== undefined && wanted !== "" && !LABEL_VALUE.test(wanted))
      throw new ConfigError(
        "--release",
        wanted,
        "give a Helm release name, as `helm list` shows it, or '' for none",
      );
    const given = (key: string) => line !== undefined && wasGiven(line, key, env);
    // What was typed is checked before any request; --include may still come from the release, so
    // a stand-in takes its place in this first check (with --release '' there is none to come).
    const typed = loadRunConfig(
      asList(given("include") || wanted === "" ? args : { ...args, include: ["**"] }),
    );
    const { composeClients, listImages } = await import("./compose-run.js");
    const { argsFromRelease, blameRelease } = await import("./list-release.js");
    const parts = composeClients(typed);
    const json = typed.logFormat === "json";
    let config;
    try {
      const merged = await argsFromRelease(args, parts.kube, {
        namespace: typed.namespace ?? parts.kube.contextNamespace ?? "default",
        wanted,
        given,
        note: (message, fields) => {
          if (json) parts.log.info(fields, message);
          else process.stderr.write(`${message}\n`);
        },
      });
      try {
        config = loadRunConfig(asList(merged.args));
      } catch (err) {
        throw blameRelease(err, merged.from);
      }
    } catch (err) {
      // Kept-alive connections would hold the process open after the error is printed.
      parts.kube.close();
      throw err;
    }
    // The run closes the clients when it ends.
    return listImages(config, format, parts);
  },
};
