#!/usr/bin/env bash
# Runs a command against the local cluster with its node on the given runtime, then puts the cluster
# back as it found it. npm test runs the e2e files that only a containerd 2 node can run this way.
#   on-runtime.sh containerd2 npx vitest run --project e2e-containerd2
# Under the exclusive cluster lock (a switch takes the cluster down, so it waits for every user):
#   1. notes whether the cluster runs, and on which runtime;
#   2. takes it down if it runs on another one (pods, images and the kubelet's state belong to the
#      runtime that made them: up.sh refuses to switch a running cluster);
#   3. with-cluster.sh runs the command with KICTEST_RUNTIME=<runtime> (it brings the node up on that
#      runtime and, having brought it up, takes it down afterwards);
#   4. brings the cluster up again on its former runtime if it ran before.
# Exit status: the command's, or 1 when a switch failed.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=lib.sh
. "$here/lib.sh"
want="${1:-}"
shift || true
case "$want" in
  containerd | containerd2) ;;
  *) die "usage: on-runtime.sh containerd|containerd2 command [args...]" ;;
esac
[ "$#" -gt 0 ] || die "usage: on-runtime.sh containerd|containerd2 command [args...]"

cluster_lock exclusive
before=""
if cluster_running; then before="$(cat "$KIC_STATE/runtime" 2>/dev/null || echo containerd)"; fi
if [ -n "$before" ] && [ "$before" != "$want" ]; then
  log "the cluster runs on $before: taking it down to run its node on $want"
  bash "$here/down.sh"
fi
rc=0
KICTEST_RUNTIME="$want" bash "$here/with-cluster.sh" "$@" || rc=$?
if [ -n "$before" ] && [ "$before" != "$want" ]; then
  log "bringing the cluster back up on $before, as it was"
  KICTEST_RUNTIME="$before" bash "$here/up.sh" >/dev/null || rc=1
fi
exit "$rc"
