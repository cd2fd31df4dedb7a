# Shared settings for the local cluster scripts. Sourced, never executed.
#
# Everything the cluster needs (binaries, build caches, certificates, runtime state, logs) lives in
# one cache directory outside the git tree, so a fresh clone on a warm machine reuses it.

KIC_CACHE="${KIC_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kube-image-cleanup}"
KIC_BIN="$KIC_CACHE/bin"            # built binaries, one stamp file per pinned version
KIC_BUILD="$KIC_CACHE/build"        # generated Go wrapper modules
KIC_STATE="$KIC_CACHE/cluster"      # per-cluster state: removed by cluster:down
KIC_LOGS="$KIC_STATE/logs"          # one log file per component
KIC_IMAGES="$KIC_CACHE/images"      # OCI archives built locally (pause, test images, app)

# Pinned versions (see test/cluster/README.md for why these).
K8S_VERSION="${K8S_VERSION:-v1.34.4}"
ETCD_VERSION="${ETCD_VERSION:-v3.5.21}"
CRICTL_VERSION="${CRICTL_VERSION:-v1.34.0}"
KWOK_VERSION="${KWOK_VERSION:-v0.7.0}"
HELM_VERSION="${HELM_VERSION:-v3.17.3}"

# Ports, all on loopback.
KIC_ETCD_PORT="${KIC_ETCD_PORT:-23790}"
KIC_ETCD_PEER_PORT="${KIC_ETCD_PEER_PORT:-23800}"
KIC_API_PORT="${KIC_API_PORT:-16443}"
KIC_KUBELET_PORT="${KIC_KUBELET_PORT:-10250}"
KIC_NODE_NAME="${KIC_NODE_NAME:-kic-node}"
KIC_SERVICE_CIDR="10.233.0.0/24"
KIC_POD_CIDR="10.234.0.0/24"

KIC_CONTAINERD_SOCK="$KIC_STATE/containerd/containerd.sock"
KIC_KUBECONFIG="$KIC_STATE/admin.kubeconfig"

export PATH="$KIC_BIN:$PATH"

log() { printf '[cluster %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { printf '[cluster] ERROR: %s\n' "$*" >&2; exit 1; }

# --- process helpers: every component runs in the background, its pid in $KIC_STATE/pids, its log in
# $KIC_LOGS, so cluster:down can stop exactly what cluster:up started.
KIC_PIDS="$KIC_STATE/pids"

is_running() { # name: its pid file names a live process whose program is that component
  local f="$KIC_PIDS/$1.pid" pid argv0
  [ -f "$f" ] || return 1
  pid="$(cat "$f")"
  # A stale pid file (killed session, reboot) may name a pid reused by something else: check argv[0].
  argv0="$(tr '\0' '\n' <"/proc/$pid/cmdline" 2>/dev/null | head -n 1)" || return 1
  [ "$(basename -- "${argv0:-/}")" = "$1" ]
}

start_bg() { # name command...
  local name="$1"; shift
  mkdir -p "$KIC_PIDS" "$KIC_LOGS"
  setsid "$@" >>"$KIC_LOGS/$name.log" 2>&1 </dev/null &
  echo $! >"$KIC_PIDS/$name.pid"
}

stop_bg() { # name [seconds]
  local f="$KIC_PIDS/$1.pid" pid i
  [ -f "$f" ] || return 0
  pid="$(cat "$f")"
  if is_running "$1"; then
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < ${2:-20} * 10; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$f"
}

wait_for() { # description seconds logname command...
  local what="$1" secs="$2" logname="$3" i; shift 3
  for ((i = 0; i < secs * 5; i++)); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    if [ -n "$logname" ] && ! is_running "$logname"; then
      die "$what: $logname exited; last lines of $KIC_LOGS/$logname.log:
$(tail -n 20 "$KIC_LOGS/$logname.log" 2>/dev/null)"
    fi
    sleep 0.2
  done
  die "$what: not ready after ${secs}s; see $KIC_LOGS/$logname.log"
}

ctr_k8s() { ctr --address "$KIC_CONTAINERD_SOCK" --namespace k8s.io "$@"; }
crictl_kic() { crictl --runtime-endpoint "unix://$KIC_CONTAINERD_SOCK" --image-endpoint "unix://$KIC_CONTAINERD_SOCK" "$@"; }
