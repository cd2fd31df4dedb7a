#!/usr/bin/env bash
# Runs a command against the local cluster and leaves the machine as it found it:
#   - brings the cluster up (up.sh) unless it already runs,
#   - holds the cluster lock shared while the command runs, so nobody takes the cluster down or
#     swaps its app image under it,
#   - afterwards takes the cluster down only if this script brought it up AND nobody else holds the
#     lock (a demo started meanwhile, another test run): a cluster someone else started or uses
#     stays up.
# Exit status: the command's, or 1 when bringing the cluster up or down failed.
#   with-cluster.sh npx vitest run --project integration
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=lib.sh
. "$here/lib.sh"
[ "$#" -gt 0 ] || die "usage: with-cluster.sh command [args...]"

cluster_lock exclusive
started=no
cluster_running || started=yes

finish() {
  local rc=$?
  trap - EXIT INT TERM
  if [ "$started" = no ]; then
    log "the cluster was up before this run: leaving it up"
  elif ! cluster_lock exclusive 0; then
    log "the cluster is in use by $(lock_holders): leaving it up (npm run cluster:down when they are done)"
  else
    log "taking down the cluster this run brought up"
    bash "$here/down.sh" || rc=1
    # Nothing may be left behind: no mounts below the state dir.
    if awk -v d="$KIC_STATE" 'index($2, d) == 1 { found = 1 } END { exit !found }' /proc/self/mounts; then
      log "cluster:down left mounts behind:"
      awk -v d="$KIC_STATE" 'index($2, d) == 1 { print "  " $2 }' /proc/self/mounts >&2
      rc=1
    fi
  fi
  exit "$rc"
}
trap finish EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# up.sh also when the cluster was running: it is idempotent and imports THIS checkout's app image
# (cached by content), so the suites never test an image another checkout or an older build left.
t0=$SECONDS
bash "$here/up.sh" >/dev/null
log "cluster ready after $((SECONDS - t0)) s"
cluster_lock shared
# The command does not get fd 9: only this script holds the lock, and only as long as it runs.
"$@" 9>&-
