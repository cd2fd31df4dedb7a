// The containerd client: ctr, in one namespace (k8s.io: where the CRI plugin keeps Kubernetes'
// images). ctr has no JSON output for lists, so its tables are parsed here; the parsers are pure
// and unit-tested on captured output.
import { arch } from "node:os";
import { isImageId } from "../config/patterns.js";
import { errorsByRef } from "./client-output.js";
import { parseCtrContentBytes, parseCtrSnapshotUsage } from "./image-fs.js";
import { CommandFailedError, lastLines, runChecked, type HostExec } from "./host-exec.js";
import type {
  ContainerRecord,
  ContainerState,
  ImageRecord,
  ImageVolumeRecord,
  Inventory,
  SandboxRecord,
} from "./inventory.js";
import type { RuntimeAdapter, RuntimeVersion, Usage } from "./runtime.js";
import { findSandboxImage } from "./crictl.js";
import { parseConfigCreated } from "./image-created.js";

const BATCH = 50;
const PINNED_LABEL = "io.cri-containerd.pinned=pinned";
const CRI_CONTAINER_METADATA = "io.cri-containerd.container.metadata";

export function createCtrAdapter(
  exec: HostExec,
  socket: string,
  namespace: string,
  /** ctr on PATH, or a path to it (RKE2 keeps it off PATH: see client-locations.ts). */
  program = "ctr",
): RuntimeAdapter {
  const ctrArgv = (...args: string[]) => [
    program,
    "--address",
    socket,
    "--namespace",
    namespace,
    ...args,
  ];
  const ctr = (...args: string[]) => runChecked(exec, ctrArgv(...args));

  const usage = createCtrUsageReader(exec, socket, namespace, program);

  return {
    client: "ctr",
    socket,
    version: async () => parseCtrVersion(await ctr("version")),
    usage,
    inventory: async ({ withTimes, withCreated }): Promise<Inventory> => {
      const images = groupCtrImages(parseCtrImageList(await ctr("images", "ls")));
      for (const image of images) {
        // Outside the CRI namespace there is no `sha256:<id>` reference: read the id from the manifest.
        if (!isImageId(image.id)) {
          // Unreadable (e.g. content not fetched): the manifest digest stays the id.
          const manifest = await resolveManifest(ctr, image.id).catch(() => undefined);
          if (manifest) image.id = manifest.configDigest;
        }
      }
      if (withCreated === true) {
        // The id is the config digest: its blob holds `created`. One `content get` per image, four
        // at a time; an unreadable config (content not fetched) leaves the time unknown.
        await inParallel(images, async (image) => {
          if (!isImageId(image.id)) return;
          const r = await exec.run(ctrArgv("content", "get", "--", image.id));
          const ms = r.code === 0 ? parseConfigCreated(r.stdout) : undefined;
          if (ms !== undefined) image.createdAtMs = ms;
        });
      }
      const { containers, sandboxes, imageVolumes } = await usage();
      const inventory: Inventory = {
        images,
        containers,
        sandboxes,
        imageVolumes,
        imageTimesKnown: withTimes,
      };
      if (withTimes) {
        const ages = parseCtrContentAges(await ctr("content", "ls"));
        const now = Date.now();
        for (const image of images) {
          const ages_ = image.digests
            .map((d) => ages.get(d))
            .filter((a): a is number => a !== undefined);
          if (ages_.length > 0) image.recordedAtMs = now - Math.min(...ages_) * 1000;
        }
      }
      // ctr cannot read the CRI configuration; the node's crictl can, if it has one.
      const configured = await crictlSandboxImage(exec, socket);
      if (configured !== undefined) inventory.configuredSandboxImage = configured;
      return inventory;
    },
    measure: async (images) => {
      // One `content get` per image: a few run side by side, so 100 candidates take ~1 s, not 3.
      let next = 0;
      const worker = async () => {
        for (let image = images[next++]; image !== undefined; image = images[next++]) {
          const digest = image.digests[0];
          if (digest === undefined) continue;
          // Unreadable: keep the estimate from `ctr images ls` (one decimal of MiB).
          const manifest = await resolveManifest(ctr, digest).catch(() => undefined);
          if (manifest) image.sizeBytes = manifest.totalBytes;
        }
      };
      await Promise.all([worker(), worker(), worker(), worker()]);
    },
    remove: async (images) => {
      const errors = new Map<string, string>();
      for (let i = 0; i < images.length; i += BATCH) {
        const batch = images.slice(i, i + BATCH);
        const refs = batch.flatMap((b) => b.refs);
        // Every reference, including the CRI plugin's `sha256:<id>` one: with any left, nothing is freed.
        // --sync waits for the garbage collector, so the content is gone when this returns.
        // `--`: a reference is never read as a flag (a name may start with "-").
        const r = await exec.run([
          program,
          "--address",
          socket,
          "--namespace",
          namespace,
          "images",
          "rm",
          "--sync",
          "--",
          ...refs,
        ]);
        const byRef = errorsByRef(r.stderr, refs, /image not found/);
        for (const image of batch) {
          const ref = image.refs.find((x) => byRef.has(x));
          if (ref !== undefined) errors.set(image.id, byRef.get(ref) ?? "");
        }
        if (r.code !== 0 && batch.length === 1 && byRef.size === 0 && batch[0])
          errors.set(batch[0].id, lastLines(r.stderr));
      }
      return errors;
    },
    imageFsSource: "ctr snapshots usage + ctr content ls",
    // Computed on request: always fresh.
    imageFsUsage: async () => ({
      usedBytes:
        parseCtrSnapshotUsage(await ctr("snapshots", "usage", "-b")) +
        parseCtrContentBytes(await ctr("content", "ls")),
      fresh: true,
    }),
    present: async () => {
      // Names exactly (`-q`: one per line, whatever characters they hold), then the table for the
      // digest each points to: a line starts with its name, followed by TYPE and DIGEST.
      const names = (await ctr("images", "ls", "-q")).split("\n").filter((l) => l.trim() !== "");
      const table = (await ctr("images", "ls")).split("\n").slice(1);
      const out = new Map<string, string[]>();
      const add = (key: string, ref: string) => out.set(key, [...(out.get(key) ?? []), ref]);
      for (const name of names) add(name, name);
      for (const line of table) {
        const name = names
          .filter((n) => line.startsWith(n) && /^\s/.test(line.slice(n.length)))
          .sort((a, b) => b.length - a.length)[0];
        if (name === undefined) continue;
        const digest = /^\s+\S+\s+(sha256:[0-9a-f]{64})\s/.exec(line.slice(name.length))?.[1];
        if (digest !== undefined) add(digest, name);
      }
      return out;
    },
  };
}

