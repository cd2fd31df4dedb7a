#!/usr/bin/env bash
# Fills the cluster's node with small sample images built locally from busybox-static (no registry):
# each has its own content (a salt), so each has its own digest and size.
#   sample-images.sh REF[=CREATED] [REF[=CREATED]...]
#     e.g. demo.local/shop/frontend:v1=2026-09-01T00:00:00Z demo.local/shop/frontend:v2
#   CREATED is the config's creation time (what --keep-newest ranks by); without it the image says
#   1970, as reproducible builds do.
# Prints one JSON line per image: {"name","id","size"}.
# The images of one creation time are built by one process into one archive and imported by one
# `ctr images import`: tests import hundreds at a time (built and imported one by one, 500 took ~5
# minutes). Nothing is cached: building is ~0.1 s per image, and the archives of test images named
# after a random token would only pile up (earlier versions cached each one: $KIC_IMAGES/samples,
# removed here).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=lib.sh
. "$here/lib.sh"
[ "$#" -gt 0 ] || die "usage: sample-images.sh REF[=CREATED] [REF[=CREATED]...]"
rm -rf "$KIC_IMAGES/samples"
bash "$here/containerd.sh" start >/dev/null
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
  for ref in ${groups[$created]}; do args+=(--name "$ref" --salt "$ref"); done
  # 512 KiB of filler per image so deletions free a visible amount.
  node "$here/oci-image.mjs" "${args[@]}" --out "$tmp/samples-$n.tar" --busybox --pad 524288 \
    --cmd '["sleep","3600"]' --created "$created" >>"$tmp/meta.jsonl"
  ctr_k8s images import "$tmp/samples-$n.tar" >/dev/null
done
cat "$tmp/meta.jsonl"
