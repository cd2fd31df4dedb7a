// `list -n <namespace>` from a workstation: the release installed there supplies the settings the
// operator did not type (its image, patterns, node selection, runtime socket, helper mode), read
// from its CronJob, so one short line lists what the scheduled runs would touch.
import { ConfigError, KubeApiError } from "../errors.js";
import {
  releaseSettings,
  withReleaseSettings,
  type ReleaseKey,
} from "../config/release-settings.js";
import type { Kube } from "../kube/api.js";
import { findRelease } from "../kube/find-release.js";

export interface ReleaseChoice {
  namespace: string;
  /** --release: a name, "" for none (the flags alone), undefined for the only one there. */
  wanted: string | undefined;
  /** Whether the operator gave this option (typed or as a KIC_ variable). */
  given: (key: string) => boolean;
  /** Where the line that says which release was used goes (stderr, or a log record). */
  note: (message: string, fields: Record<string, unknown>) => void;
}

/** How a taken setting is shown in the note: the ones that tell a release apart, by value. */
const SHOWN: readonly ReleaseKey[] = [
  "include",
  "exclude",
  "helper-image",
  "helper-mode",
  "client",
  "socket",
  "node-selector",
  "nodes",
  "exclude-nodes",
];

export interface ReleaseArgs {
  args: Record<string, unknown>;
  /** The release the settings came from, and which of them. */
  from?: { release: string; cronJob: string; taken: readonly ReleaseKey[] };
}

/** `args` completed from the release the choice names; the flags alone with `--release ''`. */
export async function argsFromRelease(
  args: Readonly<Record<string, unknown>>,
  kube: Pick<Kube, "batch">,
  choice: ReleaseChoice,
): Promise<ReleaseArgs> {
  if (choice.wanted === "") return { args: { ...args } };
  let found;
  try {
    found = await findRelease(kube.batch, choice.namespace, choice.wanted);
  } catch (err) {
    // Whoever may not read CronJobs (the chart's own service account, a user with a narrow Role)
    // and typed the patterns needs no release: list deletes nothing, so the flags alone will do,
    // said on stderr. A release asked for by name, or patterns still to come from it, stay errors.
    if (!(isForbidden(err) && choice.wanted === undefined && choice.given("include"))) throw err;
    choice.note(
      `the releases in namespace ${choice.namespace} cannot be read (no list on cronjobs there): ` +
        "listing with the flags given only",
      { namespace: choice.namespace },
    );
    return { args: { ...args } };
  }
  if (found === undefined) {
    if (choice.given("include")) {
      choice.note(
        `no kube-image-cleanup release in namespace ${choice.namespace}: listing with the flags given only`,
        { namespace: choice.namespace },
      );
      return { args: { ...args } };
    }
    throw new ConfigError(
      "--include",
      undefined,
      `no kube-image-cleanup release is installed in namespace ${choice.namespace} to take it from ` +
        "(no CronJob of the chart there): name the release's namespace with -n, " +
        "or give --include '<glob>' (and --helper-image <image>) to list without a release",
    );
  }
  const { args: merged, taken } = withReleaseSettings(
    args,
    releaseSettings(found.container),
    choice.given,
  );
  const shown = taken
    .filter((k) => SHOWN.includes(k))
    .map((k) => `--${k}=${[merged[k]].flat().map(String).join(",")}`);
  const rest = taken.length - shown.length;
  choice.note(
    `settings of release ${found.release} (CronJob ${found.namespace}/${found.cronJob}): ` +
      `${shown.join(" ")}${rest > 0 ? ` and ${rest} more` : ""}; flags given here win`,
    { release: found.release, cronJob: found.cronJob, taken },
  );
  return { args: merged, from: { release: found.release, cronJob: found.cronJob, taken } };
}

/**
 * A setting taken from the release that this version of the CLI refuses (a chart older or newer
 * than the CLI) is named as the release's, so the operator does not look for it on their own line.
 */
export function blameRelease(err: unknown, from: ReleaseArgs["from"]): unknown {
  if (!(err instanceof ConfigError) || from === undefined) return err;
  const flag = /^--([a-z-]+)/.exec(err.key)?.[1];
  if (flag === undefined || !from.taken.some((k) => k === flag)) return err;
  return new ConfigError(
    `${err.key} (from release ${from.release}, CronJob ${from.cronJob})`,
    err.given,
    `${err.allowed}; give --${flag} here to override it`,
  );
}

function isForbidden(err: unknown): boolean {
  return err instanceof KubeApiError && err.status === 403;
}
