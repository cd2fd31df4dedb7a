// Why a runtime's pull failed, in one line an operator acts on, from the client's stderr. The
// runtime decides the wording (containerd 1.6: "401 Unauthorized"; containerd 2: "pull access
// denied, repository does not exist or may require authorization"); what matters is which kind of
// failure it is, because only some are worth another try: a registry that did not answer may answer
// later, a tag it does not have or credentials it refuses will not change within a run. The line
// names the registry (a node pulls from several) and, when credentials were refused, whose they were.

import type { PullFailureKind } from "../run-model/pull-result.js";
import { formatMs } from "../text/units.js";

export type { PullFailureKind };

export interface PullFailure {
  kind: PullFailureKind;
  /** One line: what went wrong and what to do. */
  reason: string;
  /** Whether another attempt (after a backoff) may succeed. */
  retry: boolean;
}

/** What the pull was: which registry, and whose credentials went with it. */
export interface PullAttempt {
  /** The registry as the image names it (`127.0.0.1:5100`); undefined: not an image name we read. */
  registry: string | undefined;
  /** Where the credential came from (`pull Secret team-registry`); undefined: none was sent. */
  credentialSource: string | undefined;
}

const NO_CONTEXT: PullAttempt = { registry: undefined, credentialSource: undefined };

const registryName = (a: PullAttempt) =>
  a.registry === undefined ? "the registry" : `the registry ${a.registry}`;

const RULES: {
  kind: PullFailureKind;
  pattern: RegExp;
  reason: (a: PullAttempt) => string;
  retry: boolean;
}[] = [
  {
    kind: "unauthorized",
    pattern:
      /401 Unauthorized|403 Forbidden|pull access denied|authorization failed|no basic auth credentials|unauthorized:|denied:/i,
    reason: (a) =>
      a.credentialSource === undefined
        ? `${registryName(a)} refused the pull (unauthorized) and no pull Secret has credentials for it: add one (--registry-pull-secret, chart value registryPullSecrets)`
        : `${registryName(a)} refused the credentials of ${a.credentialSource} (unauthorized): check that Secret's user and password for ${a.registry ?? "this registry"}`,
    retry: false,
  },
  {
    kind: "not-found",
    pattern: /: not found|manifest unknown|404 Not Found|name unknown/i,
    reason: (a) => `${registryName(a)} has no such image (tag or digest not found)`,
    retry: false,
  },
  {
    kind: "unreachable",
    pattern:
      /connection refused|no such host|i\/o timeout|dial tcp|TLS handshake|certificate|network is unreachable|connection reset|context deadline exceeded|timed out|EOF|503 Service Unavailable|502 Bad Gateway|429 Too Many Requests/i,
    reason: (a) => `${registryName(a)} could not be reached`,
    retry: true,
  },
];

/**
 * Classifies a failed pull by the client's stderr. The runtime's own message (last line, escaped by
 * the report) follows the reason, so nothing the runtime said is lost.
 */
export function classifyPullFailure(
  stderr: string,
  attempt: PullAttempt = NO_CONTEXT,
): PullFailure {
  const said = lastMeaningfulLine(stderr);
  for (const rule of RULES) {
    if (rule.pattern.test(stderr))
      return { kind: rule.kind, reason: `${rule.reason(attempt)}: ${said}`, retry: rule.retry };
  }
  return { kind: "other", reason: `the runtime could not pull it: ${said}`, retry: true };
}

/**
 * A pull the agent stopped because it ran out of time: at the node's deadline (the rest of the
 * node's images are then not attempted), or at the longest a single pull may take. Not retried:
 * no time is left, or the same pull would take as long again.
 */
export function pullTimedOut(
  afterMs: number,
  byDeadline: boolean,
  attempt: PullAttempt = NO_CONTEXT,
): PullFailure {
  const check = `check that ${registryName(attempt)} answers`;
  return {
    kind: "timeout",
    reason: byDeadline
      ? `the pull did not finish before the node's deadline (stopped after ${formatMs(afterMs)}): raise --node-timeout (chart value timeouts.node), or ${check}`
      : `the pull did not finish within ${formatMs(afterMs)}, the longest one pull may take (stopped): ${check}`,
    retry: false,
  };
}

/** The runtime's message without crictl's log prefix and config warnings. */
function lastMeaningfulLine(stderr: string): string {
  const lines = stderr
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l !== "" && !/Config ".*" does not exist/.test(l));
  const last = lines.at(-1) ?? "(no output)";
  // crictl: time="..." level=fatal msg="pulling image: ..."
  const msg = /msg="((?:[^"\\]|\\.)*)"/.exec(last)?.[1];
  return (msg ?? last).replace(/\\"/g, '"').slice(0, 400);
}
