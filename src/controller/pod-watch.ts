// One watch for all helper pods of a run (label selector on the run id), shared by every node: the
// API request budget per node stays flat however many nodes run at once, and nothing polls. Each
// node waits on its own pod's name. The watch resumes from the last resource version when the
// server closes it, and re-lists when that version has expired (410 Gone).
import type { V1Pod } from "@kubernetes/client-node";
import type { Logger } from "../log.js";
import type { Kube } from "../kube/api.js";
import { serverMessage, statusOf, toKubeApiError } from "../kube/errors.js";

export interface WatchedPod {
  /** The pod's last state seen; after deletion, the state it had when deleted. */
  pod: V1Pod | undefined;
  deleted: boolean;
}

interface Tracked {
  latest: WatchedPod | undefined;
  listeners: Set<() => void>;
}

/** Server-side watch timeout: a silently dead connection is noticed and replaced at least this often. */
const WATCH_TIMEOUT_SECONDS = 300;
const MAX_BACKOFF_MS = 10_000;

export class HelperPodWatch {
  private readonly tracked = new Map<string, Tracked>();
  private resourceVersion: string | undefined;
  private abortWatch: AbortController | undefined;
  private stopped = false;
  private failures = 0;
  private retryTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly kube: Pick<Kube, "core" | "watch">,
    private readonly namespace: string,
    private readonly labelSelector: string,
    private readonly log: Logger,
  ) {}

  /** Lists (for a resource version) and opens the watch; throws KubeApiError when not allowed. */
  async start(): Promise<void> {
    await this.list();
    const first = await this.connect();
    if (first !== undefined)
      throw toKubeApiError(first, { verb: "watch", resource: "pods", namespace: this.namespace });
  }

  stop(): void {
    this.stopped = true;
    if (this.retryTimer !== undefined) clearTimeout(this.retryTimer);
    this.abortWatch?.abort();
    for (const t of this.tracked.values()) for (const l of t.listeners) l();
  }

  /** Start keeping events for `name`; call before creating the pod so no event is missed. */
  track(name: string): void {
    if (!this.tracked.has(name))
      this.tracked.set(name, { latest: undefined, listeners: new Set() });
  }

  forget(name: string): void {
    this.tracked.delete(name);
  }

  /** The last state seen for a tracked pod. */
  latest(name: string): WatchedPod | undefined {
    return this.tracked.get(name)?.latest;
  }

  /**
   * Resolves when the pod is deleted or `until(pod)` holds; rejects with `signal.reason` when the
   * signal aborts first (timeout or interrupt).
   */
  waitFor(name: string, until: (pod: V1Pod) => boolean, signal: AbortSignal): Promise<WatchedPod> {
    const t = this.tracked.get(name);
    if (t === undefined) return Promise.reject(new Error(`pod ${name} is not tracked`));
    return new Promise((resolve, reject) => {
      const check = () => {
        if (signal.aborted) {
          done(() => {
            reject(signal.reason as Error);
          });
          return;
        }
        if (this.stopped) {
          done(() => {
            reject(new Error("the pod watch was stopped"));
          });
          return;
        }
        const w = t.latest;
        if (w !== undefined && (w.deleted || (w.pod !== undefined && until(w.pod)))) {
          done(() => {
            resolve(w);
          });
        }
      };
      const done = (settle: () => void) => {
        t.listeners.delete(check);
        signal.removeEventListener("abort", check);
        settle();
      };
      t.listeners.add(check);
      signal.addEventListener("abort", check);
      check();
    });
  }

  private apply(pod: V1Pod, deleted: boolean): void {
    const name = pod.metadata?.name;
    if (name !== undefined) this.set(name, { pod, deleted });
  }

  private set(name: string, state: WatchedPod): void {
    const t = this.tracked.get(name);
    if (t === undefined) return;
    t.latest = state;
    for (const l of [...t.listeners]) l();
  }

  private async list(): Promise<void> {
    let list;
    try {
      list = await this.kube.core.listNamespacedPod({
        namespace: this.namespace,
        labelSelector: this.labelSelector,
      });
    } catch (err) {
      throw toKubeApiError(err, { verb: "list", resource: "pods", namespace: this.namespace });
    }
    this.resourceVersion = list.metadata?.resourceVersion;
    const present = new Set<string>();
    for (const pod of list.items) {
      const name = pod.metadata?.name;
      if (name !== undefined) present.add(name);
      this.apply(pod, false);
    }
    // A tracked pod that was seen before and is gone now was deleted while the watch was down.
    for (const [name, t] of this.tracked) {
      if (!present.has(name) && t.latest !== undefined && !t.latest.deleted)
        this.set(name, { pod: t.latest.pod, deleted: true });
    }
  }

  /** Opens the watch; resolves with the error when the server refused it outright. */
  private async connect(): Promise<unknown> {
    let opening = true;
    let refused: unknown;
    let relist = false;
    const path = `/api/v1/namespaces/${encodeURIComponent(this.namespace)}/pods`;
    this.abortWatch = await this.kube.watch.watch(
      path,
      {
        labelSelector: this.labelSelector,
        resourceVersion: this.resourceVersion,
        allowWatchBookmarks: true,
        timeoutSeconds: WATCH_TIMEOUT_SECONDS,
      },
      (type: string, obj: unknown) => {
        const object = obj as V1Pod & { code?: number };
        if (type === "ERROR") {
          // 410 Gone: our resource version is older than the server keeps; re-list.
          if (object.code === 410) relist = true;
          return;
        }
        const rv = object.metadata?.resourceVersion;
        if (rv !== undefined) this.resourceVersion = rv;
        this.failures = 0;
        if (type === "ADDED" || type === "MODIFIED") this.apply(object, false);
        else if (type === "DELETED") this.apply(object, true);
      },
      (err: unknown) => {
        // client-node calls this synchronously, before watch() returns, when the server answers
        // with an error status: that is a refusal for the caller to handle.
        if (opening) {
          refused = err ?? new Error("the watch closed as soon as it opened");
          return;
        }
        if (!this.stopped) this.reconnect(err, relist || statusOf(err) === 410);
      },
    );
    opening = false;
    return refused;
  }

  private reconnect(err: unknown, relist: boolean): void {
    if (err !== null && err !== undefined) {
      this.failures++;
      this.log.warn(
        { err: serverMessage(err), failures: this.failures },
        "helper pod watch failed; reopening",
      );
    }
    const delay =
      err === null || err === undefined
        ? 0
        : Math.min(MAX_BACKOFF_MS, 500 * 2 ** Math.min(this.failures, 5));
    this.retryTimer = setTimeout(() => {
      void (async () => {
        try {
          if (relist) await this.list();
          const refused = await this.connect();
          if (refused !== undefined && !this.stopped)
            this.reconnect(refused, statusOf(refused) === 410);
        } catch (e) {
          // The nodes' own timeouts still end every wait (and re-read their pod), so a watch that
          // stays down degrades to slower, not wrong.
          if (!this.stopped) this.reconnect(e, true);
        }
      })();
    }, delay);
  }
}
