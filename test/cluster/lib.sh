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
