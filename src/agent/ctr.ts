// The containerd client: ctr, in one namespace (k8s.io: where the CRI plugin keeps Kubernetes'
// images). Its calls live here; its tables are parsed in ctr-parse.ts, what containers run is read
// in ctr-usage.ts.
import { arch } from "node:os";
import { isImageId } from "../config/patterns.js";
import { errorsByRef, notFoundRefs } from "./client-output.js";
import { findSandboxImage } from "./crictl-parse.js";
import {
  groupCtrImages,
  parseCtrContentAges,
  parseCtrImageList,
  parseCtrVersion,
} from "./ctr-parse.js";
import { createCtrUsageReader } from "./ctr-usage.js";
import { CTR_IMAGE_FS_SOURCE, createCtrImageFsReader } from "./ctr-image-fs.js";
import { createCtrClocks } from "./ctr-clocks.js";
import { lastLines, type HostExec } from "./host-exec.js";
import { inParallel } from "./in-parallel.js";
import type { Inventory } from "./inventory.js";
import type { RuntimeAdapter } from "./runtime.js";
import { parseConfigCreated } from "./image-created.js";
import { ctrCalls } from "./ctr-command.js";

const BATCH = 50;

export function createCtrAdapter(
  exec: HostExec,
  socket: string,
  namespace: string,
  /** ctr on PATH, or a path to it (RKE2 keeps it off PATH: see client-locations.ts). */
  program = "ctr",
): RuntimeAdapter {
  const calls = ctrCalls(exec, program, socket, namespace);
  const { argv: ctrArgv, run: ctr } = calls;

  const usage = createCtrUsageReader(exec, calls);

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
      const alreadyGone = new Map<string, string>();
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
        const missing = notFoundRefs(r.stderr, refs, /image not found/);
        for (const image of batch) {
          const ref = image.refs.find((x) => byRef.has(x));
          if (ref !== undefined) errors.set(image.id, byRef.get(ref) ?? "");
          // Its own only when this call removed every reference: a reference someone else removed
          // first may have been the one that freed the content.
          const gone = image.refs.filter((x) => missing.has(x)).length;
          if (ref === undefined && gone > 0)
            alreadyGone.set(
              image.id,
              gone === image.refs.length
                ? "every reference was gone before this agent's ctr images rm (removed by another process)"
                : `${String(gone)} of its ${String(image.refs.length)} references were gone before this agent's ctr images rm (removed by another process at the same time)`,
            );
        }
        // A call that failed without naming a reference (killed at its time limit, the socket gone)
        // says so for every image of its batch: verify uses it for those still present.
        if (r.code !== 0 && byRef.size === 0)
          for (const image of batch) errors.set(image.id, lastLines(r.stderr));
      }
      return { errors, alreadyGone };
    },
    clocks: createCtrClocks(exec, socket, namespace, program),
    imageFsSource: CTR_IMAGE_FS_SOURCE,
    imageFsUsage: createCtrImageFsReader(exec, socket, namespace, program),
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
