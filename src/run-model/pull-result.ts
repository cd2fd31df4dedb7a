// Pre-pull's result on one node: the contract between the agent's pull action (which prints it as
// its last log record, `{"msg":"pull result","result":{...}}`) and the controller (which parses it
// from the helper pod's log). Bump `version` when a field changes meaning.
import type { AgentResult } from "./agent-result.js";
import type { NodeStatus } from "./node-result.js";
import type { RunHeader } from "./run-header.js";
import type { SweepReporter } from "./reporter.js";
import type { SweepSummary } from "./run-summary.js";

/** Per image: `pulled`, `present` (already there, not pulled), `failed`, or `not-attempted`. */
export type PullOutcomeKind = "pulled" | "present" | "failed" | "not-attempted";

/**
 * Why a pull failed, by kind: only `unreachable` and `other` are worth another attempt; `timeout`:
 * the agent stopped the pull (the node's deadline, or the longest one pull may take).
 */
export type PullFailureKind = "not-found" | "unauthorized" | "unreachable" | "timeout" | "other";

export interface PullOutcome {
  image: string;
  outcome: PullOutcomeKind;
  /** The image id after the pull, or of the image found present. */
  id?: string;
  /** failed: the classified reason; not-attempted: why. */
  detail?: string;
  failure?: PullFailureKind;
  attempts: number;
  durationMs: number;
}

export interface PullResult {
  version: 1;
  node: string;
  runtime: AgentResult["runtime"];
  /** In the order given. */
  images: PullOutcome[];
  counts: Record<PullOutcomeKind, number>;
  durationMs: number;
}

/** The `msg` of the log record that carries the pull result. */
export const PULL_RESULT_MSG = "pull result";

/** Per outcome, how many images. */
export function countOutcomes(outcomes: readonly PullOutcome[]): Record<PullOutcomeKind, number> {
  const counts: Record<PullOutcomeKind, number> = {
    pulled: 0,
    present: 0,
    failed: 0,
    "not-attempted": 0,
  };
  for (const o of outcomes) counts[o.outcome]++;
  return counts;
}

/** `already present`, `pulled`, `failed: reason`: the word a person reads in the Job log. */
export function outcomeText(o: Pick<PullOutcome, "outcome" | "detail">): string {
  switch (o.outcome) {
    case "pulled":
      return "pulled";
    case "present":
      return "already present";
    case "failed":
      return `failed: ${o.detail ?? "no reason given"}`;
    case "not-attempted":
      return `not attempted: ${o.detail ?? "no reason given"}`;
  }
}

/** One node of a pre-pull run. */
export interface PullNodeResult {
  node: string;
  status: NodeStatus;
  /** Why the node failed or was interrupted; for `ok`, undefined. */
  reason?: string;
  /** The agent's pull result, when its log held one (also for nodes where an image failed). */
  result?: PullResult;
  pod?: string;
  durationMs: number;
}

/** What the summary keeps of a node: its counts, not every image's outcome. */
export type PullNodeRow = Omit<PullNodeResult, "result"> & {
  counts?: Record<PullOutcomeKind, number>;
};

export function pullNodeRow(r: PullNodeResult): PullNodeRow {
  const { result, ...rest } = r;
  return result === undefined ? rest : { ...rest, counts: result.counts };
}

/** The pre-pull run's header: where it goes, which images, which nodes. */
export type PullHeader = Omit<RunHeader, "include" | "exclude" | "minAge" | "rules" | "dryRun"> & {
  images: readonly string[];
  /** `deployment/shop/web`, when the images and nodes came from a workload. */
  imagesOf?: string;
  /** What the workload placement did not evaluate (with imagesOf). */
  notEvaluated?: string;
  /** Names of the pull Secrets the agents read (never their content). */
  pullSecrets: readonly string[];
};

/** The images, besides what every sweep's summary says. */
export interface PullSummary extends SweepSummary<PullNodeRow> {
  images: readonly string[];
}

/** What a pre-pull run tells as it goes (src/report/pull-reporter.ts writes it). */
export type PullRunReporter = SweepReporter<PullHeader, PullNodeResult, PullSummary>;
