# Shared settings for the local cluster scripts. Sourced, never executed.
#
# Everything the cluster needs (binaries, build caches, certificates, runtime state, logs) lives in
# one cache directory outside the git tree, so a fresh clone on a warm machine reuses it.

KIC_CACHE="${KIC_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kube-image-cleanup}"
KIC_SCRIPTS="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)" # this directory (up.sh, down.sh, ...)
KIC_BIN="$KIC_CACHE/bin"            # built binaries, one stamp file per pinned version
KIC_BUILD="$KIC_CACHE/build"        # generated Go wrapper modules
KIC_STATE="$KIC_CACHE/cluster"      # per-cluster state: removed by cluster:down
KIC_LOGS="$KIC_STATE/logs"          # one log file per component
KIC_IMAGES="$KIC_CACHE/images"      # OCI archives built locally (pause, test images, app)

# Pinned versions (see test/cluster/README.md for why these). Only KIC_-prefixed variables override
# them: a user's own K8S_VERSION or HELM_VERSION (set for other tools) must not change what is built.
KIC_K8S_VERSION="${KIC_K8S_VERSION:-v1.34.4}"
KIC_ETCD_VERSION="${KIC_ETCD_VERSION:-v3.5.21}"
KIC_CRICTL_VERSION="${KIC_CRICTL_VERSION:-v1.34.0}"
KIC_KWOK_VERSION="${KIC_KWOK_VERSION:-v0.7.0}"
KIC_HELM_VERSION="${KIC_HELM_VERSION:-v3.17.3}"
# containerd 2.x, built beside Debian's 1.6 (the default runtime) into its own directory. v2.4.2 is
# also the image's ctr (runtime-clients/ctr).
KIC_CONTAINERD2_VERSION="${KIC_CONTAINERD2_VERSION:-v2.4.2}"
KIC_CONTAINERD2_BIN="$KIC_BIN/containerd2"
# actionlint checks .github/workflows/ in the unit suite (test/unit/release/workflows.test.ts).
KIC_ACTIONLINT_VERSION="${KIC_ACTIONLINT_VERSION:-v1.7.12}"
# CRI-O, for the agent's integration suite only (the cluster's node runs containerd).
KIC_CRIO_VERSION="${KIC_CRIO_VERSION:-v1.34.0}"
KIC_CRIO_BIN="$KIC_BIN/crio"
# The oldest Go that builds all of the above (their go.mod files say `go 1.24`; Debian 12's own
# golang-go is 1.19). build-binaries.sh also checks each module's own `go` line.
KIC_GO_MIN="1.24"

# Ports, all on loopback.
KIC_ETCD_PORT="${KIC_ETCD_PORT:-23790}"
KIC_ETCD_PEER_PORT="${KIC_ETCD_PEER_PORT:-23800}"
KIC_API_PORT="${KIC_API_PORT:-16443}"
KIC_KUBELET_PORT="${KIC_KUBELET_PORT:-10250}"
KIC_NODE_NAME="${KIC_NODE_NAME:-kic-node}"
# The cluster's OCI registry (registry.sh), plain HTTP on loopback. Its host:port is the first
# component of the images pods pull from it (127.0.0.1:5100/team/app:v1), as a user's registry host
# with a port; the node's containerd is told to speak plain HTTP to it in its hosts.toml. Not 5000:
# that is where the Debian package's own service listens (on every address) where systemd starts it.
KIC_REGISTRY_PORT="${KIC_REGISTRY_PORT:-5100}"
KIC_REGISTRY="127.0.0.1:$KIC_REGISTRY_PORT"
KIC_SERVICE_CIDR="10.233.0.0/24"
KIC_POD_CIDR="10.234.0.0/24"

KIC_CONTAINERD_SOCK="$KIC_STATE/containerd/containerd.sock"

# The node's runtime: `containerd` (Debian's 1.6, the default) or `containerd2` (the pinned 2.x built
# by build-binaries.sh; its node also has the ImageVolume feature gate on). Chosen with
# KICTEST_RUNTIME, not a KIC_ variable: the CLI reads every exported KIC_ variable as an option and
# refuses unknown ones (exit 2), and the suites run the CLI with this environment, so
# `export KIC_RUNTIME=...` would fail every CLI test. The running cluster's runtime is recorded in
# $KIC_STATE/runtime: up.sh refuses to switch a running cluster (cluster:down first).
KIC_RUNTIME="${KICTEST_RUNTIME:-containerd}"
case "$KIC_RUNTIME" in
  containerd | containerd2) ;;
  *) printf '[cluster] ERROR: KICTEST_RUNTIME=%s: unknown runtime; use containerd (1.6, default) or containerd2 (%s)\n' \
       "$KIC_RUNTIME" "$KIC_CONTAINERD2_VERSION" >&2; exit 2 ;;
