#!/usr/bin/env bash
# The project's own containerd (Debian package) with the CRI plugin, its own root, state and socket
# under the cache dir, the locally built pause image as sandbox image, and a bridge CNI config.
#   containerd.sh start    idempotent; prints the socket path
#   containerd.sh stop     stops sandboxes/containers, containerd and its shims, unmounts (images stay)
#   containerd.sh status
#   containerd.sh stale    exit 0 when the running containerd's config differs from what start writes
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=lib.sh
. "$here/lib.sh"

CD_DIR="$KIC_STATE/containerd"
PAUSE_IMAGE="registry.k8s.io/pause:kic"
CERTS_D="$CD_DIR/certs.d" # containerd's config_path: <registry host:port>/hosts.toml

# What both config versions start with: the version ($1), containerd's own root, state and sockets
# under the cache dir, and the socket's group; the rest of the arguments are the comment lines above
# that group, printed into the file as they were written (`stale` compares the file byte for byte, so
# the output must not change with how this script is arranged).
config_head() {
  echo "version = $1"
  shift
  cat <<TOML
root = "$CD_DIR/root"
state = "$CD_DIR/state"
[grpc]
  address = "$KIC_CONTAINERD_SOCK"
TOML
  printf '  # %s\n' "$@"
  cat <<TOML
  gid = $KIC_CONTAINERD_SOCKET_GID
[ttrpc]
  address = "$CD_DIR/containerd.sock.ttrpc"
[debug]
  address = ""
TOML
}

