// Sink: the run's metrics to a Prometheus Pushgateway, the convention for batch jobs. The run's own
// series go to /metrics/job/kube-image-cleanup/release/<release>, each node's to
// .../release/<release>/node/<node>: a push replaces a whole group (PUT), so a run that visits some
// nodes (--nodes) replaces only those nodes' series, and a dry run none. A push that fails is a
// note in the log; the run's result and exit code stay as they are.
import { nextFailureStreaks, type StreakScope } from "../failure-streaks.js";
import { FAILURE_STREAK_METRIC, nodeMetrics, runMetrics } from "../metrics-text.js";
import { groupingLabels, PUSH_JOB, pushedState, type PushedState } from "../pushed-state.js";
import type { RunSink } from "../../run-model/sink.js";

export { groupingLabels, PUSH_JOB };

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

/** One grouping-key segment: values with a `/` (or empty) must be base64url-encoded (`@base64`). */
function segment(label: string, value: string): string {
  return /[/]/.test(value) || value === ""
    ? `${label}@base64/${Buffer.from(value).toString("base64url") || "="}`
    : `${label}/${encodeURIComponent(value)}`;
}

/** Grouping-key path of a release's group, or with `node` of that node's group. */
export function groupingPath(base: string, release: string, node?: string): string {
  return (
    `${base}/metrics/job/${PUSH_JOB}/${segment("release", release)}` +
    (node === undefined ? "" : `/${segment("node", node)}`)
  );
}

export interface PushOptions {
  fetch?: typeof fetch;
  timeoutMs?: number;
  /** Whether the run visits only nodes named with --nodes (see failure-streaks.ts). */
  scope?: StreakScope;
}

/** Node groups pushed at once. */
const PUSHES_IN_FLIGHT = 8;

export function createPushgatewaySink(baseUrl: string, options: PushOptions = {}): RunSink {
  const doFetch = options.fetch ?? fetch;
  const timeoutMs = options.timeoutMs ?? PUSH_TIMEOUT_MS;
  const scope = options.scope ?? { narrowed: false };
  return {
    name: "metrics",
    async summary(summary, ctx) {
      const base = new URL(baseUrl);
      const headers: Record<string, string> = {};
      // Credentials in the URL become basic auth (fetch refuses URLs that carry them).
      if (base.username !== "" || base.password !== "") {
        headers.authorization = `Basic ${Buffer.from(`${decodeURIComponent(base.username)}:${decodeURIComponent(base.password)}`).toString("base64")}`;
      }
      const plain = redactUrl(baseUrl);
      const call = async (method: string, url: string, body?: string): Promise<void> => {
        let res: Response;
        try {
          res = await doFetch(url, {
            method,
            headers: {
              ...headers,
              ...(body === undefined
                ? {}
                : { "content-type": "text/plain; version=0.0.4; charset=utf-8" }),
            },
            ...(body === undefined ? {} : { body }),
            signal: AbortSignal.timeout(timeoutMs),
          });
        } catch (err) {
          const e = err as Error & { cause?: { code?: string; message?: string } };
          const why =
            e.name === "TimeoutError"
              ? `no answer within ${timeoutMs / 1000} s`
              : (e.cause?.code ?? e.cause?.message ?? e.message);
          throw new Error(`push to the Pushgateway ${url} failed: ${why}`);
        }
        if (!res.ok) {
          // The body only adds detail to the status; a body that cannot be read leaves the status.
          const text =
            (await res.text().catch(() => "")).trim().split("\n")[0]?.slice(0, 300) ?? "";
          throw new Error(
            `push to the Pushgateway ${url} failed: HTTP ${res.status}${text ? `: ${text}` : ""}`,
          );
        }
      };

      // What the last pushes left: failure counts go on from it, the last success time is carried
      // over. A read that fails starts the counts anew (said after the push, which still happens).
      let state: PushedState | undefined;
      let readProblem: string | undefined;
      try {
        const r = await doFetch(`${plain}/api/v1/metrics`, {
          headers,
          signal: AbortSignal.timeout(timeoutMs),
        });
        if (!r.ok) throw new Error(`HTTP ${r.status}`);
        state = pushedState(await r.json(), ctx.instance);
      } catch (err) {
        readProblem = err instanceof Error ? err.message : String(err);
      }

      // Only a run that cleaned every node succeeded: not a dry run, not one narrowed to --nodes.
      const succeeded = ctx.exitCode === 0 && !summary.dryRun && !scope.narrowed;
      const lastSuccessAt = succeeded ? ctx.finishedAt : state?.lastSuccessAt;
      // The release's group: replaced whole (PUT) when what it held is known, so series an older
      // version pushed there go; else POST, which keeps the families this push does not name
      // (the last success time among them).
      await call(
        state === undefined ? "POST" : "PUT",
        groupingPath(plain, ctx.instance),
        runMetrics({
          summary,
          finishedAt: ctx.finishedAt,
          exitCode: ctx.exitCode,
          lastSuccessAt,
        }),
      );

      if (!summary.dryRun) {
        const streaks = nextFailureStreaks(state?.streaks ?? new Map(), summary, scope);
        const calls: (() => Promise<void>)[] = summary.nodes.map(
          (row) => () =>
            call(
              "PUT",
              groupingPath(plain, ctx.instance, row.node),
              nodeMetrics(row, streaks.get(row.node)),
            ),
        );
        // Counts an older version kept in the release's group (replaced above) move to node groups.
        const visited = new Set(summary.nodes.map((n) => n.node));
        for (const [node, value] of streaks)
          if (!visited.has(node) && !(state?.nodeGroups.has(node) ?? true))
            calls.push(() =>
              call("PUT", groupingPath(plain, ctx.instance, node), nodeMetrics(undefined, value)),
            );
        // A run over every node drops the groups of nodes it no longer counts (gone, excluded).
        for (const node of state?.nodeGroups ?? [])
          if (!streaks.has(node))
            calls.push(() => call("DELETE", groupingPath(plain, ctx.instance, node)));
        const failures: string[] = [];
        let next = 0;
        const worker = async () => {
          for (let c = calls[next++]; c !== undefined; c = calls[next++]) {
            await c().catch((err: unknown) => {
              failures.push(err instanceof Error ? err.message : String(err));
            });
          }
        };
        await Promise.all(Array.from({ length: PUSHES_IN_FLIGHT }, worker));
        if (failures.length > 0)
          throw new Error(
            `${String(failures.length)} of ${String(calls.length)} node pushes failed; the first: ${failures[0] ?? ""}`,
          );
      }
      if (readProblem !== undefined) {
        throw new Error(
          `pushed to the Pushgateway ${groupingPath(plain, ctx.instance)}, but its earlier failure counts could not be read ` +
            `(${readProblem}): ${FAILURE_STREAK_METRIC} starts again from this run`,
        );
      }
    },
  };
}
