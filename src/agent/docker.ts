// The Docker Engine client: the agent speaks the Engine API itself over the Engine's unix socket
// (docker-engine.ts), so a Docker host needs no client binary. Images come from the Engine's own image
// store, containers in every state from its container list; removal goes by image id with
// `noprune=false` and never `force`, so the Engine itself refuses an image a container uses.
import { stat } from "node:fs/promises";
import { posix } from "node:path";
import { normaliseReference, repositoryOf } from "../config/patterns.js";
import { inParallel } from "./in-parallel.js";
import { EngineError, type EngineClient } from "./docker-engine.js";
import {
  listOf,
  namesOf,
  parseDeleteResponse,
  parseDockerContainers,
  parseDockerImages,
  parseDockerInfo,
  parseDockerInspect,
  parseDockerLayersSize,
  parseDockerVersion,
  str,
} from "./docker-parse.js";
import type { ImageRecord, Inventory } from "./inventory.js";
import type { RuntimeAdapter, Usage } from "./runtime.js";

export interface DockerAdapterOptions {
  /**
   * Where the agent opens a node path (host-exec's `hostPath`: through `/proc/<pid>/root` in nsenter
   * mode): --min-age reads when each image entered the Engine's image store from the store itself
   * (the API has no pull time).
   */
  hostPath: (path: string) => Promise<string>;
}

export function createDockerAdapter(
  engine: EngineClient,
  options: DockerAdapterOptions,
): RuntimeAdapter {
  const usage = async (): Promise<Usage> => {
    const all = parseDockerContainers(await engine.get("/containers/json?all=1"));
    return { containers: all.containers, sandboxes: all.sandboxes, imageVolumes: [] };
  };

  /** Created (--keep-newest, limits) and the last tag time, from each image's inspect, 4 at a time. */
  const inspectImages = async (images: ImageRecord[]): Promise<Map<string, number>> => {
    const tagged = new Map<string, number>();
    await inParallel(images, async (image) => {
      let facts: unknown;
      try {
        facts = await engine.get(`/images/${image.id}/json`);
      } catch (err) {
        // Removed since the listing: it is gone, and nothing is known of it.
        if (err instanceof EngineError && err.status === 404) return;
        throw err;
      }
      const inspected = parseDockerInspect(facts);
      if (inspected.createdAtMs !== undefined) image.createdAtMs = inspected.createdAtMs;
      if (inspected.lastTaggedAtMs !== undefined) tagged.set(image.id, inspected.lastTaggedAtMs);
    });
    return tagged;
  };

  /**
   * When each image entered the Engine's image store. The API has no pull time (LastTagTime is set
   * by `docker tag` and builds, never by a pull or a load); the store writes each image's config
   * as `<DockerRootDir>/image/<driver>/imagedb/content/sha256/<id>` on every pull, load and build,
   * so that file's mtime is the last time the image came. The later of the two counts: an image is
   * never taken for older than it is. False when the store cannot be read from here (socket mode,
   * an agent that is not root, or the containerd image store, which keeps no such files).
   */
  const readStoreTimes = async (
    images: ImageRecord[],
    lastTagged: ReadonlyMap<string, number>,
  ): Promise<boolean> => {
    const info = parseDockerInfo(await engine.get("/info"));
    if (info.rootDir === undefined || info.driver === undefined) return false;
    // The data root is often a link on CI hosts (/var/lib/docker -> /data/docker): resolved on the node.
    const dir = await options.hostPath(
      posix.join(info.rootDir, "image", info.driver, "imagedb", "content", "sha256"),
    );
    try {
      if (!(await stat(dir)).isDirectory()) return false;
    } catch {
      // Not visible from here, or no such store: no image gets a time.
      return false;
    }
    await inParallel(images, async (image) => {
      const hex = image.id.replace(/^sha256:/, "");
      const times: number[] = [];
      const tag = lastTagged.get(image.id);
      if (tag !== undefined) times.push(tag);
      try {
        // Whole ms from the exact nanoseconds, rounded up: never older than it is.
        const ns = (await stat(posix.join(dir, hex), { bigint: true })).mtimeNs;
        times.push(Number((ns + 999_999n) / 1_000_000n));
      } catch {
        // Removed since the listing, or stored elsewhere: its time stays unknown (kept as too-new).
      }
      if (times.length > 0) image.recordedAtMs = Math.max(...times);
    });
    return true;
  };

  return {
    client: "docker",
    socket: engine.socket,
    version: async () => parseDockerVersion(await engine.get("/version")),
    usage,
    inventory: async ({ withTimes, withCreated }): Promise<Inventory> => {
      // Top-level images only (no `all`): the classic builder's intermediate images are parents that
      // cannot go before their children, and go with them (noprune=false).
      const images = parseDockerImages(await engine.get("/images/json"));
      const lastTagged =
        withTimes || withCreated === true ? await inspectImages(images) : new Map<string, number>();
      const { containers, sandboxes, imageVolumes } = await usage();
      const imageTimesKnown = withTimes && (await readStoreTimes(images, lastTagged));
      return { images, containers, sandboxes, imageVolumes, imageTimesKnown };
    },
    // The Engine reports exact sizes.
    measure: () => Promise.resolve(),
    remove: async (images) => {
      const errors = new Map<string, string>();
      const alreadyGone = new Map<string, string>();
      for (const image of images) {
        const outcome = await removeImage(engine, image);
        if (outcome.error !== undefined) errors.set(image.id, outcome.error);
        else if (outcome.removedNothing)
          alreadyGone.set(
            image.id,
            "the Engine no longer had it when this agent removed it (removed by another process)",
          );
      }
      return { errors, alreadyGone };
    },
    present: async () => {
      // Everything, intermediate images too: nothing that holds content may be missed.
      const out = new Map<string, string[]>();
      const add = (key: string, holders: string[]) => {
        if (key !== "") out.set(key, [...(out.get(key) ?? []), ...holders]);
      };
      for (const image of listOf(await engine.get("/images/json?all=1"))) {
        const id = str(image.Id);
        const names = namesOf(image);
        add(id, names.length > 0 ? names : [id]);
        for (const name of names) {
          add(name, [name]);
          const at = name.indexOf("@");
          if (at >= 0) add(name.slice(at + 1), [name]);
        }
      }
      return out;
    },
    imageFsSource: "docker system df (LayersSize)",
    // Computed by the Engine on request: always fresh. `type=image` limits it to images on Engines
    // that know it (API 1.42+); older ones ignore it and size containers and volumes too.
    imageFsUsage: async () => ({
      usedBytes: parseDockerLayersSize(await engine.get("/system/df?type=image")),
      source: "docker system df (LayersSize)",
    }),
  };
}