esac
# The socket's group (containerd's [grpc] gid), as an operator configures a node for unprivileged
# helper pods (helper.mode=socket, helper.socket.gid): a group that has nothing but the socket.
# Overridden with KICTEST_CONTAINERD_SOCKET_GID (a KIC_ variable would be read by the CLI, see above).
KIC_CONTAINERD_SOCKET_GID="${KICTEST_CONTAINERD_SOCKET_GID:-1800}"
KIC_KUBECONFIG="$KIC_STATE/admin.kubeconfig"

# Go from go.dev/dl lives in /usr/local/go; use it when no Go is on PATH at all (a Go that is on PATH
# is the user's choice: require_go says when it is too old).
if ! command -v go >/dev/null 2>&1 && [ -x /usr/local/go/bin/go ]; then PATH="/usr/local/go/bin:$PATH"; fi
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
  # The component gets stdin/stdout/stderr and nothing else of ours. A lock descriptor it inherited
  # (fd 9, the cluster lock below, or any `flock FILE cmd` a caller wrapped us in) would stay held for
  # as long as the component runs, and cluster:down or the next locked command would wait forever.
  (
    for fd in /proc/"$BASHPID"/fd/*; do
      fd="${fd##*/}"
      if [ "$fd" -gt 2 ]; then eval "exec $fd>&-" 2>/dev/null || true; fi
    done
    exec setsid "$@" >>"$KIC_LOGS/$name.log" 2>&1 </dev/null
  ) &
  echo $! >"$KIC_PIDS/$name.pid"
}

stop_bg() { # name [seconds]
  local f="$KIC_PIDS/$1.pid" pid i
  [ -f "$f" ] || return 0
  pid="$(cat "$f")"
  if is_running "$1"; then
    kill -TERM "$pid" 2>/dev/null || true
    # is_running, not `kill -0`: an exited component nobody has reaped yet (a zombie; this sandbox's
    # pid 1 reaps late) is gone for our purposes, and kill -0 would wait out the whole timeout.
    for ((i = 0; i < ${2:-20} * 10; i++)); do is_running "$1" || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$f"
}

# Waits up to `seconds` of wall-clock time (not loop turns: a probe itself can take seconds on a busy
# machine) for `command` to succeed. Each probe is cut off after KIC_PROBE_TIMEOUT seconds (default
# 5) or the time left, whichever is less, so one hanging probe cannot stretch the wait.
version_at_least() { # have want: "1.26.8" >= "1.24"?
  [ "$(printf '%s\n%s\n' "$2" "$1" | sort -V | head -n 1)" = "$2" ]
}

require_go() { # [minimum, default $KIC_GO_MIN]: Go on PATH, new enough, or a message saying what to do
  local want="${1:-$KIC_GO_MIN}" have
  command -v go >/dev/null 2>&1 || die "Go $want or newer is needed to build the cluster's binaries and none is on PATH.
Install it from https://go.dev/dl (e.g. into /usr/local/go; Debian 12's golang-go is 1.19, too old)."
  have="$(go env GOVERSION 2>/dev/null)"; have="${have#go}"
  version_at_least "$have" "$want" || die "Go $want or newer is needed to build the cluster's binaries; $(command -v go) is $have (Debian 12's golang-go is 1.19, too old).
Install a newer Go from https://go.dev/dl (e.g. into /usr/local/go) and put its bin directory first on PATH."
}

cluster_running() { # every component a test needs runs (kwok is for benchmarks only)
  local c
  for c in containerd etcd kube-apiserver kube-controller-manager kube-scheduler kubelet; do
    is_running "$c" || return 1
  done
}

wait_for() { # description seconds logname command...
  local what="$1" secs="$2" logname="$3" deadline left; shift 3
  deadline=$((SECONDS + secs))
  while :; do
    left=$((deadline - SECONDS))
    [ "$left" -gt 0 ] || break
    if timeout -k 1 "$((left < ${KIC_PROBE_TIMEOUT:-5} ? left : ${KIC_PROBE_TIMEOUT:-5}))" "$@" >/dev/null 2>&1; then
      return 0
    fi
    if [ -n "$logname" ] && ! is_running "$logname"; then
      die "$what: $logname exited; last lines of $KIC_LOGS/$logname.log:
$(tail -n 20 "$KIC_LOGS/$logname.log" 2>/dev/null)"
    fi
    sleep 0.2
  done
  die "$what: not ready after ${secs}s${logname:+; see $KIC_LOGS/$logname.log}"
}

ctr_k8s() { ctr --address "$KIC_CONTAINERD_SOCK" --namespace k8s.io "$@"; }
crictl_kic() { crictl --runtime-endpoint "unix://$KIC_CONTAINERD_SOCK" --image-endpoint "unix://$KIC_CONTAINERD_SOCK" "$@"; }

