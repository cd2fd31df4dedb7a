#!/usr/bin/env bash
# Runs vitest projects one after another, each writing its outcome file <dir>/<project>.json
# (test/support/outcome-reporter.ts) next to the usual terminal output. Exit 1 if any project failed.
#   run-suite.sh <dir> integration-cluster e2e
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
results="${1:?usage: run-suite.sh <outcome dir> project...}"
shift
rc=0
for project in "$@"; do
  [ "$#" -gt 1 ] && printf '\n=== vitest --project %s\n' "$project" >&2
  npx vitest run --project "$project" --reporter=default \
    --reporter=./test/support/outcome-reporter.ts --outputFile.outcomes="$results/$project.json" || rc=1
done
exit "$rc"
