// One watch for all helper pods of a run (label selector on the run id), shared by every node: the
// API request budget per node stays flat however many nodes run at once, and nothing polls. Each
// node waits on its own pod's name. The watch resumes from the last resource version when the
// server closes it, and re-lists when that version has expired (410 Gone): kube/resumable-watch.ts.
import { V1ObjectMeta, V1Pod } from "@kubernetes/client-node";
import type { Logger } from "../log.js";
import type { Kube } from "../kube/api.js";
import { toKubeApiError } from "../kube/errors.js";
import { ResumableWatch } from "../kube/resumable-watch.js";

export interface WatchedPod {
  /** The pod's last state seen; after deletion, the state it had when deleted. */
  pod: V1Pod | undefined;
  deleted: boolean;
}

interface Tracked {
  latest: WatchedPod | undefined;
  listeners: Set<() => void>;
  /** Its delete was accepted: forgotten once the watch sees it gone (see `drain`). */
  leaving?: boolean;
}

/**
 * A watched helper pod as the run keeps it until its node is done: without its annotations (the
 * protect list, 100 KiB or more with workload protection) and managedFields, which nothing reads
 * back from the watch (how the pod ended is in its status, helper-outcome.ts). One copy per node
 * in flight.
 */
export function withoutBulk(pod: V1Pod): V1Pod {
  const m = pod.metadata;
  if (m === undefined || (m.annotations === undefined && m.managedFields === undefined)) return pod;
  const metadata = Object.assign(new V1ObjectMeta(), m, {
    annotations: undefined,
    managedFields: undefined,
  });
  return Object.assign(new V1Pod(), pod, { metadata });
}

/** Server-side watch timeout: a silently dead connection is noticed and replaced at least this often. */
const WATCH_TIMEOUT_SECONDS = 300;

export class HelperPodWatch {
  private readonly tracked = new Map<string, Tracked>();
  private readonly watch: ResumableWatch<V1Pod>;

  constructor(
    private readonly kube: Pick<Kube, "core" | "watch">,
    private readonly namespace: string,
    labelSelector: string,
    log: Logger,
  ) {
    this.watch = new ResumableWatch(
      kube.watch,
      {
        path: `/api/v1/namespaces/${encodeURIComponent(namespace)}/pods`,
        selectors: { labelSelector },
        timeoutSeconds: WATCH_TIMEOUT_SECONDS,
        backoffMs: 500,
        call: { resource: "pods", namespace },
        failed: "helper pod watch failed; reopening",
        list: () => this.list(labelSelector),
        event: (type, pod) => {
          if (type === "ADDED" || type === "MODIFIED") this.apply(pod, false);
          else if (type === "DELETED") this.apply(pod, true);
        },
      },
      log,
    );
  }

  /** Lists (for a resource version) and opens the watch; throws KubeApiError when not allowed. */
  start(): Promise<void> {
    return this.watch.start();
  }

  stop(): void {
    this.watch.stop();
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

  /**
   * Forgets a pod whose delete was accepted once the watch sees it gone. A node's turn ends at the
   * delete (the kubelet takes a second or more to stop the pod's sandbox); the run's end waits for
   * the pods to be gone (`drain`), so a run leaves nothing behind, not even a Terminating pod.
   */
  forgetWhenGone(name: string): void {
    const t = this.tracked.get(name);
    if (t === undefined) return;
    if (t.latest?.deleted === true) this.tracked.delete(name);
    else t.leaving = true;
  }

  /**
   * Resolves once every pod handed to `forgetWhenGone` is gone, or after `timeoutMs`, or when the
   * watch stops or the run is interrupted (`signal`); with the names still there (they are deleted,
   * only not yet removed).
   */
  async drain(timeoutMs: number, signal: AbortSignal): Promise<string[]> {
    const leaving = () =>
      [...this.tracked].filter(([, t]) => t.leaving === true).map(([name]) => name);
    const until = Date.now() + timeoutMs;
    while (leaving().length > 0 && !this.watch.isStopped && !signal.aborted && Date.now() < until) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, Math.min(250, Math.max(0, until - Date.now())));
        const waiting = [...this.tracked.values()].filter((t) => t.leaving === true);
        function done() {
          clearTimeout(timer);
          for (const t of waiting) t.listeners.delete(done);
          resolve();
        }
        for (const t of waiting) t.listeners.add(done);
      });
    }
    return leaving();
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
        if (this.watch.isStopped) {
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
    if (name !== undefined && this.tracked.has(name))
      this.set(name, { pod: withoutBulk(pod), deleted });
  }

  private set(name: string, state: WatchedPod): void {
    const t = this.tracked.get(name);
    if (t === undefined) return;
    t.latest = state;
    if (state.deleted && t.leaving === true) this.tracked.delete(name);
    for (const l of [...t.listeners]) l();
  }

  private async list(labelSelector: string): Promise<string | undefined> {
    let list;
    try {
      list = await this.kube.core.listNamespacedPod({ namespace: this.namespace, labelSelector });
    } catch (err) {
      throw toKubeApiError(err, { verb: "list", resource: "pods", namespace: this.namespace });
    }
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
    return list.metadata?.resourceVersion;
  }
}
