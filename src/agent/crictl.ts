// The CRI client: crictl against any CRI runtime (containerd, CRI-O, k3s). JSON output throughout,
// parsed in crictl-parse.ts.
import { canonicalId } from "../config/patterns.js";
import { errorsByRef, notFoundRefs } from "./client-output.js";
import { parseCrictlImageFsInfo } from "./image-fs.js";
import {
  CommandFailedError,
  CommandNotFoundError,
  lastLines,
  runChecked,
  type HostExec,
} from "./host-exec.js";
import { posix } from "node:path";
import { parseCtrContentAges } from "./ctr-parse.js";
import { createCtrUsageReader } from "./ctr-usage.js";
import { ctrCalls } from "./ctr-command.js";
import { CTR_IMAGE_FS_SOURCE, createCtrImageFsReader } from "./ctr-image-fs.js";
import { createCtrClocks } from "./ctr-clocks.js";
import { parseCrictlInspectiCreated } from "./image-created.js";
import {
  findSandboxImage,
  parseCrictlContainers,
  parseCrictlImages,
  parseCrictlInspectMounts,
  parseCrictlInspectp,
  parseCrictlPods,
  parseCrictlPresent,
  parseCrictlVersion,
} from "./crictl-parse.js";
import type { ContainerRecord, ImageRecord, ImageVolumeRecord, Inventory } from "./inventory.js";
import type { RuntimeAdapter, Usage } from "./runtime.js";
import { crictlClient, type CrictlTarget } from "./crictl-command.js";

/** Ids per `crictl rmi` / `inspectp` call: bounded argv, and a short window per batch. */
const BATCH = 50;
/** crictl's line for an image it does not find (`no such image <id>`; a CRI NotFound). */
const NO_SUCH_IMAGE = /no such image|not found/i;

/**
 * The CRI adapter: `(exec, socket, program = "crictl")`. crictl's default timeout is 2s: too short
 * for a big inventory or removing a large image.
 */
export const createCrictlAdapter = crictlClient("120s", crictlAdapter);

