// Why a runtime's pull failed, in one line an operator acts on, from the client's stderr. The
// runtime decides the wording (containerd 1.6: "401 Unauthorized"; containerd 2: "pull access
// denied, repository does not exist or may require authorization"); what matters is which kind of
// failure it is, because only some are worth another try: a registry that did not answer may answer
// later, a tag it does not have or credentials it refuses will not change within a run.

import type { PullFailureKind } from "../run-model/pull-result.js";

export type { PullFailureKind };

export interface PullFailure {
  kind: PullFailureKind;
  /** One line: what went wrong and what to do. */
  reason: string;
  /** Whether another attempt (after a backoff) may succeed. */
  retry: boolean;
}

const RULES: { kind: PullFailureKind; pattern: RegExp; reason: string; retry: boolean }[] = [
  {
    kind: "unauthorized",
    pattern:
      /401 Unauthorized|403 Forbidden|pull access denied|authorization failed|no basic auth credentials|unauthorized:|denied:/i,
    reason:
      "the registry refused the pull (unauthorized): check the image pull Secret for this registry",
    retry: false,
  },
  {
    kind: "not-found",
    pattern: /: not found|manifest unknown|404 Not Found|name unknown/i,
    reason: "the registry has no such image (tag or digest not found)",
    retry: false,
  },
  {
    kind: "unreachable",
    pattern:
      /connection refused|no such host|i\/o timeout|dial tcp|TLS handshake|certificate|network is unreachable|connection reset|context deadline exceeded|timed out|EOF|503 Service Unavailable|502 Bad Gateway|429 Too Many Requests/i,
    reason: "the registry could not be reached",
    retry: true,
  },
];

/**
 * Classifies a failed pull by the client's stderr. The runtime's own message (last line, escaped by
 * the report) follows the reason, so nothing the runtime said is lost.
 */
export function classifyPullFailure(stderr: string): PullFailure {
  const said = lastMeaningfulLine(stderr);
  for (const rule of RULES) {
    if (rule.pattern.test(stderr))
      return { kind: rule.kind, reason: `${rule.reason}: ${said}`, retry: rule.retry };
  }
  return { kind: "other", reason: `the runtime could not pull it: ${said}`, retry: true };
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
