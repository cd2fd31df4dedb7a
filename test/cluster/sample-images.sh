#!/usr/bin/env bash
# Fills the cluster's node with small sample images built locally from busybox-static, imported as an
# air-gapped node gets them, or pushes them to the cluster's registry for pods to pull (--push):
# each has its own content (a salt), so each has its own digest and size.
#   sample-images.sh [--push] REF[=CREATED] [REF[=CREATED]...]
#     e.g. demo.local/shop/frontend:v1=2026-09-01T00:00:00Z demo.local/shop/frontend:v2
#     --push: into the registry instead of the node (registry.sh push); every REF names the registry,
#     e.g. 127.0.0.1:5100/shop/frontend:v1
#   CREATED is the config's creation time (what --keep-newest ranks by); without it the image says
#   1970, as reproducible builds do.
# Prints one JSON line per image: {"name","id","manifest","size"}; pushed, the manifest digest is
# the one the registry serves (its layers gzipped) and "size" is left out (a node's size of a pulled
# image is that of the compressed content).
# The images of one creation time are built by one process into one archive and imported by one
# `ctr images import`: tests import hundreds at a time (built and imported one by one, 500 took ~5
# minutes). Nothing is cached: building is ~0.1 s per image, and the archives of test images named
# after a random token would only pile up (earlier versions cached each one: $KIC_IMAGES/samples,
# removed here).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=lib.sh
. "$here/lib.sh"
push=no
if [ "${1:-}" = --push ]; then push=yes; shift; fi
[ "$#" -gt 0 ] || die "usage: sample-images.sh [--push] REF[=CREATED] [REF[=CREATED]...]"
rm -rf "$KIC_IMAGES/samples"
if [ "$push" = no ]; then bash "$here/containerd.sh" start >/dev/null; fi
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
declare -A groups=()
for arg in "$@"; do
  ref="${arg%%=*}"
  created="1970-01-01T00:00:00Z"
  [ "$arg" = "$ref" ] || created="${arg#*=}"
  groups[$created]+="$ref "
done
n=0
for created in "${!groups[@]}"; do
  n=$((n + 1))
  args=()
  refs=()
  for ref in ${groups[$created]}; do args+=(--name "$ref" --salt "$ref"); refs+=("$ref"); done
  # 512 KiB of filler per image so deletions free a visible amount.
  node "$here/oci-image.mjs" "${args[@]}" --out "$tmp/samples-$n.tar" --busybox --pad 524288 \
    --cmd '["sleep","3600"]' --created "$created" >>"$tmp/meta.jsonl"
  if [ "$push" = yes ]; then
    bash "$here/registry.sh" push "$tmp/samples-$n.tar" "${refs[@]}" >>"$tmp/pushed.txt"
  else
    ctr_k8s images import "$tmp/samples-$n.tar" >/dev/null
  fi
done
if [ "$push" = no ]; then cat "$tmp/meta.jsonl"; exit 0; fi
node -e '
  const fs = require("node:fs");
  const pushed = new Map(fs.readFileSync(process.argv[2], "utf8").trim().split("\n").map((l) => l.split(" ")));
  for (const line of fs.readFileSync(process.argv[1], "utf8").trim().split("\n")) {
    const { name, id } = JSON.parse(line);
    console.log(JSON.stringify({ name, id, manifest: pushed.get(name) }));
  }' "$tmp/meta.jsonl" "$tmp/pushed.txt"
