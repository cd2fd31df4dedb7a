#!/usr/bin/env bash
# Shows which cluster components run (pid, log file) and the node's state. Exit 0 when all run.
set -uo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=lib.sh
. "$here/lib.sh"
ok=0
for c in containerd docker-registry etcd kube-apiserver kube-controller-manager kube-scheduler kubelet kwok; do
  if is_running "$c"; then
    printf '%-24s running  pid %-7s log %s\n' "$c" "$(cat "$KIC_PIDS/$c.pid")" "$KIC_LOGS/$c.log"
  elif [ "$c" = kwok ]; then
    printf '%-24s stopped  (started only by benchmarks)\n' "$c"
  else
    printf '%-24s stopped\n' "$c"; ok=1
  fi
done
if [ -f "$KIC_KUBECONFIG" ]; then
  echo "kubeconfig: $KIC_KUBECONFIG"
  timeout 10 kubectl --kubeconfig "$KIC_KUBECONFIG" get nodes -o wide 2>&1 | head -5
fi
exit "$ok"
