#!/usr/bin/env bash
# Regenerates the README picture from a real run: runs the demo on the local cluster, keeps the
# Job's log and renders it (media/run.svg holds the log's lines verbatim, one <text> each; a unit
# test reads them back, test/unit/media/run-svg.test.ts). The demo leaves the log in a temporary
# file only; pass a path to keep it: media/regenerate.sh /tmp/run.log
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
out="$(mktemp)"
log="${1:-$(mktemp)}"
bash test/demo.sh | tee "$out"
# The Job's log is the part between the "kubectl logs job/" heading and the next heading.
awk '/== kubectl logs job\//{on=1; print "$ kubectl logs -n kube-image-cleanup job/" substr($0, index($0, "job/")+4); next} /^.?\[1m== /{on=0} on' "$out" \
  | sed 's/\x1b\[[0-9;]*m//g' | sed '/^$/N;/^\n$/D' >"$log"
node media/render-log.mjs "$log" media/run.svg
rm -f "$out"
[ -n "${1:-}" ] || rm -f "$log"
echo "wrote media/run.svg" >&2
