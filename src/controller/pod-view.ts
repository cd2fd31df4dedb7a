// One shared view of the pods bound to nodes, for the whole run (DESIGN.md "The flow of one run",
// step 4): a paginated list and a watch of every pod with a node and not finished, each cut to what
// protection reads (pod-slim.ts). A node's protect list comes from here instead of one
// `list pods --field-selector spec.nodeName=` per node, which API servers without consistent reads
// from the watch cache (before 1.31) serve from etcd by reading every pod: O(nodes x pods) per run.
//
// Freshness (what a per-node list guaranteed): the pods a node's helper is told to keep are those
// the API server had committed at a resourceVersion returned to a request sent *after* the node
// asked, once the view has applied every watch event up to it. That request is the view's own list
// (a run's first wave asks before it is sent), or a helper pod create of the run sent after the node
// asked (a create's resourceVersion is its own commit), or else a `list pods?limit=1` (one in flight
// at a time, shared by every node that asked before it was sent). Events of any pod move the view
// forward, the run's own helper pods included; when none brings it there within `freshWaitMs` (a
// quiet cluster), the node's pods are read by the per-node list, so the guarantee never depends on
// the watch being quick.
//
// The watch resumes from its last resourceVersion when the server ends it or the connection breaks,
// and re-lists everything when that version has expired (410 Gone): kube/resumable-watch.ts.
import type { Logger } from "../log.js";
import type { Kube } from "../kube/api.js";
import { serverMessage, statusOf, toKubeApiError } from "../kube/errors.js";
import { ResumableWatch } from "../kube/resumable-watch.js";
import { slimPod, slimPodList, type SlimPod } from "./pod-slim.js";
import { PodsByNode } from "./pods-by-node.js";
import { createLimiter, type Limiter } from "./pool.js";
import type { PodViewStats } from "../run-model/run-summary.js";

/**
 * Bound pods that are not finished: the scheduler's own selector for assigned pods. A pod that
 * finishes leaves it (the watch says DELETED): it needs no image any more.
 */
export const BOUND_POD_SELECTOR = "spec.nodeName!=,status.phase!=Succeeded,status.phase!=Failed";

/** @default 500 pods per page (slim pods: a page is parsed at a time, then cut down). */
export const POD_PAGE_SIZE = 500;

/**
 * How long a node waits for the view to reach its resourceVersion before it reads its pods itself.
 * @default 1000 ms
 */
export const FRESH_WAIT_MS = 1000;

/**
 * How long a node waits for a helper pod create of the run, sent after it asked, to serve as its
 * fence (a create's resourceVersion is its own commit: later than anything committed before it was
 * sent) before it reads the version itself. At any concurrency above a few, creates go out every
 * few milliseconds and no node needs a read of its own.
 * @default 50 ms
 */
export const WRITE_FENCE_WAIT_MS = 50;

/** Server-side watch timeout: a silently dead connection is replaced at least this often. */
const WATCH_TIMEOUT_SECONDS = 300;
const EXPIRED_RESTARTS = 3;

/**
 * Per-node lists in flight at once (when the view is not fresh in time), whatever the concurrency:
 * a node's list can be 1 MB of JSON (110 pods with their status) until it is cut down.
 * @default 8
 */
export const NODE_LISTS_IN_FLIGHT = 8;

export interface PodViewOptions {
  pageSize?: number;
  freshWaitMs?: number;
  writeFenceWaitMs?: number;
  watchTimeoutSeconds?: number;
}

export interface NodePods {
  pods: SlimPod[];
  from: "view" | "list";
}

/** resourceVersions are etcd revisions on every API server we know; other forms are not compared. */
export function rvAtLeast(have: string | undefined, want: string): boolean {
  if (have === undefined || !/^\d+$/.test(have) || !/^\d+$/.test(want)) return false;
  return BigInt(have) >= BigInt(want);
}

export class PodView {
  private pods = new PodsByNode();
  private readonly progress = new Set<() => void>();
  private readonly watch: ResumableWatch<SlimPod & { metadata?: { resourceVersion?: string } }>;
  private ready: Promise<void> | undefined;
  /** Reads that return a current resourceVersion (first list pages, fence reads), as sent. */
  private readsSent = 0;
  /** The newest such read answered: its number in sending order and its version. */
  private lastRead: { seq: number; version: string } | undefined;
  private readonly answers = new Set<() => void>();
  private fenceInFlight: Promise<string | undefined> | undefined;
  private fenceQueued: Promise<string | undefined> | undefined;
  readonly stats: PodViewStats = {
    listPages: 0,
    relists: 0,
    rewatches: 0,
    fenceReads: 0,
    fromView: 0,
    nodeLists: 0,
  };
  private readonly pageSize: number;
  private readonly freshWaitMs: number;
  private readonly writeFenceWaitMs: number;
  private readonly nodeListLimit: Limiter = createLimiter(NODE_LISTS_IN_FLIGHT);

