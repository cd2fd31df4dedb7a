// ctr's output, parsed: ctr has no JSON output for lists, so its tables are read here. Pure
// functions, unit-tested on captured output.
import { isImageId } from "../config/patterns.js";
import type {
  ContainerRecord,
  ContainerState,
  ImageRecord,
  ImageVolumeRecord,
} from "./inventory.js";
import type { RuntimeVersion } from "./runtime.js";

const PINNED_LABEL = "io.cri-containerd.pinned=pinned";
const CRI_CONTAINER_METADATA = "io.cri-containerd.container.metadata";

export function parseCtrVersion(text: string): RuntimeVersion {
  const server = text.slice(text.indexOf("Server:"));
  const version = /Version:\s*(\S+)/.exec(server)?.[1];
  return version === undefined || !text.includes("Server:")
    ? { name: "containerd" }
    : { name: "containerd", version };
}

export interface CtrImageLine {
  ref: string;
  digest: string;
  sizeBytes: number;
  labels: string[];
}

const SIZE_UNITS: Record<string, number> = {
  B: 1,
  KiB: 1024,
  MiB: 1024 ** 2,
  GiB: 1024 ** 3,
  TiB: 1024 ** 4,
};

/** `ctr images ls`: REF TYPE DIGEST SIZE PLATFORMS LABELS; SIZE is `2.0 MiB` (one decimal). */
export function parseCtrImageList(text: string): CtrImageLine[] {
  const out: CtrImageLine[] = [];
  const row =
    /^(\S+)\s+(\S+)\s+(sha256:[0-9a-f]{64})\s+([\d.]+)\s+(B|KiB|MiB|GiB|TiB)\s+(\S*)\s*(.*)$/;
  for (const line of text.split("\n").slice(1)) {
    const m = row.exec(line.trim());
    if (!m) continue;
    const [, ref = "", , digest = "", amount = "0", unit = "B", , labels = ""] = m;
    out.push({
      ref,
      digest,
      sizeBytes: Math.round(Number(amount) * (SIZE_UNITS[unit] ?? 1)),
      labels: labels.trim() === "-" ? [] : labels.trim().split(",").filter(Boolean),
    });
  }
  return out;
}

/**
 * One image per content id. The CRI plugin names each image also by its id (`sha256:<id>`); that
 * reference becomes the id. Without it (a namespace the CRI plugin does not manage) the manifest
 * digest stands in until the manifest is read.
 */
export function groupCtrImages(lines: readonly CtrImageLine[]): ImageRecord[] {
  const byTarget = new Map<string, CtrImageLine[]>();
  for (const line of lines) byTarget.set(line.digest, [...(byTarget.get(line.digest) ?? []), line]);
  const byId = new Map<string, ImageRecord>();
  for (const [digest, group] of byTarget) {
    const idRef = group.find((l) => isImageId(l.ref))?.ref;
    const id = idRef ?? digest;
    const existing = byId.get(id);
    const image: ImageRecord = existing ?? {
      id,
      names: [],
      digests: [],
      sizeBytes: 0,
      pinned: false,
      refs: [],
    };
    image.digests.push(digest);
    for (const l of group) {
      image.refs.push(l.ref);
      if (!isImageId(l.ref)) image.names.push(l.ref);
      if (l.labels.includes(PINNED_LABEL)) image.pinned = true;
      image.sizeBytes = Math.max(image.sizeBytes, l.sizeBytes);
    }
    byId.set(id, image);
  }
  return [...byId.values()];
}

/** `ctr tasks ls`: TASK PID STATUS. */
export function parseCtrTasks(text: string): Map<string, ContainerState> {
  const out = new Map<string, ContainerState>();
  for (const line of text.split("\n").slice(1)) {
    const [id, , status] = line.trim().split(/\s+/);
    if (!id) continue;
    const state: ContainerState =
      status === "RUNNING" || status === "PAUSED" || status === "PAUSING"
        ? "running"
        : status === "STOPPED"
          ? "exited"
          : status === "CREATED"
            ? "created"
            : "unknown";
    out.set(id, state);
  }
  return out;
}

/** `ctr containers ls`: CONTAINER IMAGE RUNTIME. A container without a task is "created". */
export function parseCtrContainers(
  text: string,
  tasks: ReadonlyMap<string, ContainerState>,
): ContainerRecord[] {
  const out: ContainerRecord[] = [];
  for (const line of text.split("\n").slice(1)) {
    const [id, image] = line.trim().split(/\s+/);
    if (!id || image === undefined) continue;
    out.push({
      id,
      name: id.slice(0, 12),
      state: tasks.get(id) ?? "created",
      images: image === "-" ? [] : [image],
    });
  }
  return out;
}

/** What `ctr containers info` tells about what a container runs. */
export interface CtrContainerFacts {
  /** The CRI plugin's kind label: "container" or "sandbox"; undefined for other clients. */
  kind?: string;
  /**
   * The pod, from the labels the kubelet gives a sandbox (`io.kubernetes.pod.namespace`, `.name`,
   * `.uid`; the CRI plugin copies them onto the sandbox's container).
   */
  pod?: { namespace: string; name: string; uid?: string };
  /** The image id the CRI plugin recorded when it created the container. */
  imageRef?: string;
  snapshotter?: string;
  snapshotKey?: string;
  /** Filled in from `ctr snapshots ls`: the chain id of the image's top layer. */
  snapshotParent?: string;
}

