// The slice of the Kubernetes API the controller uses, as narrow interfaces over the generated
// client: production code sees only the calls it makes, and the request counter (read by the
// benchmarks: the budget is <= 6 requests per node) wraps exactly these.
import type { CoreV1Api, Watch } from "@kubernetes/client-node";

export type CoreApi = Pick<
  CoreV1Api,
  | "listNode"
  | "listPodForAllNamespaces"
  | "listNamespacedPod"
  | "readNamespacedPod"
  | "createNamespacedPod"
  | "deleteNamespacedPod"
  | "readNamespacedPodLog"
  | "listNamespacedEvent"
>;

export type PodWatch = Pick<Watch, "watch">;

/** API requests made so far, in total and by call (`listNode`, `watch`, ...). */
export interface RequestCounter {
  total: number;
  readonly byCall: Record<string, number>;
}

export interface Kube {
  core: CoreApi;
  watch: PodWatch;
  /** Every request `core` and `watch` made. */
  requests: RequestCounter;
  /** The API server URL, for the run header. */
  server: string;
  /** Where the credentials came from, e.g. `in-cluster service account`. */
  source: string;
  /** The namespace of the kubeconfig's current context, when it names one. */
  contextNamespace: string | undefined;
  /** Closes the kept-alive connections (the process can then exit at once). */
  close(): void;
}

export function createRequestCounter(): RequestCounter {
  return { total: 0, byCall: {} };
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
