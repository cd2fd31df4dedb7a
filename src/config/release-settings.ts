// `list` from a workstation uses the settings of the release installed in the namespace, read from
// its CronJob: the chart turns values into `run` flags (chart/templates/_args.tpl), so the
// controller container's args are the release's settings, and the CLI's own option table reads
// them. Flags given on the workstation win; this module only decides which settings carry over.
import { Parser } from "yargs/helpers";
import type { Options } from "yargs";
import { runOptions } from "./run-options.js";
import { envName } from "./usage-errors.js";

/**
 * What `list` takes from a release: what selects images and nodes and how helper pods reach the
 * runtime. Not the outputs (events, report, metrics, --output, --log-format), not --keep-pods
 * (set when the chart's service account may not delete pods; the person running `list` is not that
 * account), not --dry-run (`list` always is one).
 */
export const RELEASE_KEYS = [
  "include",
  "exclude",
  "min-age",
  // The listing then keeps the clocks and shows them, as the release's runs do.
  "unused-for",
  "keep-newest",
  "max-images-per-node",
  "max-bytes-per-node",
  "client",
  "socket",
  "nsenter-target",
  // What the release protects, the listing protects.
  "protect-workloads",
  "node-selector",
  "nodes",
  "exclude-nodes",
  "skip-not-ready",
  "skip-cordoned",
  "concurrency",
  "node-timeout",
  // Helper pods then carry the release's instance label: the release's own runs sweep what an
  // interrupted `list` leaves (after their deadline: such pods have no owner to ask).
  "instance",
  "helper-mode",
  "helper-socket-uid",
  "helper-socket-gid",
  "helper-image",
  "helper-image-pull-policy",
  "helper-image-pull-secret",
  "helper-cpu-request",
  "helper-memory-request",
  "helper-cpu-limit",
  "helper-memory-limit",
  "helper-tolerations",
  "priority-class",
  // Whether the registry still serves an image decides what goes, so the listing asks it too.
  "only-if-pullable",
  "registry-timeout",
  "registry-pull-secret",
] as const satisfies readonly (keyof typeof runOptions)[];

/**
 * Every other `run` option, and why `list` never takes it from the release. Each option of `run`
 * is in exactly one of the two lists (a unit test holds this), so a new option cannot be forgotten:
 * its author decides whether a listing made from a workstation should use the release's value.
 */
export const NOT_FROM_RELEASE = [
  // `list` is always a dry run, and the person running it is not the chart's service account.
  "dry-run",
  "keep-pods",
  // Where and how the workstation talks to the cluster: its own.
  "namespace",
  "kubeconfig",
  "context",
  "request-timeout",
  // The outputs of a run: a listing prints a table and records nothing.
  "output",
  "log-format",
  "events",
  "report-configmap",
  "report-runs",
  "pushgateway-url",
] as const satisfies readonly (keyof typeof runOptions)[];

export type ReleaseKey = (typeof RELEASE_KEYS)[number];

/** The controller container of a release's CronJob, as far as its settings go. */
export interface ReleaseContainer {
  args?: readonly string[] | undefined;
  /** `value` only: a variable from a Secret or field reference cannot be read from here. */
  env?: readonly { name: string; value?: string | undefined }[] | undefined;
}

const optionOf = (key: ReleaseKey): Options => runOptions[key];
const arrayKeys = RELEASE_KEYS.filter((k) => optionOf(k).array === true);
const booleanKeys = RELEASE_KEYS.filter((k) => optionOf(k).type === "boolean");
const textKeys = RELEASE_KEYS.filter((k) => !arrayKeys.includes(k) && !booleanKeys.includes(k));

/**
 * The release's settings from its controller container: the flags of `run ...` in `args`, then
 * KIC_ variables with a literal value in `env` for what the flags leave out (as yargs reads them:
 * a flag wins over its variable). Only RELEASE_KEYS; values as text, lists and booleans, as yargs
 * would hand them to loadRunConfig.
 */
export function releaseSettings(container: ReleaseContainer): Partial<Record<ReleaseKey, unknown>> {
  const [, ...flags] = container.args ?? [];
  const parsed = Parser([...flags], {
    array: arrayKeys,
    boolean: booleanKeys,
    string: textKeys,
    configuration: { "camel-case-expansion": false },
  });
  const out: Partial<Record<ReleaseKey, unknown>> = {};
  for (const key of RELEASE_KEYS) {
    if (parsed[key] !== undefined) {
      out[key] = parsed[key];
      continue;
    }
    const value = container.env?.find((e) => e.name === envName(key))?.value;
    if (value === undefined) continue;
    out[key] = arrayKeys.includes(key)
      ? [value]
      : booleanKeys.includes(key)
        ? value === "true"
        : value;
  }
  return out;
}

/**
 * `args` with every release setting the operator did not give (`given`: on the command line or as
 * a KIC_ variable) taken from `release`. Returns the merged arguments and the keys taken.
 */
export function withReleaseSettings(
  args: Readonly<Record<string, unknown>>,
  release: Partial<Record<ReleaseKey, unknown>>,
  given: (key: string) => boolean,
): { args: Record<string, unknown>; taken: ReleaseKey[] } {
  const merged: Record<string, unknown> = { ...args };
  const taken: ReleaseKey[] = [];
  for (const key of RELEASE_KEYS) {
    if (given(key) || !(key in release)) continue;
    merged[key] = release[key];
    taken.push(key);
  }
  return { args: merged, taken };
}