  constructor(
    private readonly kube: Pick<Kube, "core" | "watch">,
    private readonly log: Logger,
    options: PodViewOptions = {},
  ) {
    this.pageSize = options.pageSize ?? POD_PAGE_SIZE;
    this.freshWaitMs = options.freshWaitMs ?? FRESH_WAIT_MS;
    this.writeFenceWaitMs = options.writeFenceWaitMs ?? WRITE_FENCE_WAIT_MS;
    this.watch = new ResumableWatch(
      kube.watch,
      {
        path: "/api/v1/pods",
        selectors: { fieldSelector: BOUND_POD_SELECTOR },
        timeoutSeconds: options.watchTimeoutSeconds ?? WATCH_TIMEOUT_SECONDS,
        backoffMs: 250,
        call: { resource: "pods" },
        failed: "pod view watch failed; reopening",
        list: () => this.list(),
        event: (type, pod) => {
          if (type === "ADDED" || type === "MODIFIED") this.pods.put(pod);
          else if (type === "DELETED") this.pods.remove(pod);
        },
        progressed: () => {
          this.notify();
        },
        relisting: () => {
          this.stats.relists++;
          this.log.info("pod view: the watch's resourceVersion expired; listing the pods again");
        },
        rewatching: () => {
          this.stats.rewatches++;
        },
      },
      log,
    );
  }

  /**
   * Lists every bound pod and opens the watch; rejects with KubeApiError when not allowed. The list
   * is sent in the next turn of the event loop: nodes whose turn begins now (a run's first wave)
   * ask before it is sent, so its resourceVersion is their fence and they need no read of their
   * own. Callable once; `podsOn` waits for it.
   */
  start(): Promise<void> {
    this.ready ??= (async () => {
      await new Promise<void>((r) => setImmediate(r));
      await this.watch.start();
    })();
    return this.ready;
  }

  stop(): void {
    this.watch.stop();
    this.notify();
  }

  /** How many pods the view holds (for tests and the debug log). */
  get size(): number {
    return this.pods.size;
  }

  /** The resourceVersion the view has applied every event up to. */
  get version(): string | undefined {
    return this.watch.version;
  }

  /** The pods the view holds for `node` now, fresh or not. */
  podsOnNode(node: string): SlimPod[] {
    return this.pods.onNode(node);
  }

  /**
   * The pods bound to `node` as the API server had them at a resourceVersion read after this call
   * began: from the view once it has applied events up to it, else by the per-node list.
   */
  async podsOn(node: string, signal: AbortSignal): Promise<NodePods> {
    const asked = this.readsSent;
    await this.start();
    let fence: string | undefined;
    try {
      fence = await this.fenceFor(asked, signal);
    } catch (err) {
      // The per-node list below says what is wrong, or works where the cheap read did not.
      this.log.debug({ err: serverMessage(err) }, "could not read the current resourceVersion");
    }
    if (fence !== undefined && (await this.reach(fence, signal))) {
      this.stats.fromView++;
      return { pods: this.podsOnNode(node), from: "view" };
    }
    if (signal.aborted) throw new Error("the run was interrupted");
    const pods = await this.nodeListLimit.run(async () => {
      const list = await this.kube.core.listPodForAllNamespaces(
        { fieldSelector: `spec.nodeName=${node}` },
        { middleware: [slimPodList], middlewareMergeStrategy: "append" },
      );
      return list.items.map((p) => slimPod(p as SlimPod));
    });
    this.stats.nodeLists++;
    return { pods, from: "list" };
  }

  /**
   * A resourceVersion the API server returned to a request sent after `asked`: the view's own list
   * (a run's first wave), a helper pod create of the run (`fenceWrite`), or a read of its own.
   */
  private async fenceFor(asked: number, signal: AbortSignal): Promise<string | undefined> {
    const served = () => {
      const last = this.lastRead;
      return last !== undefined && last.seq > asked ? last.version : undefined;
    };
    const now = served();
    if (now !== undefined) return now;
    const byWrite = await new Promise<string | undefined>((resolve) => {
      const done = (v: string | undefined) => {
        clearTimeout(timer);
        this.answers.delete(check);
        signal.removeEventListener("abort", abort);
        resolve(v);
      };
      const check = () => {
        const v = served();
        if (v !== undefined) done(v);
      };
      const abort = () => {
        done(undefined);
      };
      const timer = setTimeout(abort, this.writeFenceWaitMs);
      this.answers.add(check);
      signal.addEventListener("abort", abort);
    });
    if (byWrite !== undefined || signal.aborted) return byWrite;
    return this.currentVersion();
  }

