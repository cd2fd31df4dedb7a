// The Docker Engine API's answers, read into the agent's client-independent shapes (inventory.ts).
// Pure, and unit-tested on answers shaped as dockerd 20.10 (API 1.41) gives them; docker.ts makes
// the calls.
import type { ContainerRecord, ContainerState, ImageRecord, SandboxRecord } from "./inventory.js";
import { createdFrom } from "./image-created.js";
import type { RuntimeVersion } from "./runtime.js";

/** The label dockershim and cri-dockerd put on a pod's sandbox (pause) container. */
const SANDBOX_LABEL = "io.kubernetes.docker.type";
const POD_NAMESPACE_LABEL = "io.kubernetes.pod.namespace";
const POD_NAME_LABEL = "io.kubernetes.pod.name";

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);
export const str = (v: unknown): string => (typeof v === "string" ? v : "");
const strList = (v: unknown): string[] =>
  Array.isArray(v) ? v.filter((x): x is string => typeof x === "string") : [];
export const listOf = (v: unknown): Record<string, unknown>[] =>
  Array.isArray(v) ? v.filter(isRecord) : [];

/** Tags and repo digests; the Engine writes `<none>:<none>` / `<none>@<none>` for untagged images. */
export function namesOf(image: Record<string, unknown>): string[] {
  return [...strList(image.RepoTags), ...strList(image.RepoDigests)].filter(
    (n) => !n.startsWith("<none>"),
  );
}

/** `GET /version`. */
export function parseDockerVersion(body: unknown): RuntimeVersion {
  const v = isRecord(body) ? body : {};
  const version = str(v.Version);
  const api = str(v.ApiVersion);
  if (version === "") return { name: "docker" };
  return { name: "docker", version: api === "" ? version : `${version} (API ${api})` };
}

/** `GET /images/json`: one record per image, with every tag and repo digest. */
export function parseDockerImages(body: unknown): ImageRecord[] {
  return listOf(body).map((i) => {
    const names = namesOf(i);
    const digests = names
      .filter((n) => n.includes("@"))
      .map((n) => n.slice(n.indexOf("@") + 1))
      .filter((d) => d.startsWith("sha256:"));
    return {
      id: str(i.Id),
      names,
      digests,
      sizeBytes: typeof i.Size === "number" && i.Size > 0 ? i.Size : 0,
      // Docker has no pinning.
      pinned: false,
      refs: names,
    };
  });
}

/** `GET /images/{id}/json`: `Created` of the config, and when it was last tagged (zero: never). */
export function parseDockerInspect(body: unknown): {
  createdAtMs?: number;
  lastTaggedAtMs?: number;
} {
  const i = isRecord(body) ? body : {};
  const out: { createdAtMs?: number; lastTaggedAtMs?: number } = {};
  const created = createdFrom(i.Created);
  if (created !== undefined) out.createdAtMs = created;
  const meta = isRecord(i.Metadata) ? i.Metadata : {};
  // Go's zero time (year 1) for an image never tagged by `docker tag`: createdFrom drops it too.
  const tagged = createdFrom(meta.LastTagTime);
  if (tagged !== undefined) out.lastTaggedAtMs = tagged;
  return out;
}

const STATES: Record<string, ContainerState> = {
  running: "running",
  paused: "running",
  restarting: "running",
  created: "created",
  exited: "exited",
  dead: "exited",
};

/**
 * `GET /containers/json?all=1`: containers in every state, each with the image it runs (`ImageID`)
 * and the name it was started with (`Image`; the id once that name moved to another image). The
 * sandbox (pause) containers of pods on a kubelet through cri-dockerd are sandboxes.
 */
export function parseDockerContainers(body: unknown): {
  containers: ContainerRecord[];
  sandboxes: SandboxRecord[];
} {
  const containers: ContainerRecord[] = [];
  const sandboxes: SandboxRecord[] = [];
  for (const c of listOf(body)) {
    const id = str(c.Id);
    const labels = isRecord(c.Labels) ? c.Labels : {};
    const namespace = str(labels[POD_NAMESPACE_LABEL]);
    const podName = str(labels[POD_NAME_LABEL]);
    const pod = namespace !== "" && podName !== "" ? `${namespace}/${podName}` : undefined;
    const images = [...new Set([str(c.ImageID), str(c.Image)].filter((s) => s !== ""))];
    if (labels[SANDBOX_LABEL] === "podsandbox") {
      const sandbox: SandboxRecord = { id, pod: pod ?? `sandbox ${id.slice(0, 12)}` };
      if (images[0] !== undefined) sandbox.image = images[0];
      sandboxes.push(sandbox);
      continue;
    }
    const record: ContainerRecord = {
      id,
      name: (strList(c.Names)[0] ?? id.slice(0, 12)).replace(/^\//, ""),
      state: STATES[str(c.State)] ?? "unknown",
      images,
    };
    if (pod !== undefined) record.pod = pod;
    containers.push(record);
  }
  return { containers, sandboxes };
}

/** `DELETE /images/{name}`: `[{"Untagged": name} | {"Deleted": id or layer}]`. */
export function parseDeleteResponse(body: unknown): { untagged: string[]; deleted: string[] } {
  const out = { untagged: [] as string[], deleted: [] as string[] };
  for (const entry of listOf(body)) {
    if (typeof entry.Untagged === "string") out.untagged.push(entry.Untagged);
    if (typeof entry.Deleted === "string") out.deleted.push(entry.Deleted);
  }
  return out;
}

/** `GET /info`: where the Engine keeps its data, and its storage driver. */
export function parseDockerInfo(body: unknown): { rootDir?: string; driver?: string } {
  const i = isRecord(body) ? body : {};
  const out: { rootDir?: string; driver?: string } = {};
  // Only a plain absolute path and driver name are joined into a path.
  if (/^\/[^\0]*$/.test(str(i.DockerRootDir))) out.rootDir = str(i.DockerRootDir);
  if (/^[a-z0-9_.-]+$/.test(str(i.Driver))) out.driver = str(i.Driver);
  return out;
}

/** `GET /system/df`: bytes of all image layers, as the Engine counts them. */
export function parseDockerLayersSize(body: unknown): number {
  const d = isRecord(body) ? body : {};
  if (typeof d.LayersSize !== "number")
    throw new Error("the Engine's disk usage has no LayersSize");
  return d.LayersSize;
}
