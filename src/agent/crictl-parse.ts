// crictl's output, parsed: pure functions over its JSON (and the `version` text), unit-tested on
// captured output. Also the runtime's configured sandbox image from `crictl info`, which the ctr
// adapter asks crictl for too.
import type { ContainerRecord, ContainerState, ImageRecord, SandboxRecord } from "./inventory.js";
import type { RuntimeVersion } from "./runtime.js";

export const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

/** `crictl inspect*` -o json ID...: one object for one id, an array for several; the objects. */
export function inspectedObjects(json: string): Record<string, unknown>[] {
  const parsed: unknown = JSON.parse(json);
  return (Array.isArray(parsed) ? parsed : [parsed]).filter(isRecord);
}
const str = (v: unknown): string => (typeof v === "string" ? v : "");
const strList = (v: unknown): string[] =>
  Array.isArray(v) ? v.filter((x): x is string => typeof x === "string") : [];
const list = (v: unknown, key: string): unknown[] => {
  const inner = isRecord(v) ? v[key] : undefined;
  return Array.isArray(inner) ? inner : [];
};

/**
 * `crictl images -o json` for RuntimeAdapter.present: every image id, reference and digest, each
 * with the references that hold it. Apart from parseCrictlImages on purpose, so a reference that
 * one could not read still counts.
 */
export function parseCrictlPresent(json: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  const add = (key: string, holders: string[]) => {
    if (key !== "") out.set(key, [...(out.get(key) ?? []), ...holders]);
  };
  const listed: unknown = JSON.parse(json);
  for (const image of list(listed, "images").filter(isRecord)) {
    const id = str(image.id);
    const names = [...strList(image.repoTags), ...strList(image.repoDigests)];
    const holders = names.length > 0 ? names : [id];
    add(id, holders);
    for (const name of names) {
      add(name, [name]);
      const at = name.indexOf("@");
      if (at >= 0) add(name.slice(at + 1), [name]);
    }
  }
  return out;
}

/** `crictl version` prints `RuntimeName:  containerd` lines (it has no JSON output). */
export function parseCrictlVersion(text: string): RuntimeVersion {
  const field = (name: string) => new RegExp(`^${name}:\\s*(\\S.*)$`, "m").exec(text)?.[1]?.trim();
  const out: RuntimeVersion = {};
  const name = field("RuntimeName");
  const version = field("RuntimeVersion");
  if (name !== undefined) out.name = name;
  if (version !== undefined) out.version = version;
  return out;
}

/** `crictl images -o json`. Names like `<none>:<none>` (untagged, some runtimes) are dropped. */
export function parseCrictlImages(json: string): ImageRecord[] {
  return list(JSON.parse(json), "images")
    .filter(isRecord)
    .map((i) => {
      const repoDigests = strList(i.repoDigests).filter((n) => !n.includes("<none>"));
      return {
        id: str(i.id),
        names: [...strList(i.repoTags).filter((n) => !n.includes("<none>")), ...repoDigests],
        digests: repoDigests
          .map((d) => d.slice(d.indexOf("@") + 1))
          .filter((d) => d.startsWith("sha256:")),
        sizeBytes: Number(i.size ?? 0) || 0,
        pinned: i.pinned === true,
        refs: [],
      };
    });
}

export function parseCrictlPods(json: string): SandboxRecord[] {
  return list(JSON.parse(json), "items")
    .filter(isRecord)
    .map((p) => {
      const meta = isRecord(p.metadata) ? p.metadata : {};
      const record: SandboxRecord = {
        id: str(p.id),
        pod: `${str(meta.namespace)}/${str(meta.name)}`,
        ready: p.state === "SANDBOX_READY",
      };
      if (str(meta.uid) !== "") record.uid = str(meta.uid);
      return record;
    });
}

/** `crictl inspectp -o json ID...`: sandbox id -> its image. */
export function parseCrictlInspectp(json: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const p of inspectedObjects(json)) {
    const status = isRecord(p.status) ? p.status : {};
    const info = isRecord(p.info) ? p.info : {};
    const image = str(info.image);
    if (image !== "") out.set(str(status.id), image);
  }
  return out;
}

/**
 * `crictl inspect -o json ID...` (one object for one id, an array for several): container id -> the
 * images mounted as volumes. CRI reports them in `status.mounts[].image` (an ImageSpec: `image` is
 * what the kubelet resolved, usually the image id; `userSpecifiedImage` the pod's reference); the
 * verbose `info.config.mounts` repeats the container's config, for runtimes that leave status empty.
 */
export function parseCrictlInspectMounts(json: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const c of inspectedObjects(json)) {
    const status = isRecord(c.status) ? c.status : {};
    const info = isRecord(c.info) ? c.info : {};
    const config = isRecord(info.config) ? info.config : {};
    const images = new Set<string>();
    for (const m of [...list(status, "mounts"), ...list(config, "mounts")]) {
      if (!isRecord(m) || !isRecord(m.image)) continue;
      for (const ref of [
        str(m.image.image),
        str(m.image.userSpecifiedImage),
        str(m.image.user_specified_image),
      ])
        if (ref !== "") images.add(ref);
    }
    const id = str(status.id);
    if (id !== "") out.set(id, [...images]);
  }
  return out;
}

const STATES: Record<string, ContainerState> = {
  CONTAINER_RUNNING: "running",
  CONTAINER_CREATED: "created",
  CONTAINER_EXITED: "exited",
};

export function parseCrictlContainers(
  json: string,
  podById: ReadonlyMap<string, string>,
): ContainerRecord[] {
  return list(JSON.parse(json), "containers")
    .filter(isRecord)
    .map((c) => {
      const meta = isRecord(c.metadata) ? c.metadata : {};
      const image = isRecord(c.image) ? c.image : {};
      const images = [
        str(c.imageRef),
        str(image.image),
        str(image.userSpecifiedImage),
        str(c.imageId),
      ].filter((s) => s !== "");
      const record: ContainerRecord = {
        id: str(c.id),
        name: str(meta.name),
        state: STATES[str(c.state)] ?? "unknown",
        images: [...new Set(images)],
      };
      const pod = podById.get(str(c.podSandboxId));
      if (pod !== undefined) record.pod = pod;
      return record;
    });
}

/**
 * The pause image from `crictl info -o json`: containerd 1.x has `config.sandboxImage`, CRI-O
 * `pause_image`/`pauseImage`. Searched by key, anywhere. containerd 2.0 to 2.4 show only the CRI
 * runtime plugin's config there, not the images plugin's `pinned_images.sandbox` (proven on 2.4.2 by
 * test/integration/agent/agent.test.ts): undefined then, and containerd 2 pins that image instead,
 * which the plan honours. `pinnedImages` is read should a release show it.
 */
export function findSandboxImage(info: unknown, depth = 0): string | undefined {
  if (!isRecord(info) || depth > 6) return undefined;
  for (const [key, value] of Object.entries(info)) {
    if (typeof value === "string" && value !== "" && /^(sandbox_?image|pause_?image)$/i.test(key))
      return value;
    if (key === "pinnedImages" && isRecord(value) && typeof value.sandbox === "string")
      return value.sandbox;
  }
  for (const value of Object.values(info)) {
    const found = findSandboxImage(value, depth + 1);
    if (found !== undefined) return found;
  }
  return undefined;
}
