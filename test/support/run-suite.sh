#!/usr/bin/env bash
# Runs vitest projects one after another, each writing its outcome file $KIC_RESULTS/<project>.json
# (test/support/outcome-reporter.ts) next to the usual terminal output. Exit 1 if any project failed.
#   KIC_RESULTS=dir run-suite.sh unit integration
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
: "${KIC_RESULTS:?set KIC_RESULTS to the directory for outcome files}"
rc=0
for project in "$@"; do
  [ "$#" -gt 1 ] && printf '\n=== vitest --project %s\n' "$project" >&2
  npx vitest run --project "$project" --reporter=default \
    --reporter=./test/support/outcome-reporter.ts --outputFile.outcomes="$KIC_RESULTS/$project.json" || rc=1
done
exit "$rc"
