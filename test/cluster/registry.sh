#!/usr/bin/env bash
# The cluster's OCI registry: Debian's docker-registry (distribution 2.8) on loopback, plain HTTP,
# storage under the cluster state (cluster:down removes it with everything else), deletes enabled so
# a test can take a tag away between two runs. The node's containerd reaches it through its
# hosts.toml (containerd.sh writes it), so pods pull `127.0.0.1:5100/...` images as users pull
# theirs from a registry host with a port.
#   registry.sh start                 idempotent; prints the registry's host:port
#   registry.sh stop
#   registry.sh status
#   registry.sh push ARCHIVE REF...   copies the named images of an OCI archive (oci-image.mjs,
#                                     sample-images.sh) into the registry with skopeo; prints
#                                     "REF DIGEST" per image: the manifest digest the registry serves
#                                     (skopeo gzips the archive's uncompressed layers, as a registry
#                                     holds them, so it is not the archive's own)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=lib.sh
. "$here/lib.sh"

REG_DIR="$KIC_STATE/registry"

write_config() {
  mkdir -p "$REG_DIR/data"
  cat >"$REG_DIR/config.yml" <<YAML
version: 0.1
log:
  level: info
  fields: { service: kic-registry }
storage:
  filesystem:
    rootdirectory: $REG_DIR/data
  # Tests delete tags and manifests to make an image "no longer pullable".
  delete:
    enabled: true
  # No storage.cache: a deleted manifest must be gone at once, not served from a descriptor cache.
  maintenance:
    uploadpurging: { enabled: false }
http:
  addr: $KIC_REGISTRY
  # Signs upload state between requests; one instance on loopback, so a fixed one will do (without
  # it the registry makes one up and warns in its log at every start).
  secret: kic-local-registry
  headers:
    X-Content-Type-Options: [nosniff]
health:
  storagedriver:
    enabled: false
YAML
}

# An older down.sh (before the registry was part of the cluster) removed the state, pid file
# included, and left the registry running: such a process is ours by the config path on its command
# line, and it holds the port.
stop_orphans() {
  local p cmd
  for p in /proc/[0-9]*; do
    [ "$(readlink "$p/exe" 2>/dev/null)" = "$(command -v docker-registry)" ] || continue
    cmd="$(tr '\0' ' ' <"$p/cmdline" 2>/dev/null)" || continue
    case "$cmd" in
      *"$REG_DIR/config.yml"*)
        [ "${p#/proc/}" = "$(cat "$KIC_PIDS/docker-registry.pid" 2>/dev/null)" ] && continue
        log "stopping a registry left running by an earlier cluster (pid ${p#/proc/})"
        kill -TERM "${p#/proc/}" 2>/dev/null || true ;;
    esac
  done
}

start() {
  if is_running docker-registry && curl -fsS -o /dev/null --max-time 5 "http://$KIC_REGISTRY/v2/"; then echo "$KIC_REGISTRY"; return 0; fi
  command -v docker-registry >/dev/null || die "docker-registry is not installed: run test/cluster/install-deps.sh"
  stop_orphans
  write_config
  log "starting the registry on http://$KIC_REGISTRY (log $KIC_LOGS/docker-registry.log)"
  start_bg docker-registry docker-registry serve "$REG_DIR/config.yml"
  wait_for "registry" 30 docker-registry curl -fsS -o /dev/null "http://$KIC_REGISTRY/v2/"
  echo "$KIC_REGISTRY"
}

stop() {
  stop_bg docker-registry 10
  stop_orphans
}

status() {
  if is_running docker-registry; then
    echo "registry: running (pid $(cat "$KIC_PIDS/docker-registry.pid"), http://$KIC_REGISTRY)"
  else
    echo "registry: stopped"
    return 1
  fi
}

# skopeo reads an OCI layout by its ref.name annotation, which oci-image.mjs sets to the full
# reference. The archive is unpacked once for all its images (skopeo would unpack it per image).
push() {
  local archive="$1" ref; shift
  command -v skopeo >/dev/null || die "skopeo is not installed: run test/cluster/install-deps.sh"
  local layout
  layout="$(mktemp -d)"
  # shellcheck disable=SC2064 # expand now: the trap must remove this call's directory
  trap "rm -rf '$layout'" RETURN
  tar -xf "$archive" -C "$layout"
  for ref in "$@"; do
    case "$ref" in
      "$KIC_REGISTRY"/*) ;;
      *) die "push: $ref is not an image of the cluster's registry ($KIC_REGISTRY/...)" ;;
    esac
    # Plain HTTP on loopback, as the node's hosts.toml says; --retry-times: the registry may still
    # be settling right after a start on a loaded machine.
    skopeo copy --quiet --retry-times 2 --dest-tls-verify=false --digestfile "$layout/digest" \
      "oci:$layout:$ref" "docker://$ref" >&2 ||
      die "push: skopeo could not copy $ref to the registry (see $KIC_LOGS/docker-registry.log)"
    printf '%s %s\n' "$ref" "$(cat "$layout/digest")"
  done
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  push) shift; [ "$#" -ge 2 ] || die "usage: registry.sh push ARCHIVE REF..."; start >/dev/null; push "$@" ;;
  *) die "usage: registry.sh start|stop|status|push ARCHIVE REF..." ;;
esac
