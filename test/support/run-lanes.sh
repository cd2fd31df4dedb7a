#!/usr/bin/env bash
# Runs the suites that need the local cluster in two lanes at once, each lane's projects one after
# another (test/support/run-suite.sh), every output line prefixed with its lane:
#   node:    integration-node       its own containerd / CRI-O / processes in temp dirs, no cluster
#   cluster: integration-cluster, then e2e   the cluster's one API server and kubelet
# Most of each lane's time is waiting on a runtime or the kubelet, so on two cores the lanes
# overlap well (warm: ~20 min one after another). Exit 1 if either lane failed.
#   run-lanes.sh <outcome dir>
set -uo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
results="${1:?usage: run-lanes.sh <outcome dir>}"

lane() {
  local name="$1"
  shift
  # sed -u: lines appear as they come, not when a buffer fills.
  bash "$here/run-suite.sh" "$results" "$@" 2>&1 | sed -u "s/^/[$name] /"
  return "${PIPESTATUS[0]}"
}

lane node integration-node &
node=$!
lane cluster integration-cluster e2e &
cluster=$!
rc=0
wait "$node" || rc=1
wait "$cluster" || rc=1
exit "$rc"