function crictlAdapter({ exec, socket, program, argv }: CrictlTarget): RuntimeAdapter {
  const crictl = (...args: string[]) => runChecked(exec, argv(...args));

  /**
   * Sandbox images by sandbox id, and the sandboxes removed since they were listed. crictl stops at
   * the first id it cannot find, so after a failed batch each id is asked alone: a pod deleted in
   * between is gone (NotFound) and dropped; any other error still fails the inventory.
   */
  const inspectSandboxes = async (ids: readonly string[]) => {
    const images = new Map<string, string>();
    const gone = new Set<string>();
    for (const batch of chunks(ids, BATCH)) {
      const r = await exec.run(argv("inspectp", "-o", "json", "--", ...batch));
      if (r.code === 0) {
        for (const [id, image] of parseCrictlInspectp(r.stdout)) images.set(id, image);
        continue;
      }
      for (const id of batch) {
        const one = await exec.run(argv("inspectp", "-o", "json", "--", id));
        if (one.code === 0) {
          for (const [i, image] of parseCrictlInspectp(one.stdout)) images.set(i, image);
        } else if (isNotFound(one.stderr)) {
          gone.add(id);
        } else {
          throw new CommandFailedError(argv("inspectp", "-o", "json", "--", id), one);
        }
      }
    }
    return { images, gone };
  };

  /**
   * Creation times from each image's config, 50 images per `inspecti` call. An image removed since
   * the listing is skipped (it is gone); any other failure fails the inventory.
   */
  const readCreated = async (images: ImageRecord[]): Promise<void> => {
    const created = new Map<string, number>();
    const ask = async (ids: string[]): Promise<boolean> => {
      const r = await exec.run(argv("inspecti", "-o", "json", "--", ...ids));
      if (r.code === 0) {
        for (const [id, ms] of parseCrictlInspectiCreated(r.stdout)) created.set(id, ms);
        return true;
      }
      if (ids.length === 1 && isNotFound(r.stderr)) return true;
      if (ids.length === 1)
        throw new CommandFailedError(argv("inspecti", "-o", "json", "--", ...ids), r);
      return false;
    };
    for (const batch of chunks(
      images.map((i) => i.id),
      BATCH,
    )) {
      if (await ask(batch)) continue;
      for (const id of batch) await ask([id]);
    }
    for (const image of images) {
      const ms = created.get(image.id);
      if (ms !== undefined) image.createdAtMs = ms;
    }
  };

  // CRI lists only the containers the CRI plugin made. On containerd, containers made with ctr
  // (or nerdctl, or any client) in CRI's namespace use its images too: ctr lists them.
  let runtimeName: string | undefined;
  let ctrAbsent = false;
  // A crictl found off PATH (RKE2, k3s) has its ctr beside it.
  const ctrProgram = program === "crictl" ? "ctr" : posix.join(posix.dirname(program), "ctr");
  const readCtrUsage = createCtrUsageReader(exec, ctrCalls(exec, ctrProgram, socket, "k8s.io"));
  const readCtrImageFs = createCtrImageFsReader(exec, socket, "k8s.io", ctrProgram);
  // Decided by the first reading, so the readings before and after the removals compare.
  let ctrFsAbsent = false;
  /**
   * ctr's containers not in `known` (CRI's, read at the same time): ctr lists right away, and only
   * the containers CRI did not list are looked at once `known` is there.
   */
  const otherContainers = async (
    known: Promise<ReadonlySet<string>>,
  ): Promise<ContainerRecord[]> => {
    if (ctrAbsent) return [];
    const listing = readCtrUsage.list();
    // Awaited below; when CRI's own lists fail first, its failure is the one reported.
    listing.catch(() => undefined);
    const skip = await known;
    try {
      return (await readCtrUsage(skip, listing)).containers;
    } catch (err) {
      // No ctr here, or not containerd (CRI-O): CRI's own list is all there is. On containerd a
      // failing ctr fails the inventory instead: containers it would show could be missed.
      if (
        err instanceof CommandNotFoundError ||
        (err instanceof CommandFailedError && runtimeName !== "containerd")
      ) {
        ctrAbsent = true;
        return [];
      }
      throw err;
    }
  };

  // `crictl ps` does not show mounts: image volumes are in each container's status (`inspect`).
  // As with inspectp, a failed batch is asked one by one and containers removed since are skipped.
  const inspectMounts = async (ids: readonly string[]): Promise<Map<string, string[]>> => {
    const out = new Map<string, string[]>();
    for (const batch of chunks(ids, BATCH)) {
      const r = await exec.run(argv("inspect", "-o", "json", ...batch));
      if (r.code === 0) {
        for (const [k, v] of parseCrictlInspectMounts(r.stdout)) out.set(k, v);
        continue;
      }
      for (const id of batch) {
        const one = await exec.run(argv("inspect", "-o", "json", id));
        if (one.code === 0) {
          for (const [k, v] of parseCrictlInspectMounts(one.stdout)) out.set(k, v);
        } else if (!isNotFound(one.stderr)) {
          throw new CommandFailedError(argv("inspect", "-o", "json", id), one);
        }
      }
    }
    return out;
  };

  const usage = async (): Promise<Usage> => {
    // Sandboxes, containers and (on containerd) ctr's containers at once: independent listings
    // (each client call is a process, through nsenter a second one), so the re-check before a
    // removal is two rounds (lists, then a look at what they list), not four.
    const podsRead = crictl("pods", "-o", "json").then(parseCrictlPods);
    const psRead = crictl("ps", "-a", "-o", "json");
    const sandboxesRead = podsRead.then(async (listed) => ({
      listed,
      ...(await inspectSandboxes(listed.map((s) => s.id))),
    }));
    const othersRead = otherContainers(
      Promise.all([podsRead, psRead]).then(
        ([listed, ps]) =>
          new Set([
            ...listed.map((s) => s.id),
            ...parseCrictlContainers(ps, new Map()).map((c) => c.id),
          ]),
      ),
    );
    // Awaited below, after CRI's own lists (whose failure is the one to report).
    othersRead.catch(() => undefined);
    const [{ listed, images, gone }, psJson] = await Promise.all([sandboxesRead, psRead]);
    const sandboxes = listed.filter((s) => !gone.has(s.id));
    for (const s of sandboxes) {
      const image = images.get(s.id);
      if (image !== undefined) s.image = image;
    }
    const podById = new Map(sandboxes.map((s) => [s.id, s.pod]));
    const containers = parseCrictlContainers(psJson, podById);
    // Only CRI's containers: image volumes exist only in pods the CRI plugin runs.
    const [mounts, others] = await Promise.all([
      inspectMounts(containers.map((c) => c.id)),
      othersRead,
    ]);
    const imageVolumes: ImageVolumeRecord[] = [];
    for (const c of containers) {
      const images = mounts.get(c.id);
      if (images === undefined || images.length === 0) continue;
      const record: ImageVolumeRecord = {
        images,
        container: { id: c.id, name: c.name, state: c.state },
      };
      if (c.pod !== undefined) record.pod = c.pod;
      imageVolumes.push(record);
    }
    containers.push(...others);
    return { containers, sandboxes, imageVolumes };
  };

  return {
    client: "crictl",
    socket,
    version: async () => {
      const version = parseCrictlVersion(await crictl("version"));
      runtimeName = version.name;
      return version;
    },
    usage,
    inventory: async ({ withTimes, withCreated }): Promise<Inventory> => {
      // Independent reads, at once: the order does not matter for safety, since the removal
      // re-checks what containers use right before each batch (execute.ts).
      const [images, { containers, sandboxes, imageVolumes }, info] = await Promise.all([
        (async () => {
          const images = parseCrictlImages(await crictl("images", "-o", "json"));
          if (withCreated === true) await readCreated(images);
          return images;
        })(),
        usage(),
        crictl("info", "-o", "json"),
      ]);
      const configuredSandboxImage = findSandboxImage(JSON.parse(info));
      const imageTimesKnown =
        withTimes && (await readContainerdTimes(exec, socket, images, ctrProgram));
      const inventory: Inventory = {
        images,
        containers,
        sandboxes,
        imageVolumes,
        imageTimesKnown,
      };
      if (configuredSandboxImage !== undefined)
        inventory.configuredSandboxImage = configuredSandboxImage;
      return inventory;
    },
    // CRI reports exact sizes.
    measure: () => Promise.resolve(),
    remove: async (images) => {
      const errors = new Map<string, string>();
      const alreadyGone = new Map<string, string>();
      for (const batch of chunks(images, BATCH)) {
        // RemoveImage by id removes every tag and digest of the image. `--`: ids are never flags.
        const ids = batch.map((i) => i.id);
        const r = await exec.run(argv("rmi", "--", ...ids));
        // crictl asks for each image's status first and says "no such image" when there is none.
        // (One removed between that question and crictl's RemoveImage goes unnoticed: the CRI
        // answers success for an image it no longer has.)
        const missing = notFoundRefs(r.stderr, ids, NO_SUCH_IMAGE);
        const byId = errorsByRef(r.stderr, ids, NO_SUCH_IMAGE);
        for (const [id, line] of byId) errors.set(id, line);
        for (const id of missing)
          if (!errors.has(id))
            alreadyGone.set(
              id,
              "the runtime no longer had it when this agent's crictl rmi asked (removed by another process)",
            );
        // A call that failed naming no image (killed at its time limit, the socket gone) says so
        // for every image of its batch: verify uses it for those still present.
        if (r.code !== 0 && byId.size === 0 && missing.size === 0)
          for (const id of ids) errors.set(id, lastLines(r.stderr));
      }
      return { errors, alreadyGone };
    },
    // CRI has no image labels; on containerd the ctr beside crictl reaches them (on CRI-O, or
    // without ctr, `read` says there is no store and --unused-for is refused).
    clocks: createCtrClocks(exec, socket, "k8s.io", ctrProgram),
    imageFsSource: `${CTR_IMAGE_FS_SOURCE} (containerd), else crictl imagefsinfo`,
    imageFsUsage: async () => {
      // On containerd, ctr's figure is computed on request; the CRI's is refreshed every 10 s and
      // would have to be waited for (image-fs.ts). Elsewhere (CRI-O: no ctr) the CRI's is all there is.
      if (!ctrFsAbsent) {
        try {
          return await readCtrImageFs();
        } catch (err) {
          if (!(err instanceof CommandNotFoundError || err instanceof CommandFailedError))
            throw err;
          ctrFsAbsent = true;
        }
      }
      return {
        ...parseCrictlImageFsInfo(await crictl("imagefsinfo", "-o", "json")),
        source: "crictl imagefsinfo",
      };
    },
    present: async () => parseCrictlPresent(await crictl("images", "-o", "json")),
  };
}

