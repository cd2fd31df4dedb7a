// The slice of the Kubernetes API the controller uses, as narrow interfaces over the generated
// client: production code sees only the calls it makes, and the request counter (read by the
// benchmarks: the budget is <= 6 requests per node) wraps exactly these.
import {
  Observable,
  type AppsV1Api,
  type BatchV1Api,
  type CoreV1Api,
  type ObservableMiddleware,
  type RequestContext,
  type ResponseContext,
  type Watch,
} from "@kubernetes/client-node";

/**
 * The calls of each narrow interface below: the types are these lists, and the wrappers in
 * clients.ts (count, time limit, interrupt, network errors) wrap exactly them.
 */
export const CALLS = {
  core: [
    "listNode",
    "listPodForAllNamespaces",
    "listNamespacedPod",
    "readNamespacedPod",
    "createNamespacedPod",
    "deleteNamespacedPod",
    "readNamespacedPodLog",
    "listNamespacedEvent",
    "readNamespacedSecret",
  ],
  audit: [
    "createNamespacedEvent",
    "readNamespacedConfigMap",
    "replaceNamespacedConfigMap",
    "createNamespacedConfigMap",
    "listNamespacedConfigMap",
  ],
  batch: ["listNamespacedCronJob"],
  workloadApps: [
    "listDeploymentForAllNamespaces",
    "listStatefulSetForAllNamespaces",
    "listDaemonSetForAllNamespaces",
    "listReplicaSetForAllNamespaces",
  ],
  workloadBatch: ["listJobForAllNamespaces", "listCronJobForAllNamespaces"],
  jobs: ["readNamespacedCronJob", "readNamespacedJob"],
  apps: ["readNamespacedDeployment", "readNamespacedStatefulSet", "readNamespacedDaemonSet"],
} as const;

type Calls<K extends keyof typeof CALLS> = (typeof CALLS)[K][number];

export type CoreApi = Pick<CoreV1Api, Calls<"core">>;

/**
 * What the report sinks call (src/report/sinks): Events about Nodes, the run-report ConfigMap. Kept
 * apart from `core`: a sink's calls run after the run's work, are never cut short by SIGTERM (the
 * outcome of an interrupted run is recorded too) and have a short timeout of their own.
 */
export type AuditApi = Pick<CoreV1Api, Calls<"audit">>;

/**
 * What `list` reads from a workstation: the release's CronJob, whose arguments carry the settings
 * the chart turned its values into (src/kube/find-release.ts).
 */
export type BatchApi = Pick<BatchV1Api, Calls<"batch">>;

/**
 * The workload kinds whose templates name images the cluster will need again (workload
 * protection, src/controller/workload-images.ts): listed across namespaces, paginated.
 */
export type WorkloadApi = Pick<AppsV1Api, Calls<"workloadApps">> &
  Pick<BatchV1Api, Calls<"workloadBatch">>;
/** What `pull --images-of` reads of a Job or CronJob: its pod template. */
export type JobsApi = Pick<BatchV1Api, Calls<"jobs">>;

/** What `pull --images-of` reads: one workload's pod template. */
export type AppsApi = Pick<AppsV1Api, Calls<"apps">>;

export type PodWatch = Pick<Watch, "watch">;

/** API requests made so far, in total and by call (`listNode`, `watch`, ...). */
export interface RequestCounter {
  total: number;
  readonly byCall: Record<string, number>;
}

export interface Kube {
  core: CoreApi;
  /** The report sinks' calls (counted in `requests` too). */
  audit: AuditApi;
  /** The release's CronJob (counted in `requests` too). */
  batch: BatchApi;
  /** Workload lists for workload protection (counted in `requests` too). */
  workloads: WorkloadApi;
  /** `pull --images-of`'s workload (counted in `requests` too). */
  apps: AppsApi;
  jobs: JobsApi;
  watch: PodWatch;
  /** Every request `core` and `watch` made. */
  requests: RequestCounter;
  /** The API server URL, for the run header. */
  server: string;
  /** Where the credentials came from, e.g. `in-cluster service account`. */
  source: string;
  /** The namespace of the kubeconfig's current context, when it names one. */
  contextNamespace: string | undefined;
  /**
   * The same clients, whose calls in flight are aborted when `signal` aborts (SIGTERM): every call
   * but deleting a pod, which is how an interrupted run cleans up.
   */
  withInterrupt(signal: AbortSignal): Kube;
  /** Closes the kept-alive connections (the process can then exit at once). */
  close(): void;
}

export function createRequestCounter(): RequestCounter {
  return { total: 0, byCall: {} };
}

