#!/usr/bin/env bash
# Builds the project's image from its Dockerfile with a real builder and imports it into the
# cluster's containerd: what the demo, the integration and the e2e suites run is what users build.
#
# Builder: Debian's buildah as root (overlay storage, chroot isolation; no daemon). Base images
# cannot be pulled here, so the Dockerfile's base-image build arguments name local stand-ins with
# the same layout (base-images.sh). npm and the Go module proxy are reached from the build's RUN
# steps; this machine's CA bundle is lent to them as a build secret, so no layer holds it.
# The archive is cached by content (the build context, the Dockerfile, the stand-ins): a warm run
# only imports it. buildah's layer cache also spares the unchanged stages when only src/ changed.
#
#   images.sh            build (if anything it is built from changed) and import kube-image-cleanup:dev
#   images.sh --print    print the image reference only
#   images.sh --archive  build if needed, print the OCI archive's path, do not import
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=lib.sh
. "$here/lib.sh"
root="$(cd "$here/../.." && pwd)"
APP_IMAGE="${KIC_APP_IMAGE:-docker.io/library/kube-image-cleanup:dev}"
[ "${1:-}" = "--print" ] && { echo "$APP_IMAGE"; exit 0; }

# What the Dockerfile copies from the build context (test/unit/image-layout.test.ts checks that this
# list covers every COPY of the Dockerfile), plus the files that define the build itself.
CONTEXT=(package.json package-lock.json tsconfig.json tsconfig.build.json src runtime-clients)
BUILD_FILES=(Dockerfile .dockerignore)

mkdir -p "$KIC_IMAGES" "$KIC_BUILDAH/tmp"
command -v buildah >/dev/null || die "buildah is not installed: run test/cluster/install-deps.sh"
# One builder at a time per cache dir: checkouts sharing the cache share buildah's storage, and a
# build removes the working containers it leaves (below), which would be another build's (or
# base-images.sh's) if two ran at once. Whoever waited finds the archive the other one built when
# their build contexts were the same.
exec 8>>"$KIC_IMAGES/build.lock"
if ! flock -n 8; then
  log "waiting for another checkout's image build (lock $KIC_IMAGES/build.lock)"
  flock 8
fi
base_args=()
while IFS='=' read -r name ref; do
  base_args+=(--build-arg "$name=$ref")
done < <(bash "$here/base-images.sh")
[ "${#base_args[@]}" -eq 6 ] || die "base-images.sh did not name the three stand-in base images"

key="$( (cd "$root" && find "${CONTEXT[@]}" "${BUILD_FILES[@]}" -type f -print0 | sort -z | xargs -0 sha256sum
         printf '%s\n' "${base_args[@]}"; sha256sum "$here/images.sh") | sha256sum | cut -c1-16)"
tar_file="$KIC_IMAGES/app-$key.tar"
if [ ! -f "$tar_file" ]; then
  log "building $APP_IMAGE from the Dockerfile with buildah (cold: several minutes; log $KIC_IMAGES/app-build.log)"
  t0=$SECONDS
  ca=/etc/ssl/certs/ca-certificates.crt
  [ -f "$ca" ] || die "no CA bundle at $ca for the build's npm and Go downloads"
  # Working containers keep an overlay mount and their upper dir in the cache dir (failed builds had
  # left 21 here): --force-rm removes a failed build's intermediate ones, and what buildah 1.28 leaves
  # even after a good build (the working container of the Dockerfile's `FROM ${NODE_IMAGE} AS node`,
  # a stage without instructions that only names the image for later stages) goes after it.
  containers_before="$(buildah_kic containers --all --quiet 2>/dev/null | sort || true)"
  remove_left_containers() {
    local c
    comm -13 <(printf '%s\n' "$containers_before") <(buildah_kic containers --all --quiet 2>/dev/null | sort) |
      while read -r c; do buildah_kic rm "$c" >/dev/null 2>&1 || true; done
  }
  trap remove_left_containers EXIT
  # TMPDIR: buildah keeps RUN --mount=type=cache directories there; in the cache dir they persist.
  if ! (cd "$root" && TMPDIR="$KIC_BUILDAH/tmp" buildah_kic bud --isolation chroot --layers --force-rm --pull=never \
      "${base_args[@]}" \
      --secret "id=build-ca,src=$ca" --build-arg NODE_EXTRA_CA_CERTS=/run/secrets/build-ca \
      --build-arg npm_config_cafile=/run/secrets/build-ca --build-arg SSL_CERT_FILE=/run/secrets/build-ca \
      --iidfile "$tar_file.iid" --file Dockerfile .) >"$KIC_IMAGES/app-build.log" 2>&1; then
    die "buildah bud failed; last lines of $KIC_IMAGES/app-build.log:
$(tail -n 30 "$KIC_IMAGES/app-build.log")"
  fi
  # gzip layers, as a registry serves them: the archive's size is what every node would pull.
  # By image id, not by a tag: another worktree's build may have moved a shared tag meanwhile.
  buildah_kic push --quiet --compression-format gzip "$(cat "$tar_file.iid")" \
    "oci-archive:$tar_file.partial:$APP_IMAGE" || die "buildah push to an OCI archive failed"
  mv "$tar_file.partial" "$tar_file"
  rm -f "$tar_file.iid"
  log "built $APP_IMAGE in $((SECONDS - t0)) s"
  # Keep the three newest archives (worktrees sharing this cache take turns). buildah's untagged
  # images stay: they are its layer cache.
  find "$KIC_IMAGES" -maxdepth 1 -name 'app-*.tar' -printf '%T@ %p\n' | sort -rn | tail -n +4 \
    | cut -d' ' -f2- | xargs -r rm -f
fi
flock -u 8
exec 8>&-
touch "$tar_file"
if [ "${1:-}" = "--archive" ]; then echo "$tar_file"; exit 0; fi
bash "$here/containerd.sh" start >/dev/null
ctr_k8s images import "$tar_file" >/dev/null
log "imported $APP_IMAGE ($(du -h "$tar_file" | cut -f1) archive)"