/**
 * CRI has no pull time. On containerd, the content store has one: when each blob was written
 * (`ctr content ls`, CRI's namespace k8s.io). An image's time is that of its youngest blob among
 * its config (= the CRI id) and manifests, so an image is never taken for older than it is. False
 * when ctr is missing or the socket is not containerd's (CRI-O): the caller must not guess then.
 */
async function readContainerdTimes(
  exec: HostExec,
  socket: string,
  images: ImageRecord[],
  ctrProgram: string,
): Promise<boolean> {
  let text: string;
  try {
    text = await runChecked(exec, [
      ctrProgram,
      "--address",
      socket,
      "--namespace",
      "k8s.io",
      "content",
      "ls",
    ]);
  } catch (err) {
    if (err instanceof CommandNotFoundError || err instanceof CommandFailedError) return false;
    throw err;
  }
  const ages = parseCtrContentAges(text);
  const now = Date.now();
  for (const image of images) {
    const known = [canonicalId(image.id), ...image.digests]
      .map((d) => ages.get(d))
      .filter((a): a is number => a !== undefined);
    if (known.length > 0) image.recordedAtMs = now - Math.min(...known) * 1000;
  }
  return true;
}

/** crictl's message for an object the runtime does not know (gRPC NotFound). */
export function isNotFound(stderr: string): boolean {
  return /code = NotFound/.test(stderr);
}

function chunks<T>(list: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < list.length; i += size) out.push(list.slice(i, i + size));
  return out;
}
