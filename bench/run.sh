#!/usr/bin/env bash
# `npm run bench [-- PART...]`: the scale and speed benchmarks. Separate from the tests: nothing
# here asserts a time; every part prints its figures and ratios and writes bench/results/PART.json
# (machine-readable) beside bench/results/PART.md (the human table). At the end
# bench/results/summary.md collects the latest of each part.
#   plan    agent plan CPU on a synthetic 5,000-image inventory (pure; no cluster needed)
#   agent   the real agent against the local containerd with 300+ images (crictl and ctr)
#   sweep   the controller over 10 / 100 / 1,000 kwok nodes at concurrency 1 / 10 / 50
#   node-time  the controller against the real kubelet node, both helper modes: helper created ->
#           result read (BENCH_NODE_TIME_RUNTIME=containerd2 runs it with the node on containerd 2,
#           through test/cluster/on-runtime.sh, which takes the cluster down and brings it back)
# Default: plan, agent, sweep (node-time holds the cluster for minutes: ask for it by name). The agent and sweep parts bring the local cluster up (test/cluster/up.sh,
# idempotent) and leave it as they found it: their images, fake nodes and kwok are removed.
# Options go through the environment (BENCH_*), see the header of each bench/PART.ts.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
parts=("$@")
[ "${#parts[@]}" -gt 0 ] || parts=(plan agent sweep)
for p in "${parts[@]}"; do
  case "$p" in plan | agent | sweep | node-time) ;; *) echo "bench: unknown part '$p' (plan, agent, sweep, node-time)" >&2; exit 2 ;; esac
done

vite_node="$root/node_modules/.bin/vite-node"
[ -x "$vite_node" ] || { echo "bench: run npm install first (vite-node comes with vitest)" >&2; exit 2; }

for p in "${parts[@]}"; do
  if [ "$p" != plan ]; then
    # The agent and the controller run as in production (node dist/cli.js), from a build of their own
    # in the git-ignored results dir: a concurrent `npm run build` cannot change it mid-measurement.
    echo "[bench] building into bench/results/dist" >&2
    rm -rf bench/results/dist
    "$root/node_modules/.bin/tsc" -p tsconfig.build.json --outDir bench/results/dist
    break
  fi
done

status=0
for p in "${parts[@]}"; do
  echo "[bench] $p" >&2
  if [ "$p" = node-time ]; then
    # Helper pods run the cluster's app image, which up.sh imports from THIS checkout: the cluster
    # lock (with-cluster.sh, or on-runtime.sh for another runtime) keeps anyone from swapping it.
    runtime="${BENCH_NODE_TIME_RUNTIME:-containerd}"
    case "$runtime" in
      containerd) wrap=(bash test/cluster/with-cluster.sh) ;;
      containerd2) wrap=(bash test/cluster/on-runtime.sh containerd2) ;;
      *) echo "bench: BENCH_NODE_TIME_RUNTIME '$runtime' (containerd, containerd2)" >&2; exit 2 ;;
    esac
    "${wrap[@]}" "$vite_node" "bench/$p.ts" || { status=$?; echo "[bench] $p failed (exit $status)" >&2; }
    continue
  fi
  "$vite_node" "bench/$p.ts" || { status=$?; echo "[bench] $p failed (exit $status)" >&2; }
done
"$vite_node" bench/summary.ts || status=$?
exit "$status"