/**
 * `ctr containers info ID` (JSON). A container made through CRI carries the image id in its CRI
 * metadata extension (base64 JSON, `Metadata.ImageRef`); every container made from an image has a
 * snapshot whose parent is that image's chain id.
 */
export function parseCtrContainerInfo(json: string): CtrContainerFacts {
  const info = JSON.parse(json) as {
    Labels?: Record<string, string> | null;
    Snapshotter?: string;
    SnapshotKey?: string;
    Extensions?: Record<string, { value?: unknown }> | null;
  };
  const out: CtrContainerFacts = {};
  const kind = info.Labels?.["io.cri-containerd.kind"];
  if (kind !== undefined) out.kind = kind;
  const labels = info.Labels ?? {};
  const podName = labels["io.kubernetes.pod.name"];
  if (podName !== undefined) {
    out.pod = { namespace: labels["io.kubernetes.pod.namespace"] ?? "", name: podName };
    const uid = labels["io.kubernetes.pod.uid"];
    if (uid !== undefined && uid !== "") out.pod.uid = uid;
  }
  if (info.Snapshotter) out.snapshotter = info.Snapshotter;
  if (info.SnapshotKey) out.snapshotKey = info.SnapshotKey;
  const ext = info.Extensions?.[CRI_CONTAINER_METADATA]?.value;
  if (typeof ext === "string") {
    try {
      const meta = JSON.parse(Buffer.from(ext, "base64").toString("utf8")) as {
        Metadata?: { ImageRef?: unknown };
      };
      const ref = meta.Metadata?.ImageRef;
      if (typeof ref === "string" && ref !== "") out.imageRef = ref;
    } catch {
      // Not the metadata layout this parser knows: the snapshot chain still says what it runs.
    }
  }
  return out;
}

/** `ctr snapshots ls`: KEY PARENT KIND; key -> parent for snapshots that have one. */
export function parseCtrSnapshots(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split("\n").slice(1)) {
    const [key, parent, kind] = line.trim().split(/\s+/);
    if (key && parent && kind) out.set(key, parent);
  }
  return out;
}

/**
 * Chain id -> image (config) digests, from the labels `ctr content ls` shows: unpacking an image
 * labels its config blob `containerd.io/gc.ref.snapshot.<snapshotter>=<chain id>`. Images with the
 * same layers share a chain id; all of them are returned, so all are kept.
 */
export function parseCtrSnapshotChains(text: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const line of text.split("\n").slice(1)) {
    const digest = /^(sha256:[0-9a-f]{64})\s/.exec(line)?.[1];
    if (digest === undefined) continue;
    for (const m of line.matchAll(
      /containerd\.io\/gc\.ref\.snapshot\.[^=,\s]+=(sha256:[0-9a-f]{64})/g,
    )) {
      const chain = m[1] ?? "";
      const list = out.get(chain) ?? [];
      if (!list.includes(digest)) list.push(digest);
      out.set(chain, list);
    }
  }
  return out;
}

const AGE_UNITS: Record<string, number> = {
  second: 1,
  minute: 60,
  hour: 3600,
  day: 86_400,
  week: 604_800,
  month: 2_592_000,
  year: 31_536_000,
};

/**
 * `ctr content ls`: DIGEST SIZE AGE LABELS, AGE in go-units' words ("3 minutes", "About an hour").
 * The words are truncated, so the number is a lower bound of the age: an image is never taken for
 * older than it is.
 */
export function parseCtrContentAges(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split("\n").slice(1)) {
    const digest = /^(sha256:[0-9a-f]{64})\s/.exec(line)?.[1];
    if (digest === undefined) continue;
    const age = ageSeconds(line);
    if (age !== undefined) out.set(digest, age);
  }
  return out;
}

function ageSeconds(line: string): number | undefined {
  if (/Less than a second/.test(line)) return 0;
  const about = /About an? (second|minute|hour)/.exec(line);
  if (about?.[1]) return AGE_UNITS[about[1]] ?? undefined;
  const n = /\s(\d+) (second|minute|hour|day|week|month|year)s?\b/.exec(line);
  if (!n?.[1] || !n[2]) return undefined;
  return Number(n[1]) * (AGE_UNITS[n[2]] ?? Number.NaN);
}

/**
 * `ctr snapshots ls`: KEY PARENT KIND. containerd 2.1+ mounts an image volume from a snapshot whose
 * key is its mount point, `<CRI state dir>/image-volumes/<sandbox id>/<target digest hex>`
 * (internal/cri/server/container_image_mount.go), and removes it with the sandbox: while it exists,
 * a pod mounts that image. The target digest is what `ctr images ls` shows as DIGEST.
 */
export function parseCtrImageVolumeSnapshots(text: string): ImageVolumeRecord[] {
  const out: ImageVolumeRecord[] = [];
  for (const line of text.split("\n").slice(1)) {
    const key = line.trim().split(/\s+/)[0] ?? "";
    const m = /\/image-volumes\/([0-9a-f]{64})\/([0-9a-f]{64})$/.exec(key);
    if (!m?.[1] || !m[2]) continue;
    out.push({ images: [`sha256:${m[2]}`], pod: `sandbox ${m[1].slice(0, 12)}` });
  }
  return out;
}
