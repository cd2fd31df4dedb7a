#!/usr/bin/env bash
# The one test command (`npm test`, also what .ci/run calls). On a fresh machine (fresh clone, empty
# cache) it first installs and builds everything every suite needs, then runs them:
#   0. npm packages (once package-lock.json is found to agree with package.json), Debian packages
#      and the Go-built binaries (helm is needed by the unit suite's chart tests, the rest by the
#      cluster); all cached, seconds when warm
#   1. typecheck, lint, build and the unit suite (no cluster)
#   2. integration and e2e on the local real cluster (test/cluster/with-cluster.sh: brought up if it
#      is not running, taken down again only if this run brought it up and nobody else uses it), in
#      two lanes at once (test/support/run-lanes.sh); then the e2e file only a containerd 2 node can
#      run, with the node switched to containerd 2 and back (test/cluster/on-runtime.sh)
# It ends with one line "N passed, N failed[, N skipped]" counted over every suite by
# test/support/summarise.mjs: a failed test is one failure, tests behind a failed hook are failures,
# and a suite that ended without writing its report is a failure.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
results="$(mktemp -d)"
trap 'rm -rf "$results"' EXIT
status=0

step() { printf '\n=== %s\n' "$*" >&2; }

# The lock file is what every clone, CI and the image install (`npm ci`): a package.json change
# without its lock file fails here, before anything is installed, with what to run.
step "package-lock.json agrees with package.json"
bash scripts/check-lock-file.sh

# node_modules/.package-lock.json is npm's record of what it installed: older than the lock file
# means the lock file changed since (a pull, a checkout, a new dependency), so install it again.
# `npm ci` installs exactly the lock file, for this platform, into a fresh node_modules.
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  step "npm ci"
  npm ci --no-audit --no-fund
fi

# Before any suite: the unit suite's chart tests run the pinned helm, so it must exist first.
step "prerequisites: Debian packages, Go, cluster binaries (cached)"
bash test/cluster/install-deps.sh
bash test/cluster/build-binaries.sh tests

step "typecheck, lint, build"
npx tsc -p tsconfig.json --noEmit
npx eslint .
npm run --silent build

# One vitest run per project, each writing its outcome file; a run that dies without writing one
# is counted as failed by summarise.mjs.
step "vitest --project unit"
bash test/support/run-suite.sh "$results" unit || status=1

step "integration and e2e on the local cluster, in two lanes (lines prefixed [node] / [cluster])"
bash test/cluster/with-cluster.sh bash test/support/run-lanes.sh "$results" || status=1

# Image volumes need a node on containerd 2: the cluster's node is switched for that file and back.
step "e2e on a containerd 2 node (image volumes)"
bash test/cluster/on-runtime.sh containerd2 bash test/support/run-suite.sh "$results" e2e-containerd2 || status=1

step "summary"
node test/support/summarise.mjs "$results" unit integration-node integration-cluster e2e e2e-containerd2 || status=1
exit "$status"
