#!/usr/bin/env node
// Assembles an OCI image archive (image layout in a tar) from local files, for `ctr images import`.
// No registry and no Docker engine exist here, so every image the local cluster runs is made this way.
//
// Usage:
//   node oci-image.mjs --name REF [--name REF...] --out FILE.tar [--layer DIR]... [--file SRC:DST]...
//                      [--busybox] [--salt TEXT --pad BYTES] [--entrypoint JSON] [--cmd JSON]
//                      [--workdir DIR] [--env K=V]... [--user UID] [--created ISO-TIME]
//
//   --name      full reference, e.g. docker.io/library/kic-test:a1 (stored as io.containerd.image.name);
//               several --name with as many --salt make one archive of that many images that share
//               every layer but their salt (one process and one `ctr images import` for hundreds of
//               test images: built one by one they took ~0.6 s each)
//   --created   the configs' creation time (default 1970-01-01T00:00:00Z, as reproducible builds write)
//   --layer     a directory whose contents become one layer (repeatable, in order)
//   --file      one file copied into a final layer at DST (repeatable)
//   --busybox   add /bin/busybox (busybox-static) and its applet links as a layer
//   --salt/--pad  add /kic-salt holding BYTES of deterministic bytes derived from TEXT, so each test
//               image has its own digest and a known size
// Layers are uncompressed tars with fixed mtimes and owners, so the same input gives the same digest.
import { createHash } from "node:crypto";
import { execFileSync } from "node:child_process";
import { mkdtempSync, mkdirSync, writeFileSync, copyFileSync, symlinkSync, rmSync, chmodSync, statSync, renameSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { parseArgs } from "node:util";

const { values: opt } = parseArgs({
  options: {
    name: { type: "string", multiple: true, default: [] },
    out: { type: "string" },
    layer: { type: "string", multiple: true, default: [] },
    file: { type: "string", multiple: true, default: [] },
    busybox: { type: "boolean", default: false },
    salt: { type: "string", multiple: true, default: [] },
    pad: { type: "string", default: "0" },
    entrypoint: { type: "string" },
    cmd: { type: "string" },
    workdir: { type: "string" },
    env: { type: "string", multiple: true, default: [] },
    user: { type: "string" },
    created: { type: "string", default: "1970-01-01T00:00:00Z" },
  },
});
if (opt.name.length === 0 || !opt.out) {
  console.error("oci-image: --name and --out are required");
  process.exit(2);
}
if (opt.name.length > 1 && opt.salt.length !== opt.name.length) {
  console.error("oci-image: several --name need one --salt each (images of one archive differ by their salt)");
  process.exit(2);
}

const work = mkdtempSync(join(tmpdir(), "kic-oci-"));
const blobs = join(work, "layout", "blobs", "sha256");
mkdirSync(blobs, { recursive: true });

function sha256(buf) {
  return createHash("sha256").update(buf).digest("hex");
}
function putBlob(buf, mediaType) {
  const digest = sha256(buf);
  writeFileSync(join(blobs, digest), buf);
  return { mediaType, digest: `sha256:${digest}`, size: buf.length };
}
/** A reproducible tar of `dir`'s contents (GNU tar). */
function tarDir(dir) {
  return execFileSync("tar", ["--sort=name", "--mtime=@0", "--owner=0", "--group=0", "--numeric-owner",
    "--format=posix", "--pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime",
    "-C", dir, "-cf", "-", "."], { maxBuffer: 1 << 30 });
}

const layerDirs = [];
if (opt.busybox) {
  const dir = join(work, "busybox");
  mkdirSync(join(dir, "bin"), { recursive: true });
  copyFileSync("/bin/busybox", join(dir, "bin", "busybox"));
  chmodSync(join(dir, "bin", "busybox"), 0o755);
  const applets = execFileSync("/bin/busybox", ["--list"], { encoding: "utf8" }).split("\n").filter(Boolean);
  for (const a of applets) if (a !== "busybox") symlinkSync("busybox", join(dir, "bin", a));
  mkdirSync(join(dir, "tmp"));
  layerDirs.push(dir);
}
layerDirs.push(...opt.layer);
/** The last layer: the --file files and, when salted, this image's /kic-salt (or none at all). */
function extraLayerDir(salt) {
  const extra = join(work, "extra");
  rmSync(extra, { recursive: true, force: true });
  mkdirSync(extra);
  let used = false;
  for (const spec of opt.file) {
    const i = spec.lastIndexOf(":");
    const src = spec.slice(0, i), dst = join(extra, spec.slice(i + 1));
    mkdirSync(dirname(dst), { recursive: true });
    copyFileSync(src, dst);
    chmodSync(dst, statSync(src).mode & 0o777);
    used = true;
  }
  if (salt !== undefined) {
    // Deterministic filler: a hash chain seeded by the salt, so size and digest are predictable.
    const n = Number(opt.pad);
    const out = Buffer.alloc(n + salt.length + 1);
    out.write(`${salt}\n`);
    let block = createHash("sha256").update(salt).digest();
    for (let off = salt.length + 1; off < out.length; off += block.length) {
      block.copy(out, off);
      block = createHash("sha256").update(block).digest();
    }
    writeFileSync(join(extra, "kic-salt"), out);
    used = true;
  }
  return used ? extra : undefined;
}

function layerOf(dir) {
  const tar = tarDir(dir);
  return { desc: putBlob(tar, "application/vnd.oci.image.layer.v1.tar"), diffId: `sha256:${sha256(tar)}` };
}
const shared = layerDirs.map(layerOf); // tarred once for every image of the archive
const parse = (s) => (s === undefined ? undefined : JSON.parse(s));
const index = { schemaVersion: 2, manifests: [] };
/** Docker's `manifest.json` beside the OCI layout, over the same blobs (see the end). */
const dockerManifest = [];
const printed = [];
opt.name.forEach((name, i) => {
  const extraDir = extraLayerDir(opt.salt[i]);
  const own = [...shared, ...(extraDir === undefined ? [] : [layerOf(extraDir)])];
  const layers = own.map((l) => l.desc);
  const config = {
    created: opt.created,
    architecture: "amd64",
    os: "linux",
    config: {
      Entrypoint: parse(opt.entrypoint),
      Cmd: parse(opt.cmd),
      WorkingDir: opt.workdir,
      Env: ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", ...opt.env],
      User: opt.user,
    },
    rootfs: { type: "layers", diff_ids: own.map((l) => l.diffId) },
  };
  const configDesc = putBlob(Buffer.from(JSON.stringify(config)), "application/vnd.oci.image.config.v1+json");
  const manifest = { schemaVersion: 2, mediaType: "application/vnd.oci.image.manifest.v1+json", config: configDesc, layers };
  const manifestDesc = putBlob(Buffer.from(JSON.stringify(manifest)), "application/vnd.oci.image.manifest.v1+json");
  dockerManifest.push({
    Config: `blobs/sha256/${configDesc.digest.slice(7)}`,
    // Docker loads only tagged names; a name with a digest stays untagged.
    RepoTags: name.includes("@") ? [] : [name.includes(":", name.lastIndexOf("/")) ? name : `${name}:latest`],
    Layers: layers.map((l) => `blobs/sha256/${l.digest.slice(7)}`),
  });
  // ref.name is the full reference too, not only the tag: images of one archive may share a tag
  // (app:v1, keep:v1), and skopeo (registry.sh push) picks an image of a layout by its ref.name.
  index.manifests.push({
    ...manifestDesc,
    platform: { architecture: "amd64", os: "linux" },
    annotations: { "io.containerd.image.name": name, "org.opencontainers.image.ref.name": name },
  });
  // The caller gets each image's identity on stdout: config digest (= CRI image id) and content size.
  const size = configDesc.size + manifestDesc.size + layers.reduce((a, l) => a + l.size, 0);
  printed.push(JSON.stringify({ name, id: configDesc.digest, manifest: manifestDesc.digest, size }));
});
writeFileSync(join(work, "layout", "index.json"), JSON.stringify(index));
writeFileSync(join(work, "layout", "oci-layout"), JSON.stringify({ imageLayoutVersion: "1.0.0" }));
// Docker Engine before 25 loads only its own archive format (`POST /images/load` reads manifest.json):
// the same blobs listed that way make one archive that containerd, CRI-O (via buildah) and dockerd
// all load, as `docker save` of Docker 25+ writes it. The OCI layout wins where both are read.
writeFileSync(join(work, "layout", "manifest.json"), JSON.stringify(dockerManifest));
writeFileSync(`${opt.out}.tmp`, tarDir(join(work, "layout")));
renameSync(`${opt.out}.tmp`, opt.out);
rmSync(work, { recursive: true, force: true });
for (const line of printed) console.log(line);
