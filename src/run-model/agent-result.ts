// The agent's structured result: the contract between the agent (which prints it as its last log
// record, `{"msg":"agent result","result":{...}}`) and the controller (which parses it from the
// helper pod's log). Bump `version` when a field changes meaning.
import type { KeepReason } from "./keep-reason.js";

export type RuntimeClientName = "crictl" | "ctr" | "docker";
/**
 * How the agent runs the runtime clients: `nsenter` the node's own in the host's namespaces,
 * `direct` this container's (or host's) own against --socket, `socket` this image's own against the
 * node's socket mounted into an unprivileged helper pod (checked before use, see socket-check.ts).
 */
export type HostExecMode = "nsenter" | "direct" | "socket";

export interface ImageIdentity {
  /** Content id (config digest for CRI and ctr alike): `sha256:<hex>`, or bare hex from CRI-O. */
  id: string;
  /** Every name the runtime knows: tags and repo digests, as the runtime reports them. */
  names: string[];
}

/**
 * With --unused-for, what the image's clock says on this node: `unusedSince` (RFC 3339) since when
 * this tool has seen it unused, or `inUse` when a container, pod sandbox or pod bound to the node
 * uses it. Neither: it has no clock yet (more label writes than one run makes, see unused-clock.ts).
 */
export interface ImageClock {
  unusedSince?: string;
  inUse?: true;
}

export interface DeletedImage extends ImageIdentity, ImageClock {
  bytes: number;
}

export interface KeptImage extends ImageIdentity, ImageClock {
  reason: KeepReason;
  /** Extra context for the reason, e.g. the container or pod that uses it. */
  detail?: string;
}

export interface FailedImage extends ImageIdentity {
  error: string;
}

/**
 * Planned and gone, but not by this agent: its remove call found it missing (the kubelet's image
 * GC, another run, a person). No bytes are counted for it: whoever removed it freed them.
 */
export interface GoneImage extends ImageIdentity {
  detail: string;
}

export interface AgentResult {
  version: 1;
  node: string;
  runtime: {
    client: RuntimeClientName;
    socket: string;
    hostExec: HostExecMode;
    /** With nsenter: the process entered, and the runtime socket it was proven to own. */
    nsenterTarget?: { pid: number; comm?: string; socket?: string };
    /** Runtime name and version as the runtime reports them, when it does. */
    name?: string;
    version?: string;
  };
  dryRun: boolean;
  /** `kept` counts every image not deleted, those no --include matched too. */
  counts: { images: number; matched: number; deleted: number; kept: number; failed: number };
  /** In a dry run: what would have been deleted. */
  deleted: DeletedImage[];
  /**
   * Matched images that were kept, each with its reason. Images no --include matched are only
   * counted (counts.images - counts.matched): listing them made a 1,000-image node's result 266 KiB.
   */
  kept: KeptImage[];
  failed: FailedImage[];
  /** Gone before this agent's remove call reached them (absent: none). */
  alreadyGone?: GoneImage[];
  /**
   * The sum of the deleted images' sizes as the runtime reports them: a layer two deleted images
   * share counts twice, unpacked snapshots not at all. What the disk got back is `imageFs`.
   */
  bytesReclaimed: number;
  /**
   * The image filesystem's used bytes before and after the removals, as the runtime reports them
   * (`source`); absent in a dry run, when nothing was deleted, or when the runtime could not tell.
   * Read without waiting: `state: "pending"` when the runtime had not caught up with the removals
   * yet (`pendingReason` says how), so `freedBytes` is not final and is never added to exact ones.
   */
  imageFs?: ImageFsFigure;
  /**
   * Why the agent stopped before every planned removal was attempted (see `not-attempted`):
   * `pod-arrived` when a pod the controller did not know was bound to the node meanwhile (its
   * sandbox ran): the rest is left for the next run.
   */
  stopped?: "deadline" | "signal" | "pod-arrived";
  /** With `stopped: "pod-arrived"`: those pods, `namespace/name`. */
  arrivedPods?: string[];
  /**
   * Set when --max-images-per-node or --max-bytes-per-node left images for a later run (`cut`: how
   * many were kept with reason `limit`).
   */
  limit?: { maxImages?: number; maxBytes?: number; cut: number };
  /** Set when --min-age was given; `supported: false` when the runtime exposes no image time. */
  minAge?: { seconds: number; supported: boolean };
  /**
   * Set when --unused-for was given: the clock labels this run wrote (`started`: set on images seen
   * unused for the first time, `stopped`: removed from images seen in use), those left for a later
   * run by the per-run cap (`deferred`), and those the runtime refused (`failed`).
   */
  unusedFor?: {
    seconds: number;
    started: number;
    stopped: number;
    deferred: number;
    failed: number;
  };
  /**
   * `start` (where the agent knows it): from its process's start to `inventory`'s: Node.js, module
   * loading, arguments, and in nsenter mode choosing the target. Not part of `total`.
   */
  durationsMs: { start?: number; inventory: number; plan: number; execute: number; total: number };
}

/** The `msg` of the log record that carries the result. */
export const AGENT_RESULT_MSG = "agent result";

/**
 * Each removal batch is logged before the call (`removing images`: what it is about to remove)
 * and after it (`removed images`: what is verifiably gone, and what is not). An agent killed
 * half-way leaves these in its log; the controller reports them as a partial record.
 */
export const BATCH_START_MSG = "removing images";
export const BATCH_DONE_MSG = "removed images";

export interface BatchStart {
  batch: number;
  images: ImageIdentity[];
}

export interface BatchDone {
  batch: number;
  deleted: DeletedImage[];
  failed: FailedImage[];
  alreadyGone?: GoneImage[];
}

/** What the image filesystem got back, and whether that figure is final. */
export interface ImageFsFigure {
  source: string;
  usedBytesBefore: number;
  usedBytesAfter: number;
  freedBytes: number;
  /**
   * `exact`: the reading after the removals already reflects them. `pending`: the runtime had not
   * caught up when the agent read it (the CRI refreshes its figure every 10 s; containerd collects
   * removed content after the call returns): `freedBytes` is what the readings say so far, not a
   * figure to add up, and the next run's readings include the rest.
   */
  state: "exact" | "pending";
  /** Why the figure is pending, for the log. */
  pendingReason?: string;
}
