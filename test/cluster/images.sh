#!/usr/bin/env bash
# Puts the project's own image into the cluster's containerd without a registry or a Docker engine:
# the built app (dist/ + production node_modules) and this machine's Node.js runtime (with the shared
# libraries it links) plus nsenter, assembled as an OCI archive and imported with ctr.
# It mirrors the published Dockerfile: WORKDIR /app, ENTRYPOINT ["node", "/app/dist/cli.js"], user
# node (uid 1000) exists; test/unit/image-layout.test.ts checks that both agree.
#
#   images.sh            build (if the app changed) and import kube-image-cleanup:dev
#   images.sh --print    print the image reference only
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=lib.sh
. "$here/lib.sh"
root="$(cd "$here/../.." && pwd)"
APP_IMAGE="${KIC_APP_IMAGE:-docker.io/library/kube-image-cleanup:dev}"
[ "${1:-}" = "--print" ] && { echo "$APP_IMAGE"; exit 0; }

mkdir -p "$KIC_IMAGES"
(cd "$root" && npm run --silent build)

# Rebuild only when the app or its dependencies changed.
key="$( (cd "$root" && find dist -type f -print0 | sort -z | xargs -0 sha256sum; sha256sum package-lock.json "$here/images.sh" "$(command -v node)") | sha256sum | cut -c1-16)"
tar_file="$KIC_IMAGES/app-$key.tar"
if [ ! -f "$tar_file" ]; then
  log "assembling $APP_IMAGE from dist/ and Node.js $(node --version)"
  work="$(mktemp -d)"
  trap 'rm -rf "$work"' EXIT
  # Layer 1: the runtime. node and nsenter with every shared library they load, at the same paths.
  rt="$work/runtime"
  mkdir -p "$rt/usr/local/bin" "$rt/usr/bin" "$rt/etc" "$rt/tmp"
  chmod 1777 "$rt/tmp"
  cp "$(readlink -f "$(command -v node)")" "$rt/usr/local/bin/node"
  cp /usr/bin/nsenter "$rt/usr/bin/nsenter"
  for lib in $( (ldd "$(command -v node)"; ldd /usr/bin/nsenter) | grep -oE '/[^ ]+\.so[^ ]*' | sort -u); do
    mkdir -p "$rt$(dirname "$lib")"
    cp -L "$lib" "$rt$lib"
  done
  printf 'root:x:0:0:root:/root:/bin/sh\nnode:x:1000:1000::/home/node:/bin/sh\n' >"$rt/etc/passwd"
  printf 'root:x:0:\nnode:x:1000:\n' >"$rt/etc/group"
  # Layer 2: the app, production dependencies only (as in the Dockerfile's final stage).
  app="$work/app/app"
  mkdir -p "$app"
  cp "$root/package.json" "$root/package-lock.json" "$app/"
  # `npm install` from the lock file, not `npm ci`: npm 11 here writes lock files without other
  # platforms' optional packages and then refuses them in `npm ci` ("Missing: @rollup/... from lock file").
  (cd "$app" && npm install --omit=dev --no-save --ignore-scripts --no-audit --no-fund --prefer-offline >/dev/null 2>&1) \
    || die "npm install --omit=dev failed while assembling the app image"
  cp -r "$root/dist" "$app/dist"
  mkdir -p "$work/app/usr/local/bin"
  ln -s /app/dist/cli.js "$work/app/usr/local/bin/kube-image-cleanup"
  chmod +x "$app/dist/cli.js"
  node "$here/oci-image.mjs" --name "$APP_IMAGE" --out "$tar_file" \
    --layer "$rt" --layer "$work/app" \
    --entrypoint '["node","/app/dist/cli.js"]' --workdir /app --env NODE_ENV=production \
    --user 1000:1000 >/dev/null
  # Keep only the newest archive.
  find "$KIC_IMAGES" -name 'app-*.tar' ! -name "app-$key.tar" -delete
fi
bash "$here/containerd.sh" start >/dev/null
ctr_k8s images import "$tar_file" >/dev/null
log "imported $APP_IMAGE ($(du -h "$tar_file" | cut -f1))"
