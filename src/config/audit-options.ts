// Where a run's outcome goes besides the Job log (DESIGN.md "report sinks"): Events on each Node,
// the run-report ConfigMap, a Pushgateway. Declared apart from the cleanup options: none of them
// changes what is deleted, and a sink that fails never fails the run.
import type { Options } from "yargs";
import { ConfigError } from "../errors.js";
import { optionalString } from "./checks.js";

/**
 * Most runs the report ConfigMap keeps. Each run gets an equal share of the report's size bound
 * (src/report/run-report/fit.ts), so more runs mean fewer node rows per run.
 */
export const MAX_REPORT_RUNS = 50;

export const auditOptions = {
  events: {
    type: "boolean",
    default: true,
    describe:
      "record an Event about each Node when it is done (reason ImagesCleaned or ImageCleanupFailed), in namespace default",
  },
  "report-configmap": {
    type: "string",
    requiresArg: true,
    describe:
      "ConfigMap in the helper pods' namespace that keeps the last --report-runs run summaries (the chart creates it; default: no report)",
  },
  "report-runs": {
    // Text, checked below: yargs' number type turns "abc" into NaN.
    type: "string",
    default: 10,
    requiresArg: true,
    describe: `runs the report ConfigMap keeps (1 to ${MAX_REPORT_RUNS}), newest first`,
  },
  "pushgateway-url": {
    type: "string",
    requiresArg: true,
    describe:
      "push the run's metrics to this Prometheus Pushgateway (http://pushgateway.monitoring:9091); a failed push is logged, never fails the run",
  },
} as const satisfies Record<string, Options>;

export interface AuditConfig {
  events: boolean;
  /** Undefined: no run report. */
  reportConfigMap: string | undefined;
  reportRuns: number;
  /** Undefined: no push. */
  pushgatewayUrl: string | undefined;
}

const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/;

/** A ConfigMap name as Kubernetes accepts it; `key` names the flag in the error. */
export function configMapName(key: string, value: unknown): string | undefined {
  const name = optionalString(key, value === "" ? undefined : value);
  if (name !== undefined && !DNS_SUBDOMAIN.test(name)) {
    throw new ConfigError(
      key,
      name,
      "give a ConfigMap name (lowercase letters, digits, '-' and '.', at most 253)",
    );
  }
  return name;
}

/** A Pushgateway base URL: http(s), no query or fragment (the grouping key is appended as a path). */
export function pushgatewayUrl(key: string, value: unknown): string | undefined {
  const text = optionalString(key, value === "" ? undefined : value);
  if (text === undefined) return undefined;
  let url: URL | undefined;
  try {
    url = new URL(text);
  } catch {
    // Not a URL: the same answer as a URL of the wrong kind, below.
    url = undefined;
  }
  if (
    url === undefined ||
    (url.protocol !== "http:" && url.protocol !== "https:") ||
    url.search !== "" ||
    url.hash !== ""
  ) {
    throw new ConfigError(
      key,
      text,
      "give the Pushgateway's base URL, http(s)://host:port[/path], e.g. http://pushgateway.monitoring:9091",
    );
  }
  return text.replace(/\/+$/, "");
}

export function loadAuditConfig(args: Record<string, unknown>): AuditConfig {
  const runs = args["report-runs"] ?? 10;
  const n = typeof runs === "string" && /^\s*\d+\s*$/.test(runs) ? Number(runs) : runs;
  if (typeof n !== "number" || !Number.isInteger(n) || n < 1 || n > MAX_REPORT_RUNS) {
    throw new ConfigError(
      "--report-runs",
      runs,
      `give a whole number from 1 to ${MAX_REPORT_RUNS}`,
    );
  }
  return {
    events: args.events !== false,
    reportConfigMap: configMapName("--report-configmap", args["report-configmap"]),
    reportRuns: n,
    pushgatewayUrl: pushgatewayUrl("--pushgateway-url", args["pushgateway-url"]),
  };
}
