#!/usr/bin/env node
// Assembles an OCI image archive (image layout in a tar) from local files, for `ctr images import`.
// No registry and no Docker engine exist here, so every image the local cluster runs is made this way.
//
// Usage:
//   node oci-image.mjs --name REF --out FILE.tar [--layer DIR]... [--file SRC:DST]...
//                      [--busybox] [--salt TEXT --pad BYTES] [--entrypoint JSON] [--cmd JSON]
//                      [--workdir DIR] [--env K=V]... [--user UID]
//
//   --name      full reference, e.g. docker.io/library/kic-test:a1 (stored as io.containerd.image.name)
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
    name: { type: "string" },
    out: { type: "string" },
    layer: { type: "string", multiple: true, default: [] },
    file: { type: "string", multiple: true, default: [] },
    busybox: { type: "boolean", default: false },
    salt: { type: "string" },
    pad: { type: "string", default: "0" },
    entrypoint: { type: "string" },
    cmd: { type: "string" },
    workdir: { type: "string" },
    env: { type: "string", multiple: true, default: [] },
    user: { type: "string" },
  },
});
if (!opt.name || !opt.out) {
  console.error("oci-image: --name and --out are required");
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
const extra = join(work, "extra");
mkdirSync(extra);
let extraUsed = false;
for (const spec of opt.file) {
  const i = spec.lastIndexOf(":");
  const src = spec.slice(0, i), dst = join(extra, spec.slice(i + 1));
  mkdirSync(dirname(dst), { recursive: true });
  copyFileSync(src, dst);
  chmodSync(dst, statSync(src).mode & 0o777);
  extraUsed = true;
}
if (opt.salt !== undefined) {
  // Deterministic filler: a hash chain seeded by the salt, so size and digest are predictable.
  const n = Number(opt.pad);
  const out = Buffer.alloc(n + opt.salt.length + 1);
  out.write(`${opt.salt}\n`);
  let block = createHash("sha256").update(opt.salt).digest();
  for (let off = opt.salt.length + 1; off < out.length; off += block.length) {
    block.copy(out, off);
    block = createHash("sha256").update(block).digest();
  }
  writeFileSync(join(extra, "kic-salt"), out);
  extraUsed = true;
}
if (extraUsed) layerDirs.push(extra);

const layers = [], diffIds = [];
for (const dir of layerDirs) {
  const tar = tarDir(dir);
  layers.push(putBlob(tar, "application/vnd.oci.image.layer.v1.tar"));
  diffIds.push(`sha256:${sha256(tar)}`);
}
const parse = (s) => (s === undefined ? undefined : JSON.parse(s));
const config = {
  created: "1970-01-01T00:00:00Z",
  architecture: "amd64",
  os: "linux",
  config: {
    Entrypoint: parse(opt.entrypoint),
    Cmd: parse(opt.cmd),
    WorkingDir: opt.workdir,
    Env: ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", ...opt.env],
    User: opt.user,
  },
  rootfs: { type: "layers", diff_ids: diffIds },
};
const configDesc = putBlob(Buffer.from(JSON.stringify(config)), "application/vnd.oci.image.config.v1+json");
const manifest = { schemaVersion: 2, mediaType: "application/vnd.oci.image.manifest.v1+json", config: configDesc, layers };
const manifestDesc = putBlob(Buffer.from(JSON.stringify(manifest)), "application/vnd.oci.image.manifest.v1+json");
const tag = opt.name.includes(":") ? opt.name.slice(opt.name.lastIndexOf(":") + 1) : "latest";
const index = {
  schemaVersion: 2,
  manifests: [{
    ...manifestDesc,
    platform: { architecture: "amd64", os: "linux" },
    annotations: { "io.containerd.image.name": opt.name, "org.opencontainers.image.ref.name": tag },
  }],
};
writeFileSync(join(work, "layout", "index.json"), JSON.stringify(index));
writeFileSync(join(work, "layout", "oci-layout"), JSON.stringify({ imageLayoutVersion: "1.0.0" }));
writeFileSync(`${opt.out}.tmp`, tarDir(join(work, "layout")));
renameSync(`${opt.out}.tmp`, opt.out);
rmSync(work, { recursive: true, force: true });
// The caller gets the image's identity on stdout: config digest (= CRI image id) and content size.
const size = configDesc.size + manifestDesc.size + layers.reduce((a, l) => a + l.size, 0);
console.log(JSON.stringify({ name: opt.name, id: configDesc.digest, manifest: manifestDesc.digest, size }));