  /**
   * Sends a write of the run (a helper pod's create) whose answer carries a resourceVersion, which
   * then serves as the fence of every node that asked before it was sent.
   */
  async fenceWrite<T extends { metadata?: { resourceVersion?: string } }>(
    send: () => Promise<T>,
  ): Promise<T> {
    const seq = ++this.readsSent;
    const answer = await send();
    this.answered(seq, answer.metadata?.resourceVersion);
    return answer;
  }

  /**
   * The API server's current resourceVersion, read by a request sent after this call: one read in
   * flight at a time; callers that come while one is in flight share the next.
   */
  currentVersion(): Promise<string | undefined> {
    if (this.fenceInFlight === undefined) {
      const read = this.readVersion().finally(() => {
        if (this.fenceInFlight === read) this.fenceInFlight = undefined;
      });
      this.fenceInFlight = read;
      return read;
    }
    this.fenceQueued ??= this.fenceInFlight
      .catch(() => undefined)
      .then(() => {
        this.fenceQueued = undefined;
        return this.currentVersion();
      });
    return this.fenceQueued;
  }

  private async readVersion(): Promise<string | undefined> {
    this.stats.fenceReads++;
    const seq = ++this.readsSent;
    // No selector: one key read from etcd, or from the watch cache where reads from it are
    // consistent. The item is cut like the rest.
    const list = await this.kube.core.listPodForAllNamespaces(
      { limit: 1 },
      { middleware: [slimPodList], middlewareMergeStrategy: "append" },
    );
    const version = list.metadata?.resourceVersion;
    this.answered(seq, version);
    return version;
  }

  private answered(seq: number, version: string | undefined): void {
    if (version === undefined || !/^\d+$/.test(version)) return;
    if (this.lastRead === undefined || seq > this.lastRead.seq) this.lastRead = { seq, version };
    for (const l of [...this.answers]) l();
  }

  /** Resolves true once the view has applied events up to `fence`, false after freshWaitMs. */
  private reach(fence: string, signal: AbortSignal): Promise<boolean> {
    if (rvAtLeast(this.version, fence)) return Promise.resolve(true);
    if (!/^\d+$/.test(fence) || this.watch.isStopped || signal.aborted)
      return Promise.resolve(false);
    return new Promise((resolve) => {
      const done = (ok: boolean) => {
        clearTimeout(timer);
        this.progress.delete(check);
        signal.removeEventListener("abort", abort);
        resolve(ok);
      };
      const check = () => {
        if (rvAtLeast(this.version, fence)) done(true);
        else if (this.watch.isStopped) done(false);
      };
      const abort = () => {
        done(false);
      };
      const timer = setTimeout(abort, this.freshWaitMs);
      this.progress.add(check);
      signal.addEventListener("abort", abort);
    });
  }

  private notify(): void {
    for (const l of [...this.progress]) l();
  }

  /** Every bound pod, page by page; replaces what the view held. Resolves with its version. */
  private async list(): Promise<string | undefined> {
    for (let attempt = 0; ; attempt++) {
      const pods = new PodsByNode();
      let cont: string | undefined;
      let version: string | undefined;
      const seq = ++this.readsSent;
      try {
        do {
          const page = await this.kube.core.listPodForAllNamespaces(
            {
              fieldSelector: BOUND_POD_SELECTOR,
              limit: this.pageSize,
              ...(cont === undefined ? {} : { _continue: cont }),
            },
            { middleware: [slimPodList], middlewareMergeStrategy: "append" },
          );
          this.stats.listPages++;
          // Every page of one list is the snapshot of the first page's resourceVersion.
          version ??= page.metadata?.resourceVersion;
          for (const p of page.items) pods.put(p);
          cont = page.metadata?._continue || undefined;
        } while (cont !== undefined);
      } catch (err) {
        // 410: the snapshot the continue token points at expired part-way; start again.
        if (statusOf(err) === 410 && cont !== undefined && attempt < EXPIRED_RESTARTS) continue;
        throw toKubeApiError(err, { verb: "list", resource: "pods" });
      }
      this.pods = pods;
      this.answered(seq, version);
      return version;
    }
  }
}
