// Pre-pull's result on one node: the contract between the agent's pull action (which prints it as
// its last log record, `{"msg":"pull result","result":{...}}`) and the controller (which parses it
// from the helper pod's log). Bump `version` when a field changes meaning.
import type { AgentResult } from "./agent-result.js";

/** Per image: `pulled`, `present` (already there, not pulled), `failed`, or `not-attempted`. */
export type PullOutcomeKind = "pulled" | "present" | "failed" | "not-attempted";

/** Why a pull failed, by kind: only `unreachable` and `other` are worth another attempt. */
export type PullFailureKind = "not-found" | "unauthorized" | "unreachable" | "other";

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