/**
 * Lists the containers of a namespace with what each really runs (see `usage` below); `skip` leaves
 * out ids the caller knows already (crictl: its CRI containers and sandboxes). Reads each
 * container's facts once per reader.
 */
export function createCtrUsageReader(
  exec: HostExec,
  socket: string,
  namespace: string,
  program = "ctr",
): (skip?: ReadonlySet<string>) => Promise<Usage> {
  const ctrArgv = (...args: string[]) => [
    program,
    "--address",
    socket,
    "--namespace",
    namespace,
    ...args,
  ];
  const ctr = (...args: string[]) => runChecked(exec, ctrArgv(...args));
  // What a container runs does not change while it exists: read once per container and run.
  const facts = new Map<string, CtrContainerFacts>();
  // Image ids by the chain id of their unpacked top layer; refreshed when a parent is not in it.
  let byChain: Map<string, string[]> | undefined;

  const readFacts = async (ids: readonly string[]) => {
    const todo = ids.filter((id) => !facts.has(id));
    const gone = new Set<string>();
    await inParallel(todo, async (id) => {
      const r = await exec.run(ctrArgv("containers", "info", id));
      if (r.code === 0) facts.set(id, parseCtrContainerInfo(r.stdout));
      // Removed since `containers ls`: it runs nothing any more.
      // (ctr: `container "<id>" in namespace "k8s.io": not found`)
      else if (/in namespace .*: not found\s*$/m.test(r.stderr)) gone.add(id);
      else throw new CommandFailedError(ctrArgv("containers", "info", id), r);
    });
    // The parent of the container's snapshot is the chain id of the image it was made from
    // (needed only where the CRI plugin recorded no image id).
    const bySnapshotter = new Map<string, CtrContainerFacts[]>();
    for (const id of todo) {
      const f = facts.get(id);
      if (f?.imageRef !== undefined) continue;
      if (f?.snapshotKey === undefined || f.snapshotter === undefined) continue;
      bySnapshotter.set(f.snapshotter, [...(bySnapshotter.get(f.snapshotter) ?? []), f]);
    }
    for (const [snapshotter, group] of bySnapshotter) {
      const parents = parseCtrSnapshots(await ctr("snapshots", "--snapshotter", snapshotter, "ls"));
      for (const f of group) {
        const parent = f.snapshotKey === undefined ? undefined : parents.get(f.snapshotKey);
        if (parent !== undefined) f.snapshotParent = parent;
      }
    }
    return gone;
  };

  const imagesOfChains = async (chains: readonly string[]) => {
    if (chains.length === 0) return new Map<string, string[]>();
    if (byChain === undefined || chains.some((c) => !byChain?.has(c))) {
      byChain = parseCtrSnapshotChains(await ctr("content", "ls"));
    }
    return byChain;
  };

  return async (skip: ReadonlySet<string> = new Set()) => {
    const tasks = parseCtrTasks(await ctr("tasks", "ls"));
    const listed = parseCtrContainers(await ctr("containers", "ls"), tasks).filter(
      (c) => !skip.has(c.id),
    );
    const gone = await readFacts(listed.map((c) => c.id));
    const present = listed.filter((c) => !gone.has(c.id));
    const chains = present
      .map((c) => facts.get(c.id))
      .filter((f) => f !== undefined && f.imageRef === undefined)
      .map((f) => f?.snapshotParent)
      .filter((p): p is string => p !== undefined);
    const chainImages = await imagesOfChains([...new Set(chains)]);
    const containers: ContainerRecord[] = present.map((c) => {
      const f = facts.get(c.id);
      // The name (the IMAGE column) may have moved to another image since: it is kept as a
      // reference, and what the container really runs is added from the CRI metadata (the image
      // id) or, for containers made by other clients, from its snapshot's parent chain.
      const runs =
        f?.imageRef !== undefined
          ? [f.imageRef]
          : f?.snapshotParent !== undefined
            ? (chainImages.get(f.snapshotParent) ?? [])
            : [];
      return { ...c, images: [...new Set([...c.images, ...runs])] };
    });
    const sandboxes: SandboxRecord[] = present
      .filter((c) => facts.get(c.id)?.kind === "sandbox")
      .map((c) => ({ id: c.id, pod: `sandbox ${c.id.slice(0, 12)}`, image: c.images[0] ?? "" }));
    // Image volumes (containerd 2.1+) live in the snapshotter of the pod's containers; no
    // container, no pod, no image volume.
    const imageVolumes: ImageVolumeRecord[] = [];
    const snapshotters = new Set(
      present.map((c) => facts.get(c.id)?.snapshotter).filter((x): x is string => !!x),
    );
    for (const snapshotter of snapshotters) {
      imageVolumes.push(
        ...parseCtrImageVolumeSnapshots(await ctr("snapshots", "--snapshotter", snapshotter, "ls")),
      );
    }
    return { containers, sandboxes, imageVolumes };
  };
}