# --- the cluster lock: one flock(1) lock file in the cache dir (not in $KIC_STATE, which cluster:down
# removes) shared by cluster:up, cluster:down, the demo and the test suites, so that nobody takes the
# cluster down or re-imports its app image under someone who is using it:
#   exclusive  while bringing the cluster up or taking it down
#   shared     while using it (test suites, the demo)
# A process that holds it exports KICTEST_LOCK_HELD, so the scripts it runs (up.sh from run-all, down.sh
# from up.sh) do not wait for a lock their own parent holds. (Not KIC_...: the CLI reads every KIC_
# variable as an option and refuses unknown ones, and the suites run the CLI with this environment.) The lock is on fd 9 and lives as long
# as the process that took it (and its children that inherit fd 9).
#
# The lock is one per MACHINE, not per cache dir: what a cluster holds belongs to the machine (its
# ports, the node address on `lo`, the kubelet's cgroups, /usr/local/bin/crictl), so two clones with
# different XDG_CACHE_HOME (a fresh-clone check beside a warm checkout) must take turns, not collide.
# Beside the lock, the machine records which cache dir's cluster runs (claim_machine below).
# KICTEST_MACHINE_DIR moves both (tests of the scripts themselves).
KIC_MACHINE="${KICTEST_MACHINE_DIR:-/run/kube-image-cleanup}"
KIC_LOCK="$KIC_MACHINE/cluster.lock"
KIC_ACTIVE="$KIC_MACHINE/active-cache"

lock_holders() { # pids and commands of the processes holding $KIC_LOCK, for messages
  local inode pid sep=""
  inode="$(stat -c %i "$KIC_LOCK" 2>/dev/null)" || return 0
  for pid in $(awk -v i=":$inode" '$6 ~ i"$" { print $5 }' /proc/locks | sort -u); do
    # Not ourselves (a lock we hold while asking for another mode).
    [ "$pid" != "$$" ] && [ "$pid" != "${KICTEST_LOCK_HELD:-}" ] || continue
    # 2>/dev/null first: the holder may have exited (its children keep the lock), and a failed `<`
    # redirection is reported before a later 2>/dev/null takes effect.
    printf '%s%s (%s)' "$sep" "$pid" "$(tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline" | cut -c1-80 | sed 's/ *$//')"
    sep=", "
  done
}

cluster_lock() { # shared|exclusive [seconds to wait, default: forever] -> 0 when held, 1 on timeout
  local mode="-x" wait="${2:-}"
  [ "$1" = shared ] && mode="-s"
  if [ -n "${KICTEST_LOCK_HELD:-}" ] && [ "$KICTEST_LOCK_HELD" != "$$" ]; then
    return 0 # a parent holds it for us (see above)
  fi
  mkdir -p "$KIC_MACHINE" "$KIC_CACHE"
  [ -n "${KICTEST_LOCK_HELD:-}" ] || exec 9>>"$KIC_LOCK"
  if ! flock -n "$mode" 9; then
    [ "$wait" = 0 ] && return 1
    log "waiting${wait:+ up to ${wait}s} for the cluster lock $KIC_LOCK ($1), held by: $(lock_holders)"
    flock ${wait:+-w "$wait"} "$mode" 9 || return 1
  fi
  export KICTEST_LOCK_HELD="$$"
}

# Called by up.sh under the exclusive lock, before it starts anything: a cluster of another cache dir
# that still runs here holds the ports and the node address this one needs. Nobody uses it (we hold
# the lock), so it is taken down with its own state (down.sh with that KIC_CACHE), and the machine
# then records this cache dir as the one whose cluster runs.
claim_machine() {
  local other
  other="$(cat "$KIC_ACTIVE" 2>/dev/null || true)"
  if [ -n "$other" ] && [ "$other" != "$KIC_CACHE" ] && [ -d "$other/cluster" ]; then
    log "the cluster of cache dir $other runs on this machine (same ports and node address): taking it down first"
    KIC_CACHE="$other" bash "$KIC_SCRIPTS/down.sh"
  fi
  printf '%s\n' "$KIC_CACHE" >"$KIC_ACTIVE"
}

# Called by down.sh once this cache dir's cluster is gone.
release_machine() {
  if [ "$(cat "$KIC_ACTIVE" 2>/dev/null || true)" = "$KIC_CACHE" ]; then rm -f "$KIC_ACTIVE"; fi
}

# The image builder: Debian's buildah as root, no daemon, chroot isolation (no user namespaces
# needed). Storage driver overlay: this VM's kernel mounts overlayfs (containerd's snapshotter uses it
# too), and it is far faster than vfs, which copies every layer in full for each build step (a warm
# `buildah inspect` took 7 s with vfs, 0.03 s with overlay). KIC_BUILDAH_DRIVER=vfs falls back.
KIC_BUILDAH="$KIC_CACHE/buildah"
KIC_BUILDAH_DRIVER="${KIC_BUILDAH_DRIVER:-overlay}"
buildah_kic() {
  buildah --root "$KIC_BUILDAH/storage-$KIC_BUILDAH_DRIVER" --runroot "$KIC_BUILDAH/run-$KIC_BUILDAH_DRIVER" \
    --storage-driver "$KIC_BUILDAH_DRIVER" "$@"
}
