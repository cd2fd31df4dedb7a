#!/usr/bin/env bash
# Regenerates the README picture from a real run: runs the demo on the local cluster, keeps the
# Job's log (media/run.log) and renders it (media/run.svg).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
out="$(mktemp)"
bash test/demo.sh | tee "$out"
# The Job's log is the part between the "kubectl logs job/" heading and the next heading.
awk '/== kubectl logs job\//{on=1; print "$ kubectl logs -n kube-image-cleanup job/" substr($0, index($0, "job/")+4); next} /^.?\[1m== /{on=0} on' "$out" \
  | sed 's/\x1b\[[0-9;]*m//g' | sed '/^$/N;/^\n$/D' >media/run.log
node media/render-log.mjs media/run.log media/run.svg
rm -f "$out"
echo "wrote media/run.log and media/run.svg" >&2
