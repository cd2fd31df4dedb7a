// What the agent learns from the runtime, in one client-independent shape. The plan is a pure
// function of this, so the adapters (crictl.ts, ctr.ts) only translate.

export interface ImageRecord {
  /**
   * The config digest as the runtime writes it: `sha256:<hex>` (containerd; with ctr, the CRI
   * plugin's id reference) or bare `<hex>` (CRI-O). Kept as given, so removal uses the runtime's
   * own form; compared through `canonicalId`.
   */
  id: string;
  /** Tags and repo digests as the runtime reports them (never the bare id). */
  names: string[];
  /** Manifest/index digests (`sha256:...`) the image is known by, e.g. from repo digests. */
  digests: string[];
  /** Size as the runtime reports it; with ctr an estimate until measured exactly. */
  sizeBytes: number;
  pinned: boolean;
  /** When the runtime recorded the image (ms since epoch), if it exposes that. */
  recordedAtMs?: number;
  /**
   * When the image was built (ms since epoch): `created` in its config, read only when a rule needs
   * it (--keep-newest, per-node limits). Absent when the config has none (reproducible builds may
   * leave it out) or it was not asked for.
   */
  createdAtMs?: number;
  /** Every reference to remove so the content is freed (ctr); crictl removes by id. */
  refs: string[];
}

export type ContainerState = "running" | "created" | "exited" | "unknown";

export interface ContainerRecord {
  id: string;
  name: string;
  state: ContainerState;
  /** Image references the runtime gives for the container (name, id, or both). */
  images: string[];
  /** Pod the container belongs to, as `namespace/name`, when known. */
  pod?: string;
}

/**
 * An image mounted as a volume (`spec.volumes[].image`, Kubernetes 1.33+ with containerd 2.1+ or
 * CRI-O): no container runs it, yet deleting it breaks the pod. crictl reports it per container
 * (ContainerStatus.mounts[].image); ctr sees the CRI plugin's snapshot for it, per sandbox.
 */
export interface ImageVolumeRecord {
  /** References the runtime gives for the mounted image (image id, name or manifest digest). */
  images: string[];
  /** The container that mounts it, when known (crictl). */
  container?: { id: string; name: string; state: ContainerState };
  /** `namespace/name`, or `sandbox <id>` where only the sandbox is known (ctr). */
  pod?: string;
}

export interface SandboxRecord {
  id: string;
  /** `namespace/name`. */
  pod: string;
  /** The sandbox (pause) image, when the runtime tells. */
  image?: string;
  /** The pod's UID as the kubelet gave it (`io.kubernetes.pod.uid`), when the runtime tells. */
  uid?: string;
  /**
   * Whether the sandbox runs (CRI `SANDBOX_READY`; with ctr, its task is running): a pod the kubelet
   * is starting. A stopped one is a finished pod's, kept until the pod object is deleted.
   */
  ready?: boolean;
}

export interface Inventory {
  images: ImageRecord[];
  containers: ContainerRecord[];
  sandboxes: SandboxRecord[];
  /** Images mounted as volumes; absent where the runtime was not asked (older fixtures). */
  imageVolumes?: ImageVolumeRecord[];
  /** The pause image the runtime is configured with, when it can be read. */
  configuredSandboxImage?: string;
  /**
   * Whether `recordedAtMs` is filled in: with ctr, and with crictl on containerd when ctr can read
   * its content store (CRI itself has no pull time). The agent refuses --min-age without it.
   */
  imageTimesKnown: boolean;
}
