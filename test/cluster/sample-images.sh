#!/usr/bin/env bash
# Fills the cluster's node with small sample images built locally from busybox-static (no registry):
# each has its own content (a salt), so each has its own digest and size.
#   sample-images.sh REF [REF...]     e.g. demo.local/shop/frontend:v1 demo.local/shop/frontend:v2
# Prints one JSON line per image: {"name","id","size"}. Archives are cached by name.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=lib.sh
. "$here/lib.sh"
[ "$#" -gt 0 ] || die "usage: sample-images.sh REF [REF...]"
mkdir -p "$KIC_IMAGES/samples"
bash "$here/containerd.sh" start >/dev/null
for ref in "$@"; do
  file="$KIC_IMAGES/samples/$(printf '%s' "$ref" | tr '/:@' '___').tar"
  meta="$file.json"
  if [ ! -f "$file" ] || [ ! -f "$meta" ]; then
    # 512 KiB of filler per image so deletions free a visible amount.
    node "$here/oci-image.mjs" --name "$ref" --out "$file" --busybox --salt "$ref" --pad 524288 \
      --cmd '["sleep","3600"]' >"$meta"
  fi
  ctr_k8s images import "$file" >/dev/null
  cat "$meta"
done
