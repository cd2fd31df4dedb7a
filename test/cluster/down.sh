#!/usr/bin/env bash
# Stops everything up.sh started (by pid), tears down pods and mounts, removes the dummy node
# interface and the pod bridge, and deletes the cluster state. Binaries and image archives stay
# cached. Safe to run when nothing is up.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=lib.sh
. "$here/lib.sh"

for c in kwok kubelet kube-scheduler kube-controller-manager kube-apiserver etcd; do
  if is_running "$c"; then log "stopping $c"; fi
  stop_bg "$c" 30
done
bash "$here/containerd.sh" stop
# Anything still mounted below the state dir (kubelet volumes, pod shm) goes before the files do.
for m in $(awk -v d="$KIC_STATE" 'index($2, d) == 1 { print $2 }' /proc/self/mounts | sort -r); do
  umount -l "$m" 2>/dev/null || true
done
ip link del kic-host 2>/dev/null || true
ip link del kic0 2>/dev/null || true
rm -rf "$KIC_STATE"
left="$(pgrep -af "$KIC_CACHE" || true)"
[ -z "$left" ] || die "processes still running from $KIC_CACHE:
$left"
log "cluster down; state removed (binaries stay in $KIC_BIN)"