/**
 * A signal that aborts when `timeout` or `stop` does, and `unlink` to call when the call is over.
 * Not `AbortSignal.any`: on Node.js 20 each call would leave an entry in the run's long-lived
 * signal that is never pruned (nodejs/node#55351), one per API request of the run.
 */
export function eitherSignal(
  timeout: AbortSignal,
  stop: AbortSignal | undefined,
): { signal: AbortSignal; unlink: () => void } {
  if (stop === undefined) return { signal: timeout, unlink: () => undefined };
  const either = new AbortController();
  const sources = [timeout, stop];
  const onAbort = (event: Event) => {
    either.abort((event.target as AbortSignal).reason);
  };
  const unlink = () => {
    for (const s of sources) s.removeEventListener("abort", onAbort);
  };
  for (const s of sources) {
    if (s.aborted) {
      either.abort(s.reason);
      return { signal: either.signal, unlink };
    }
    s.addEventListener("abort", onAbort, { once: true });
  }
  return { signal: either.signal, unlink };
}

/**
 * Wraps every method of `api` named in `methods` so each call counts one request. The wrapper is
 * typed as the same narrow interface, so nothing else changes for the caller.
 */
export function countRequests<T extends object>(
  api: T,
  methods: readonly (keyof T & string)[],
  counter: RequestCounter,
): T {
  const counted = {} as Record<string, unknown>;
  for (const name of methods) {
    const fn = api[name];
    if (typeof fn !== "function") continue;
    counted[name] = (...args: unknown[]): unknown => {
      counter.total++;
      counter.byCall[name] = (counter.byCall[name] ?? 0) + 1;
      return (fn as (...a: unknown[]) => unknown).apply(api, args);
    };
  }
  return counted as T;
}

/** A call that got no answer within the client timeout (recognised as a network error). */
export class ApiTimeoutError extends Error {
  readonly code = "ETIMEDOUT";
  constructor(call: string, ms: number) {
    super(
      `no answer from the API server within ${ms / 1000} s (client timeout) to ${call}; the server or the network is overloaded or down`,
    );
    this.name = "ApiTimeoutError";
  }
}

/** A call in flight aborted because the run was interrupted (SIGTERM/SIGINT). */
export class ApiCallInterrupted extends Error {
  readonly code = "EINTERRUPTED";
  constructor(call: string, reason: unknown) {
    super(`${call} was cut short: the run was interrupted (${String(reason)})`);
    this.name = "ApiCallInterrupted";
  }
}

/** Which signals end a call: always the timeout, and the interrupt unless the call is exempt. */
export interface CallLimits {
  timeoutMs: number;
  interrupt: AbortSignal | undefined;
  /** Calls the interrupt leaves alone (cleanup after it). */
  exempt: ReadonlySet<string>;
}

/**
 * Wraps every method of `api` named in `methods` so each call carries an abort signal (passed to
 * client-node as a per-call middleware that sets it on the request): the client timeout, and the
 * run's interrupt. The error says which of them ended the call.
 */
export function limitCalls<T extends object>(
  api: T,
  methods: readonly (keyof T & string)[],
  limits: () => CallLimits,
): T {
  const limited = {} as Record<string, unknown>;
  for (const name of methods) {
    const fn = api[name];
    if (typeof fn !== "function") continue;
    limited[name] = async (
      param: unknown,
      callerOptions?: { middleware?: ObservableMiddleware[] },
    ): Promise<unknown> => {
      const { timeoutMs, interrupt, exempt } = limits();
      const timeout = AbortSignal.timeout(timeoutMs);
      const stop = interrupt !== undefined && !exempt.has(name) ? interrupt : undefined;
      const { signal, unlink } = eitherSignal(timeout, stop);
      // The object API runs client-node's own Observable middleware: the signal goes on the
      // request there, and node-fetch aborts the request (and the body read) with it.
      const setSignal: ObservableMiddleware = {
        pre: (context: RequestContext) => {
          context.setSignal(signal);
          return new Observable(Promise.resolve(context));
        },
        post: (response: ResponseContext) => new Observable(Promise.resolve(response)),
      };
      const options = {
        middleware: [setSignal, ...(callerOptions?.middleware ?? [])],
        middlewareMergeStrategy: "append",
      };
      try {
        if (stop?.aborted) throw new ApiCallInterrupted(name, stop.reason);
        return await (fn as (p: unknown, o: unknown) => Promise<unknown>).call(api, param, options);
      } catch (err) {
        if (stop?.aborted) throw new ApiCallInterrupted(name, stop.reason);
        if (timeout.aborted) throw new ApiTimeoutError(name, timeoutMs);
        throw err;
      } finally {
        unlink();
      }
    };
  }
  return limited as T;
}