# The one runtime both versions run pods with (runc v2, cgroupfs), under the CRI plugin table $1 whose
# `containerd` table the caller has opened.
runc_runtime() {
  cat <<TOML
    default_runtime_name = "runc"
    [$1.containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [$1.containerd.runtimes.runc.options]
        SystemdCgroup = false
TOML
}

# containerd 2 (KICTEST_RUNTIME=containerd2): config version 3, where the CRI plugin is split into an
# images and a runtime plugin and the sandbox image is one of the pinned images.
config_containerd2() {
  config_head 3 "The socket's group for socket-mode helper pods, as in the 1.6 config below."
  cat <<TOML
[plugins.'io.containerd.internal.v1.opt']
  path = "$CD_DIR/opt"
[plugins.'io.containerd.cri.v1.images']
  snapshotter = "overlayfs"
  [plugins.'io.containerd.cri.v1.images'.pinned_images]
    sandbox = "$PAUSE_IMAGE"
  # Per-registry settings (the cluster's plain-HTTP registry), as in the version 2 config below.
  [plugins.'io.containerd.cri.v1.images'.registry]
    config_path = "$CERTS_D"
[plugins.'io.containerd.cri.v1.runtime']
  # See the version 2 config below.
  restrict_oom_score_adj = true
  [plugins.'io.containerd.cri.v1.runtime'.containerd]
$(runc_runtime "plugins.'io.containerd.cri.v1.runtime'")
  [plugins.'io.containerd.cri.v1.runtime'.cni]
    bin_dirs = ["/usr/lib/cni"]
    conf_dir = "$KIC_STATE/cni/net.d"
TOML
}

# The config.toml of the node's runtime, on stdout (write_config writes it; `stale` compares it with
# the one a running containerd was started with).
config_toml() {
  if [ "$KIC_RUNTIME" = containerd2 ]; then config_containerd2; return; fi
  config_head 2 \
    "Socket root:$KIC_CONTAINERD_SOCKET_GID mode 0660: the socket-mode helper pods run as uid 1000 in" \
    "that group (helper.socket.gid), as on a node configured for them; root clients are unaffected."
  cat <<TOML
[plugins."io.containerd.internal.v1.opt"]
  path = "$CD_DIR/opt"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "$PAUSE_IMAGE"
  # This VM withholds CAP_SYS_RESOURCE, so a negative oom_score_adj (sandboxes get -998, Guaranteed
  # pods -997) fails runc with "can't get final child's PID from pipe". Clamp to containerd's own.
  restrict_oom_score_adj = true
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
$(runc_runtime 'plugins."io.containerd.grpc.v1.cri"')
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "$KIC_STATE/cni/net.d"
  # Per-registry settings in hosts.toml files (one directory per registry host), as containerd's
  # docs recommend for 1.6 and 2.x alike (the older registry.mirrors/configs tables are deprecated).
  [plugins."io.containerd.grpc.v1.cri".registry]
    config_path = "$CERTS_D"
TOML
}

# The cluster's registry speaks plain HTTP on loopback (registry.sh). containerd would try HTTPS
# first; this file tells it what a node's operator tells it for an internal HTTP registry.
write_hosts_toml() {
  mkdir -p "$CERTS_D/$KIC_REGISTRY"
  cat >"$CERTS_D/$KIC_REGISTRY/hosts.toml" <<TOML
server = "http://$KIC_REGISTRY"

[host."http://$KIC_REGISTRY"]
  capabilities = ["pull", "resolve"]
TOML
}

write_config() {
  mkdir -p "$CD_DIR" "$KIC_STATE/cni/net.d" "$KIC_STATE/cni/cache"
  config_toml >"$CD_DIR/config.toml"
  write_hosts_toml
  # Pods get addresses on a host-only bridge: no masquerading, no route off this machine.
  cat >"$KIC_STATE/cni/net.d/10-kic-bridge.conflist" <<JSON
{
  "cniVersion": "1.0.0",
  "name": "kic",
  "plugins": [
    { "type": "bridge", "bridge": "kic0", "isGateway": true, "ipMasq": false, "hairpinMode": true,
      "ipam": { "type": "host-local", "ranges": [[{ "subnet": "$KIC_POD_CIDR" }]],
                "dataDir": "$KIC_STATE/cni/ipam" } },
    { "type": "loopback" }
  ]
}
JSON
  cat >"$CD_DIR/crictl.yaml" <<YAML
runtime-endpoint: unix://$KIC_CONTAINERD_SOCK
image-endpoint: unix://$KIC_CONTAINERD_SOCK
timeout: 30
YAML
}

build_pause() {
  local out="$KIC_BIN/pause"
  if [ ! -x "$out" ] || [ "$here/pause/main.go" -nt "$out" ]; then
    (cd "$here/pause" && GOTOOLCHAIN=local CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$out" .)
  fi
  mkdir -p "$KIC_IMAGES"
  if [ ! -f "$KIC_IMAGES/pause.tar" ] || [ "$out" -nt "$KIC_IMAGES/pause.tar" ]; then
    node "$here/oci-image.mjs" --name "$PAUSE_IMAGE" --out "$KIC_IMAGES/pause.tar" \
      --file "$out:/pause" --entrypoint '["/pause"]' >/dev/null
  fi
}

# A containerd started before its config had [grpc] gid keeps a root:root socket until it restarts;
# give the socket the group now, as containerd would have (it sets the group only when it creates it).
socket_group() {
  if [ "$(stat -c %g "$KIC_CONTAINERD_SOCK")" != "$KIC_CONTAINERD_SOCKET_GID" ]; then
    log "containerd socket: group $KIC_CONTAINERD_SOCKET_GID ([grpc] gid, taken from the config at its next start)"
    chgrp "$KIC_CONTAINERD_SOCKET_GID" "$KIC_CONTAINERD_SOCK"
  fi
}

start() {
  if is_running containerd && timeout 5 ctr --address "$KIC_CONTAINERD_SOCK" version >/dev/null 2>&1; then
    socket_group
    echo "$KIC_CONTAINERD_SOCK"; return 0
  fi
  write_config
  build_pause
  if [ "$KIC_RUNTIME" = containerd2 ]; then
    [ -x "$KIC_CONTAINERD2_BIN/containerd" ] || die "containerd $KIC_CONTAINERD2_VERSION is not built: run test/cluster/build-binaries.sh containerd2"
    log "starting containerd $KIC_CONTAINERD2_VERSION (socket $KIC_CONTAINERD_SOCK, log $KIC_LOGS/containerd.log)"
    # Its runc shim is found on PATH: 2.x's own, not 1.6's of the same name in /usr/bin. (PATH for
    # start_bg, not `env PATH=...`: is_running must see containerd as argv[0] from the start.)
    PATH="$KIC_CONTAINERD2_BIN:$PATH" start_bg containerd "$KIC_CONTAINERD2_BIN/containerd" --config "$CD_DIR/config.toml"
  else
    command -v containerd >/dev/null || die "containerd is not installed: run test/cluster/install-deps.sh"
    log "starting containerd (socket $KIC_CONTAINERD_SOCK, log $KIC_LOGS/containerd.log)"
    start_bg containerd containerd --config "$CD_DIR/config.toml"
  fi
  echo "$KIC_RUNTIME" >"$KIC_STATE/runtime"
  wait_for "containerd" 30 containerd ctr --address "$KIC_CONTAINERD_SOCK" version
  socket_group
  ctr_k8s images import "$KIC_IMAGES/pause.tar" >/dev/null
  # The CRI plugin must see the sandbox image as present and pinned (it never pulls here).
  echo "$KIC_CONTAINERD_SOCK"
}

stop() {
  if is_running containerd; then
    # Stop pods through CRI first so runc tears down their containers and mounts cleanly.
    local ids
    ids="$(timeout 10 crictl --runtime-endpoint "unix://$KIC_CONTAINERD_SOCK" pods -q 2>/dev/null || true)"
    if [ -n "$ids" ]; then
      # shellcheck disable=SC2086
      crictl_kic stopp $ids >/dev/null 2>&1 || true
      # shellcheck disable=SC2086
      crictl_kic rmp -f $ids >/dev/null 2>&1 || true
    fi
    # Containers made with ctr directly (tests) have tasks of their own.
    for c in $(timeout 10 ctr --address "$KIC_CONTAINERD_SOCK" --namespace k8s.io containers ls -q 2>/dev/null || true); do
      ctr_k8s tasks kill -s KILL "$c" >/dev/null 2>&1 || true
      ctr_k8s tasks rm -f "$c" >/dev/null 2>&1 || true
      ctr_k8s containers rm "$c" >/dev/null 2>&1 || true
    done
  fi
  stop_bg containerd 20
  # Shims of this instance carry its socket address on their command line.
  pkill -KILL -f "containerd-shim-runc-v2 .*-address $KIC_CONTAINERD_SOCK" 2>/dev/null || true
  unmount_under "$CD_DIR"
}

# Unmounts everything below a directory, deepest first (overlay rootfs, shm, sandbox mounts).
unmount_under() {
  local m
  for m in $(awk -v d="$1" 'index($2, d) == 1 { print $2 }' /proc/self/mounts | sort -r); do
    umount -l "$m" 2>/dev/null || true
  done
}

# Exit 0 when a containerd runs with another config than this script writes now (scripts of an older
# checkout started it): up.sh then restarts the cluster, so nobody tests against a stale node.
stale() {
  is_running containerd || return 1
  ! config_toml | cmp -s - "$CD_DIR/config.toml"
}

status() {
  if is_running containerd; then
    echo "containerd: running (pid $(cat "$KIC_PIDS/containerd.pid"), socket $KIC_CONTAINERD_SOCK)"
  else
    echo "containerd: stopped"
    return 1
  fi
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  stale) stale ;;
  *) die "usage: containerd.sh start|stop|status|stale" ;;
esac