/**
 * Removes one image and everything that names it; undefined when the Engine reports no error.
 *
 * By id the Engine removes an image, every tag and digest with it, only when at most one tag names
 * it and all its names are in one repository; otherwise it asks for `force`, which the agent never
 * sends (force would also delete an image a stopped container uses). So the extra names go first,
 * digests before tags (removing a repository's last tag also drops its digests), one DELETE each,
 * until the rest is that one repository; then the id, where the Engine checks every container,
 * running or stopped, and refuses (409) if one uses the image.
 */
async function removeImage(
  engine: EngineClient,
  image: ImageRecord,
): Promise<{ error?: string; removedNothing?: boolean }> {
  let remaining = [...image.refs];
  const untagged: string[] = [];
  // Whether any of this agent's DELETEs found something to delete (else another process did).
  let found = false;
  try {
    while (remaining.length > 1 && !isSingleReference(remaining)) {
      const next = remaining.find((r) => r.includes("@")) ?? remaining[0];
      if (next === undefined) break;
      const entries = await deleteQuiet(engine, `/images/${pathOf(next)}?noprune=false`);
      found ||= entries.found;
      const gone = new Set([next, ...entries.untagged]);
      untagged.push(...gone);
      remaining = remaining.filter((r) => !gone.has(r));
      // Its last name went, and the image with it.
      if (entries.deleted.includes(image.id)) return {};
    }
    const last = await deleteQuiet(engine, `/images/${image.id}?noprune=false`);
    // Its own only when the final DELETE removed it: a 404 there means it was gone already.
    return last.found ? {} : { removedNothing: true };
  } catch (err) {
    const text = err instanceof EngineError ? err.engineMessage : String(err);
    return {
      error:
        untagged.length > 0 && found
          ? `${text}; names removed before that: ${untagged.join(", ")}`
          : text,
    };
  }
}

/** A name as a URL path: each segment encoded (the Engine matches the decoded path). */
function pathOf(name: string): string {
  return name.split("/").map(encodeURIComponent).join("/");
}

/** A DELETE whose 404 means the name or image is gone already (`found: false`). */
async function deleteQuiet(
  engine: EngineClient,
  path: string,
): Promise<{ untagged: string[]; deleted: string[]; found: boolean }> {
  try {
    return { ...parseDeleteResponse(await engine.delete(path)), found: true };
  } catch (err) {
    if (err instanceof EngineError && err.status === 404)
      return { untagged: [], deleted: [], found: false };
    throw err;
  }
}

/**
 * The Engine's own rule (daemon/images/image_delete.go, `isSingleReference`): the names are at most
 * one tag plus digests, all of one repository. Then deleting by id removes them all.
 */
export function isSingleReference(names: readonly string[]): boolean {
  const tags = names.filter((n) => !n.includes("@"));
  if (tags.length > 1) return false;
  const repositories = new Set(names.map((n) => repositoryOf(normaliseReference(n))));
  return repositories.size === 1;
}
