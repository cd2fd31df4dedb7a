#!/usr/bin/env bash
# Stops everything up.sh started (by pid), tears down pods and mounts, removes the dummy node
# interface and the pod bridge, and deletes the cluster state. Binaries and image archives stay
# cached. Safe to run when nothing is up.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=lib.sh
. "$here/lib.sh"

# Never under someone who uses the cluster (a test run, the demo): they hold the lock shared.
cluster_lock exclusive 0 || die "the cluster is in use by: $(lock_holders)
not taking it down; run cluster:down again when they are done"

for c in kwok kubelet kube-scheduler kube-controller-manager kube-apiserver etcd; do
  if is_running "$c"; then log "stopping $c"; fi
  stop_bg "$c" 30
done
bash "$here/containerd.sh" stop
bash "$here/registry.sh" stop
# Anything still mounted below the state dir (kubelet volumes, pod shm) goes before the files do.
for m in $(awk -v d="$KIC_STATE" 'index($2, d) == 1 { print $2 }' /proc/self/mounts | sort -r); do
  umount -l "$m" 2>/dev/null || true
done
# The node address and the pod bridge belong to a cluster whose state exists: a down.sh for another
# cache dir (a test's temporary one) has no state and leaves the host's network alone.
if [ -d "$KIC_STATE" ]; then
  ip addr del "${KIC_NODE_IP:-10.235.255.1}/32" dev lo 2>/dev/null || true
  ip link del kic0 2>/dev/null || true
fi
rm -rf "$KIC_STATE"
if [ "$(readlink /usr/local/bin/crictl 2>/dev/null)" = "$KIC_BIN/crictl" ]; then rm -f /usr/local/bin/crictl; fi
if [ "$(readlink /usr/local/bin/ctr 2>/dev/null)" = "$KIC_CONTAINERD2_BIN/ctr" ]; then rm -f /usr/local/bin/ctr; fi
# What this cluster could have left running: its binaries, its containerd and that containerd's shims,
# its registry.
left=""
for p in /proc/[0-9]*; do
  exe="$(readlink "$p/exe" 2>/dev/null)" || continue
  cmd="$(tr '\0' ' ' <"$p/cmdline" 2>/dev/null)" || continue
  case "$exe" in
    "$KIC_BIN"/*) left="$left${p#/proc/} $cmd"$'\n' ;;
    */containerd | */containerd-shim-runc-v2 | */docker-registry)
      case "$cmd" in *"$KIC_STATE"*) left="$left${p#/proc/} $cmd"$'\n' ;; esac ;;
  esac
done
[ -z "$left" ] || die "processes of the cluster still running:
$left"
release_machine
log "cluster down; state removed (binaries stay in $KIC_BIN)"
