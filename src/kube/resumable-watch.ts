// A list, then a watch from the list's resourceVersion that keeps itself open: when the server ends
// it (its timeout) or the connection breaks it resumes from the last resourceVersion seen, and when
// that version has expired (410 Gone, as an ERROR event or the watch's status) it lists everything
// again first. The owner keeps the objects; this keeps the version and the connection. Used by the
// run's helper pod watch and its shared view of bound pods (src/controller/pod-watch.ts, pod-view.ts).
import type { Logger } from "../log.js";
import type { PodWatch } from "./api.js";
import { serverMessage, statusOf, toKubeApiError, type KubeCall } from "./errors.js";

/** The longest wait before a watch is reopened after failures. */
const MAX_BACKOFF_MS = 10_000;

export interface ResumableWatchSpec<T> {
  /** The collection watched, e.g. `/api/v1/pods`. */
  path: string;
  /** Its selectors: `labelSelector`, `fieldSelector`. */
  selectors: Readonly<Record<string, string>>;
  /** Server-side watch timeout: a silently dead connection is replaced at least this often. */
  timeoutSeconds: number;
  /** Wait before reopening after the first failure, doubled for each further one (5 times at most). */
  backoffMs: number;
  /** Which watch the refusal of the first one names (`watch pods in namespace ...`). */
  call: Omit<KubeCall, "verb">;
  /** The warning logged when the watch breaks, e.g. `helper pod watch failed; reopening`. */
  failed: string;
  /** Lists everything, replacing what the owner held; resolves with the list's resourceVersion. */
  list(): Promise<string | undefined>;
  /** An ADDED, MODIFIED, DELETED or BOOKMARK event. */
  event(type: string, object: T): void;
  /** The version moved (every event up to it applied): after a list, an event with a version. */
  progressed?(): void;
  /** Before a re-list after the version expired, and before a plain re-watch. */
  relisting?(): void;
  rewatching?(): void;
}

export class ResumableWatch<T extends { metadata?: { resourceVersion?: string } }> {
  private resourceVersion: string | undefined;
  private abortWatch: AbortController | undefined;
  private stopped = false;
  private failures = 0;
  private retryTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly watch: PodWatch,
    private readonly spec: ResumableWatchSpec<T>,
    private readonly log: Logger,
  ) {}

  /** The resourceVersion every event up to which has been applied. */
  get version(): string | undefined {
    return this.resourceVersion;
  }

  get isStopped(): boolean {
    return this.stopped;
  }

  /** Lists and opens the watch; rejects with KubeApiError when either is refused. */
  async start(): Promise<void> {
    await this.list();
    const refused = await this.connect();
    if (refused !== undefined) throw toKubeApiError(refused, { verb: "watch", ...this.spec.call });
  }

  stop(): void {
    this.stopped = true;
    if (this.retryTimer !== undefined) clearTimeout(this.retryTimer);
    this.abortWatch?.abort();
  }

  private async list(): Promise<void> {
    this.resourceVersion = await this.spec.list();
    this.spec.progressed?.();
  }

  /** Opens the watch; resolves with the error when the server refused it outright. */
  private async connect(): Promise<unknown> {
    let opening = true;
    let refused: unknown;
    let relist = false;
    this.abortWatch = await this.watch.watch(
      this.spec.path,
      {
        ...this.spec.selectors,
        resourceVersion: this.resourceVersion,
        allowWatchBookmarks: true,
        timeoutSeconds: this.spec.timeoutSeconds,
      },
      (type: string, obj: unknown) => {
        const object = obj as T & { code?: number };
        if (type === "ERROR") {
          // 410 Gone: our resourceVersion is older than the server keeps; re-list.
          if (object.code === 410) relist = true;
          return;
        }
        this.failures = 0;
        this.spec.event(type, object);
        // A BOOKMARK too: nothing changed up to its resourceVersion.
        const rv = object.metadata?.resourceVersion;
        if (rv !== undefined) {
          this.resourceVersion = rv;
          this.spec.progressed?.();
        }
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
      this.log.warn({ err: serverMessage(err), failures: this.failures }, this.spec.failed);
    }
    // A re-list waits too: a server that keeps answering 410 is not listed in a tight loop.
    const delay =
      (err === null || err === undefined) && !relist
        ? 0
        : Math.min(MAX_BACKOFF_MS, this.spec.backoffMs * 2 ** Math.min(this.failures, 5));
    this.retryTimer = setTimeout(() => {
      void (async () => {
        try {
          if (relist) {
            this.spec.relisting?.();
            await this.list();
          } else this.spec.rewatching?.();
          const refused = await this.connect();
          if (refused !== undefined && !this.stopped)
            this.reconnect(refused, statusOf(refused) === 410);
        } catch (e) {
          // The owners' waits all end on their own timeouts, so a watch that stays down makes the
          // run slower, never wrong.
          if (!this.stopped) this.reconnect(e, true);
        }
      })();
    }, delay);
  }
}
