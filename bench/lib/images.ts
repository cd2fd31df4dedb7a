// Many small, distinct images for the agent benchmark, built locally (test/cluster/oci-image.mjs:
// busybox + a salt layer of a few KiB, so every image has its own digest) and merged into one OCI
// archive, so the whole set goes into containerd with a single `ctr images import`.
import { execFileSync } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { homedir, tmpdir } from "node:os";
import { join } from "node:path";
import { repoRoot } from "./output.js";

export const cacheDir =
  process.env.KIC_CACHE ??
  join(process.env.XDG_CACHE_HOME ?? join(homedir(), ".cache"), "kube-image-cleanup");
const archiveDir = join(cacheDir, "images", "bench");

interface Index {
  schemaVersion: number;
  manifests: {
    mediaType: string;
    digest: string;
    size: number;
    annotations?: Record<string, string>;
  }[];
}

export interface BenchImage {
  name: string;
  /** More names of the same image (extra tags). */
  aliases: string[];
}

/** Builds the archive of one image unless it is cached; returns its path. */
function archiveOf(name: string): string {
  const file = join(archiveDir, `${name.replace(/[/:@]/g, "_")}.tar`);
  if (!existsSync(file)) {
    mkdirSync(archiveDir, { recursive: true });
    execFileSync(
      "node",
      [
        join(repoRoot, "test/cluster/oci-image.mjs"),
        "--name",
        name,
        "--out",
        `${file}.tmp`,
        "--busybox",
        "--salt",
        name,
        "--pad",
        "4096",
        "--cmd",
        '["sleep","3600"]',
      ],
      { stdio: ["ignore", "ignore", "inherit"] },
    );
    renameSync(`${file}.tmp`, file);
  }
  return file;
}

/**
 * One OCI archive holding every image (blobs merged, one index entry per name). Cached by the list
 * of names; returns its path.
 */
export function bundleOf(images: readonly BenchImage[]): string {
  const key = execFileSync("sha256sum", { input: JSON.stringify(images), encoding: "utf8" }).slice(
    0,
    16,
  );
  const bundle = join(archiveDir, `bundle-${images.length}-${key}.tar`);
  if (existsSync(bundle)) return bundle;
  const work = mkdtempSync(join(tmpdir(), "kic-bench-bundle-"));
  try {
    const merged: Index = { schemaVersion: 2, manifests: [] };
    for (const image of images) {
      const file = archiveOf(image.name);
      execFileSync("tar", [
        "-xf",
        file,
        "-C",
        work,
        "--exclude=./index.json",
        "--exclude=./oci-layout",
      ]);
      const one = JSON.parse(
        execFileSync("tar", ["-xOf", file, "./index.json"], { encoding: "utf8" }),
      ) as Index;
      const entry = one.manifests[0];
      if (!entry) throw new Error(`${file} has no manifest`);
      for (const name of [image.name, ...image.aliases]) {
        merged.manifests.push({
          ...entry,
          annotations: {
            ...entry.annotations,
            "io.containerd.image.name": name,
            "org.opencontainers.image.ref.name": name,
          },
        });
      }
    }
    writeFileSync(join(work, "index.json"), JSON.stringify(merged));
    writeFileSync(join(work, "oci-layout"), JSON.stringify({ imageLayoutVersion: "1.0.0" }));
    execFileSync("tar", ["-cf", `${bundle}.tmp`, "-C", work, "."]);
    renameSync(`${bundle}.tmp`, bundle);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  return bundle;
}

export function ctrK8s(socket: string, args: readonly string[]): string {
  return execFileSync("ctr", ["--address", socket, "--namespace", "k8s.io", ...args], {
    encoding: "utf8",
    maxBuffer: 256 << 20,
    stdio: ["ignore", "pipe", "pipe"],
  });
}

/** Every reference in the k8s.io namespace whose name starts with `prefix`. */
export function refsWithPrefix(socket: string, prefix: string): string[] {
  return ctrK8s(socket, ["images", "ls", "-q"])
    .split("\n")
    .filter((r) => r.startsWith(prefix));
}

/** Removes the images named with `prefix` (and their id references) from containerd. */
export function removeImages(socket: string, prefix: string): void {
  const refs = refsWithPrefix(socket, prefix);
  if (refs.length === 0) return;
  // The CRI plugin's `sha256:<id>` reference keeps the content alive: remove those too.
  const ids = new Set<string>();
  for (const line of ctrK8s(socket, ["images", "ls"]).split("\n")) {
    const [ref, , digest] = line.split(/\s+/);
    if (ref && digest && refs.includes(ref)) ids.add(digest);
  }
  const idRefs = ctrK8s(socket, ["images", "ls"])
    .split("\n")
    .map((l) => l.split(/\s+/))
    .filter(
      ([ref, , digest]) => ref?.startsWith("sha256:") && digest !== undefined && ids.has(digest),
    )
    .map(([ref]) => ref ?? "");
  for (let i = 0; i < refs.length; i += 100)
    ctrK8s(socket, ["images", "rm", ...refs.slice(i, i + 100)]);
  if (idRefs.length > 0) ctrK8s(socket, ["images", "rm", "--sync", ...idRefs]);
}

export const readText = (file: string): string => readFileSync(file, "utf8");
