// Sink: the run's metrics to a Prometheus Pushgateway, the convention for batch jobs: POST to
// /metrics/job/kube-image-cleanup/release/<release>. A push that fails is a note in the log; the
// run's result and exit code stay as they are.
import { nextFailureStreaks, streaksInGroup, type StreakScope } from "../failure-streaks.js";
import { FAILURE_STREAK_METRIC, runMetrics } from "../metrics-text.js";
import type { RunSink } from "../../run-model/sink.js";

export const PUSH_JOB = "kube-image-cleanup";

/**
 * Longest a push may take: the Pushgateway answers in milliseconds, a hung one must not hold the
 * Job after its work is done.
 * @default 10 s
 */
export const PUSH_TIMEOUT_MS = 10_000;

/** The URL without user and password, for messages. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    u.username = "";
    u.password = "";
    return u.toString().replace(/\/$/, "");
  } catch {
    // Checked at load already (audit-options.ts); nothing to hide in text that is not a URL.
    return url;
  }
}

/** The labels the Pushgateway keys a release's group by (and adds to each of its series). */
export function groupingLabels(release: string): Record<string, string> {
  return { job: PUSH_JOB, release };
}

/** Grouping-key path of a release: values with a `/` must be base64url-encoded (`@base64`). */
export function groupingPath(base: string, release: string): string {
  const value =
    /[/]/.test(release) || release === ""
      ? `release@base64/${Buffer.from(release).toString("base64url") || "="}`
      : `release/${encodeURIComponent(release)}`;
  return `${base}/metrics/job/${PUSH_JOB}/${value}`;
}

export interface PushOptions {
  fetch?: typeof fetch;
  timeoutMs?: number;
  /** Whether the run visits only nodes named with --nodes (see failure-streaks.ts). */
  scope?: StreakScope;
}

export function createPushgatewaySink(baseUrl: string, options: PushOptions = {}): RunSink {
  const doFetch = options.fetch ?? fetch;
  const timeoutMs = options.timeoutMs ?? PUSH_TIMEOUT_MS;
  const scope = options.scope ?? { narrowed: false };
  return {
    name: "metrics",
    async summary(summary, ctx) {
      const url = groupingPath(baseUrl, ctx.instance);
      const u = new URL(url);
      const headers: Record<string, string> = {};
      // Credentials in the URL become basic auth (fetch refuses URLs that carry them).
      if (u.username !== "" || u.password !== "") {
        headers.authorization = `Basic ${Buffer.from(`${decodeURIComponent(u.username)}:${decodeURIComponent(u.password)}`).toString("base64")}`;
        u.username = "";
        u.password = "";
      }
      const where = redactUrl(url);
      // The failure counts go on from what the last push left; a read that fails starts them anew
      // (said after the push, which still happens).
      const api = new URL(`${baseUrl}/api/v1/metrics`);
      api.username = "";
      api.password = "";
      let previous = new Map<string, number>();
      let readProblem: string | undefined;
      try {
        const r = await doFetch(api, { headers, signal: AbortSignal.timeout(timeoutMs) });
        if (!r.ok) throw new Error(`HTTP ${r.status}`);
        previous = streaksInGroup(await r.json(), groupingLabels(ctx.instance));
      } catch (err) {
        readProblem = err instanceof Error ? err.message : String(err);
      }
      const failureStreaks = nextFailureStreaks(previous, summary, scope);
      let res: Response;
      try {
        res = await doFetch(u, {
          method: "POST",
          headers: { ...headers, "content-type": "text/plain; version=0.0.4; charset=utf-8" },
          body: runMetrics({
            summary,
            finishedAt: ctx.finishedAt,
            exitCode: ctx.exitCode,
            failureStreaks,
          }),
          signal: AbortSignal.timeout(timeoutMs),
        });
      } catch (err) {
        const e = err as Error & { cause?: { code?: string; message?: string } };
        const why =
          e.name === "TimeoutError"
            ? `no answer within ${timeoutMs / 1000} s`
            : (e.cause?.code ?? e.cause?.message ?? e.message);
        throw new Error(`push to the Pushgateway ${where} failed: ${why}`);
      }
      if (!res.ok) {
        // The body only adds detail to the status; a body that cannot be read leaves the status.
        const text = (await res.text().catch(() => "")).trim().split("\n")[0]?.slice(0, 300) ?? "";
        throw new Error(
          `push to the Pushgateway ${where} failed: HTTP ${res.status}${text ? `: ${text}` : ""}`,
        );
      }
      if (readProblem !== undefined) {
        throw new Error(
          `pushed to the Pushgateway ${where}, but its earlier failure counts could not be read ` +
            `(${readProblem}): ${FAILURE_STREAK_METRIC} starts again from this run`,
        );
      }
    },
  };
}