async function crictlSandboxImage(exec: HostExec, socket: string): Promise<string | undefined> {
  try {
    const endpoint = `unix://${socket}`;
    const r = await exec.run([
      "crictl",
      "--runtime-endpoint",
      endpoint,
      "--image-endpoint",
      endpoint,
      "info",
      "-o",
      "json",
    ]);
    return r.code === 0 ? findSandboxImage(JSON.parse(r.stdout)) : undefined;
  } catch {
    // No crictl here: the plan then treats anything that looks like a pause image as the sandbox image.
    return undefined;
  }
}

interface ManifestFacts {
  configDigest: string;
  /** Index (if any) + manifest + config + layers: what `ctr images ls` sums, exactly. */
  totalBytes: number;
}

const GO_ARCH: Record<string, string> = {
  x64: "amd64",
  arm64: "arm64",
  arm: "arm",
  ppc64: "ppc64le",
  s390x: "s390x",
};

async function resolveManifest(
  ctr: (...args: string[]) => Promise<string>,
  digest: string,
): Promise<ManifestFacts | undefined> {
  const text = await ctr("content", "get", "--", digest);
  const doc = JSON.parse(text) as {
    manifests?: { digest: string; platform?: { os?: string; architecture?: string } }[];
    config?: { digest: string; size: number };
    layers?: { size: number }[];
  };
  const own = Buffer.byteLength(text);
  if (doc.manifests) {
    const want = GO_ARCH[arch()] ?? arch();
    const entry = doc.manifests.find(
      (m) => m.platform?.os === "linux" && m.platform.architecture === want,
    );
    if (!entry) return undefined;
    const inner = await resolveManifest(ctr, entry.digest);
    return inner && { configDigest: inner.configDigest, totalBytes: inner.totalBytes + own };
  }
  if (!doc.config) return undefined;
  const layers = (doc.layers ?? []).reduce((sum, l) => sum + l.size, 0);
  return { configDigest: doc.config.digest, totalBytes: own + doc.config.size + layers };
}

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

/** Runs `work` on every item, four at a time (each is one short client call). */
async function inParallel<T>(items: readonly T[], work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < items.length; i = next++) await work(items[i] as T);
  };
  await Promise.all([worker(), worker(), worker(), worker()]);
}

/** What `ctr containers info` tells about what a container runs. */
export interface CtrContainerFacts {
  /** The CRI plugin's kind label: "container" or "sandbox"; undefined for other clients. */
  kind?: string;
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
