#!/usr/bin/env bash
# The one test command (`npm test`, also what .ci/run calls). On a fresh machine it installs what the
# suites need (npm packages, Debian packages, Go-built cluster binaries; all cached), then runs:
#   1. typecheck, lint and unit tests (no cluster)
#   2. brings the local real cluster up (test/cluster/up.sh), runs integration and e2e suites
#   3. brings the cluster down again, also when a test failed
# It ends with one line "N passed, N failed" counted over every suite.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
root="$PWD"
results="$(mktemp -d)"
status=0

step() { printf '\n=== %s\n' "$*" >&2; }

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  # Not `npm ci`: npm 11 here writes lock files without other platforms' optional packages and then
  # refuses them in `npm ci`. `npm install` installs the locked versions all the same.
  step "npm install"
  npm install --no-audit --no-fund
fi

step "typecheck, lint, build"
npx tsc -p tsconfig.json --noEmit
npx eslint .
npm run --silent build

run_suite() { # project
  step "vitest --project $1"
  npx vitest run --project "$1" --reporter=default --reporter=json \
    --outputFile.json="$results/$1.json" || status=1
}

run_suite unit

# Integration and e2e run on the local real cluster; it comes down again whatever the tests did.
cluster_down() {
  step "cluster down"
  bash test/cluster/down.sh || status=1
  # Nothing may be left behind: no mounts below the cache dir.
  if grep -q "kube-image-cleanup/cluster" /proc/self/mounts; then
    echo "cluster down left mounts behind:" >&2; grep "kube-image-cleanup/cluster" /proc/self/mounts >&2; status=1
  fi
}
trap cluster_down EXIT
step "cluster up (test/cluster/up.sh)"
t0=$SECONDS
bash test/cluster/up.sh >/dev/null
echo "cluster ready after $((SECONDS - t0)) s" >&2

run_suite integration
run_suite e2e

summarise() {
node -e '
const fs = require("fs");
let passed = 0, failed = 0, skipped = 0;
for (const f of fs.readdirSync(process.argv[1])) {
  const r = JSON.parse(fs.readFileSync(process.argv[1] + "/" + f, "utf8"));
  passed += r.numPassedTests; failed += r.numFailedTests + (r.numFailedTestSuites || 0);
  skipped += r.numPendingTests + r.numTodoTests;
}
console.log(`${passed} passed, ${failed} failed` + (skipped ? `, ${skipped} skipped` : ""));
' "$results"
}
trap - EXIT
cluster_down
summarise
exit "$status"
