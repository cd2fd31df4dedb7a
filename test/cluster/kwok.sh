#!/usr/bin/env bash
# kwok beside the local cluster's real kubelet node: many simulated nodes on the same API server, for
# the sweep benchmark (bench/). kwok manages only nodes annotated kwok.x-k8s.io/node=fake; the real
# node keeps its kubelet. Needs the cluster up (test/cluster/up.sh).
#   kwok.sh start            start kwok (idempotent); stages and logs from test/cluster/kwok/
#   kwok.sh nodes N          make exactly N fake nodes exist (kic-fake-00000...), wait until Ready
#                            KIC_KWOK_REALISTIC=1: nodes as big as real ones (see realistic_parts)
#   kwok.sh delete-nodes     delete every fake node
#   kwok.sh stop             delete every fake node, then stop kwok
#   kwok.sh status
# Settings (read by start): KIC_KWOK_AGENT_MS how long a helper pod's agent "runs" before kwok moves
# the pod to Succeeded (default 0); KIC_KWOK_NAMESPACE the namespace whose pods get the canned log
# (default kic-bench); KIC_KWOK_LOG the canned log file (default $KIC_STATE/kwok/agent.log).
# Fake nodes carry the label kube-image-cleanup.io/bench=fake (select them with it), the usual kwok
# NoSchedule taint, and no kubernetes.io/os label, so a run with the default node selector
# (kubernetes.io/os=linux), e.g. another suite's test, never picks them up.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=lib.sh
. "$here/lib.sh"
# shellcheck source=pki.sh
. "$here/pki.sh"

KWOK_DIR="$KIC_STATE/kwok"
KWOK_PORT="${KIC_KWOK_PORT:-10247}"
KWOK_NAMESPACE="${KIC_KWOK_NAMESPACE:-kic-bench}"
KWOK_LOG="${KIC_KWOK_LOG:-$KWOK_DIR/agent.log}"
FAKE_LABEL="kube-image-cleanup.io/bench=fake"
FAKE_PREFIX="kic-fake-"
# Real kubelets renew their Lease every 10 s (40 s leases). 1,000 fake nodes doing that is 100
# writes/s on this 2-core machine; a 160 s lease is renewed every 40 s, inside the node lifecycle
# controller's 50 s grace period, so fake nodes stay Ready at a quarter of the background load.
LEASE_SECONDS="${KIC_KWOK_LEASE_SECONDS:-160}"

k() { kubectl --kubeconfig "$KIC_KUBECONFIG" "$@"; }

need_cluster() {
  [ -f "$KIC_KUBECONFIG" ] && k get --raw /readyz >/dev/null 2>&1 ||
    die "the local cluster is not up: run test/cluster/up.sh first"
  # Not part of `npm test`'s builds: built (and cached) the first time a benchmark needs it.
  command -v kwok >/dev/null || bash "$here/build-binaries.sh" kwok >&2 ||
    die "building kwok failed (see above): run test/cluster/build-binaries.sh kwok"
}

start() {
  need_cluster
  if is_running kwok; then log "kwok already running (pid $(cat "$KIC_PIDS/kwok.pid"))"; return 0; fi
  mkdir -p "$KWOK_DIR"
  # kube-apiserver reaches a node's "kubelet" (kwok) at the node's InternalIP and checks its
  # certificate against the cluster CA: serve one for 127.0.0.1, so log traffic stays on loopback.
  _sign kwok-serving "/CN=kwok-fake-kubelet" "IP:127.0.0.1,DNS:localhost"
  local agent_ms="${KIC_KWOK_AGENT_MS:-0}"
  [[ "$agent_ms" =~ ^[0-9]+$ ]] || die "KIC_KWOK_AGENT_MS must be a whole number of milliseconds, got '$agent_ms'"
  [ -f "$KWOK_LOG" ] || printf '%s stdout F {"msg":"no canned agent log written yet"}\n' \
    "$(date -u +%Y-%m-%dT%H:%M:%S.000000000Z)" >"$KWOK_LOG"
  {
    cat "$here/kwok/kwok.yaml"
    echo "---"
    sed "s|@AGENT_MS@|$agent_ms|g" "$here/kwok/stages.yaml"
    echo "---"
    sed -e "s|@NAMESPACE@|$KWOK_NAMESPACE|g" -e "s|@LOGS_FILE@|$KWOK_LOG|g" "$here/kwok/logs.yaml"
  } >"$KWOK_DIR/config.yaml"
  log "starting kwok $KIC_KWOK_VERSION on 127.0.0.1:$KWOK_PORT, agent runs ${agent_ms} ms (log $KIC_LOGS/kwok.log)"
  start_bg kwok kwok --kubeconfig "$KIC_STATE/kwok.kubeconfig" --config "$KWOK_DIR/config.yaml" \
    --manage-nodes-with-annotation-selector kwok.x-k8s.io/node=fake \
    --node-ip 127.0.0.1 --node-name localhost --node-port "$KWOK_PORT" \
    --server-address "127.0.0.1:$KWOK_PORT" \
    --tls-cert-file "$PKI/kwok-serving.crt" --tls-private-key-file "$PKI/kwok-serving.key" \
    --node-lease-duration-seconds "$LEASE_SECONDS"
  wait_for "kwok" 30 kwok curl -fsS --cacert "$PKI/ca.crt" "https://127.0.0.1:$KWOK_PORT/healthz"
  echo "$agent_ms" >"$KWOK_DIR/agent-ms"
}

# Both read the server-side table (name, status columns), not the objects: 5,000 realistic nodes
# are ~100 MB of JSON per list, which polling every few seconds made the API server's main load.
fake_table() { k get nodes -l "$FAKE_LABEL" --no-headers 2>/dev/null || true; }
fake_names() { fake_table | awk '{print $1}'; }
ready_count() { fake_table | awk '$2 == "Ready" || $2 ~ /^Ready,/ {n++} END {print n + 0}'; }

# Leases of fake nodes that no longer exist. The garbage collector removes them some time after their
# node; a node created again under the same name before that meets its old Lease, and kwok then fails
# to renew it (UID precondition) and the node goes NotReady. So they go explicitly.
drop_stale_leases() { # names of fake nodes that exist
  local keep=" $* " stale=() l
  for l in $(k -n kube-node-lease get leases -o jsonpath='{range .items[*]}{.metadata.name}{"\n"}{end}' | grep "^$FAKE_PREFIX" || true); do
    [[ "$keep" == *" $l "* ]] || stale+=("$l")
  done
  [ "${#stale[@]}" -gt 0 ] || return 0
  # kubectl deletes one object per request: 4 at a time, or 5,000 Leases hold the cluster ~10 min.
  printf '%s\n' "${stale[@]}" | xargs -r -P 4 -n 100 kubectl --kubeconfig "$KIC_KUBECONFIG" -n kube-node-lease delete lease --ignore-not-found --wait=false >/dev/null
}

# KIC_KWOK_REALISTIC=1: fake nodes the size of real ones (15-20 KB as JSON; real nodes are 10-40 KB):
# 50 status.images entries (a digest and a tag each, as the kubelet reports them), cloud-provider
# labels and annotations, and managedFields of three managers (kubelet, kube-controller-manager,
# kwok's status updates add their own). What the controller must not keep 5,000 of.
REALISTIC_LABELS='' REALISTIC_ANNOTATIONS='' REALISTIC_STATUS='' REALISTIC_MANAGED=''
realistic_parts() {
  local i sep="" images="" fl=""
  REALISTIC_LABELS='"beta.kubernetes.io/arch":"amd64","kubernetes.io/arch":"amd64","beta.kubernetes.io/instance-type":"m6i.4xlarge","node.kubernetes.io/instance-type":"m6i.4xlarge","topology.kubernetes.io/region":"eu-west-1","topology.kubernetes.io/zone":"eu-west-1b","failure-domain.beta.kubernetes.io/region":"eu-west-1","failure-domain.beta.kubernetes.io/zone":"eu-west-1b","topology.ebs.csi.aws.com/zone":"eu-west-1b","eks.amazonaws.com/capacityType":"ON_DEMAND","eks.amazonaws.com/nodegroup":"workers-general-purpose-2026","eks.amazonaws.com/nodegroup-image":"ami-0a1b2c3d4e5f60718","eks.amazonaws.com/sourceLaunchTemplateId":"lt-0123456789abcdef0","eks.amazonaws.com/sourceLaunchTemplateVersion":"17","k8s.io/cloud-provider-aws":"3c6f0e2d8b1a49c7a5e4f3d2c1b0a998","karpenter.sh/capacity-type":"on-demand","node-role.kubernetes.io/worker":"","team.example.com/owner":"platform-runtime","cost-center.example.com/id":"cc-4711-shared-compute"'
  REALISTIC_ANNOTATIONS='"alpha.kubernetes.io/provided-node-ip":"10.42.17.23","csi.volume.kubernetes.io/nodeid":"{\"ebs.csi.aws.com\":\"i-0abcdef1234567890\",\"efs.csi.aws.com\":\"i-0abcdef1234567890\"}","volumes.kubernetes.io/controller-managed-attach-detach":"true","node.alpha.kubernetes.io/ttl":"0"'
  for ((i = 0; i < 50; i++)); do
    images+="$sep$(printf '{"names":["registry.example.com/acme/service-%02d@sha256:%064x","registry.example.com/acme/service-%02d:v1.%d.%d-build.%06d"],"sizeBytes":%d}' \
      "$i" "$((i * 7919 + 104729))" "$i" "$((i % 9))" "$((i * 3 % 17))" "$((i * 4099))" "$(((i + 3) * 11234567))")"
    sep=","
  done
  REALISTIC_STATUS="\"status\":{\"images\":[$images]}"
  # The field sets real managers own, as fieldsV1 (the kubelet's labels and status, the controller
  # manager's podCIDR and taints): the server keeps managedFields given on create.
  for l in kubernetes.io/arch beta.kubernetes.io/arch node.kubernetes.io/instance-type beta.kubernetes.io/instance-type topology.kubernetes.io/region topology.kubernetes.io/zone; do
    fl+="\"f:$l\":{},"
  done
  REALISTIC_MANAGED='"managedFields":[{"manager":"kubelet","operation":"Update","apiVersion":"v1","time":"2026-01-01T00:00:00Z","fieldsType":"FieldsV1","fieldsV1":{"f:metadata":{"f:annotations":{".":{},"f:alpha.kubernetes.io/provided-node-ip":{},"f:volumes.kubernetes.io/controller-managed-attach-detach":{}},"f:labels":{".":{},'"${fl%,}"'}},"f:spec":{"f:providerID":{}}}},{"manager":"kubelet","operation":"Update","apiVersion":"v1","time":"2026-01-01T00:05:00Z","fieldsType":"FieldsV1","subresource":"status","fieldsV1":{"f:status":{"f:allocatable":{"f:cpu":{},"f:ephemeral-storage":{},"f:hugepages-1Gi":{},"f:hugepages-2Mi":{},"f:memory":{},"f:pods":{}},"f:capacity":{"f:cpu":{},"f:ephemeral-storage":{},"f:hugepages-1Gi":{},"f:hugepages-2Mi":{},"f:memory":{},"f:pods":{}},"f:conditions":{"k:{\"type\":\"DiskPressure\"}":{"f:lastHeartbeatTime":{},"f:lastTransitionTime":{},"f:message":{},"f:reason":{},"f:status":{}},"k:{\"type\":\"MemoryPressure\"}":{"f:lastHeartbeatTime":{},"f:lastTransitionTime":{},"f:message":{},"f:reason":{},"f:status":{}},"k:{\"type\":\"PIDPressure\"}":{"f:lastHeartbeatTime":{},"f:lastTransitionTime":{},"f:message":{},"f:reason":{},"f:status":{}},"k:{\"type\":\"Ready\"}":{"f:lastHeartbeatTime":{},"f:lastTransitionTime":{},"f:message":{},"f:reason":{},"f:status":{}}},"f:images":{},"f:nodeInfo":{"f:bootID":{},"f:containerRuntimeVersion":{},"f:kernelVersion":{},"f:kubeProxyVersion":{},"f:kubeletVersion":{},"f:machineID":{},"f:osImage":{},"f:systemUUID":{}}}}},{"manager":"kube-controller-manager","operation":"Update","apiVersion":"v1","time":"2026-01-01T00:00:10Z","fieldsType":"FieldsV1","fieldsV1":{"f:metadata":{"f:annotations":{"f:node.alpha.kubernetes.io/ttl":{}}},"f:spec":{"f:podCIDR":{},"f:podCIDRs":{".":{},"v:\"10.244.17.0/24\"":{}}}}}]'
}

node_json() { # name
  if [ "${KIC_KWOK_REALISTIC:-0}" = 1 ]; then
    printf '{"apiVersion":"v1","kind":"Node","metadata":{"name":"%s",%s,"annotations":{"kwok.x-k8s.io/node":"fake",%s},"labels":{"kubernetes.io/hostname":"%s","type":"kwok","kube-image-cleanup.io/bench":"fake",%s}},"spec":{"taints":[{"key":"kwok.x-k8s.io/node","value":"fake","effect":"NoSchedule"}]},%s}' \
      "$1" "$REALISTIC_MANAGED" "$REALISTIC_ANNOTATIONS" "$1" "$REALISTIC_LABELS" "$REALISTIC_STATUS"
    return
  fi
  printf '{"apiVersion":"v1","kind":"Node","metadata":{"name":"%s","annotations":{"kwok.x-k8s.io/node":"fake","node.alpha.kubernetes.io/ttl":"0"},"labels":{"kubernetes.io/hostname":"%s","type":"kwok","kube-image-cleanup.io/bench":"fake"}},"spec":{"taints":[{"key":"kwok.x-k8s.io/node","value":"fake","effect":"NoSchedule"}]}}' "$1" "$1"
}

nodes() { # N
  local want="$1" i name have=() missing=() extra=() t0=$SECONDS
  [[ "$want" =~ ^[0-9]+$ ]] || die "usage: kwok.sh nodes N (a whole number), got '$want'"
  need_cluster
  is_running kwok || die "kwok is not running: kwok.sh start"
  mapfile -t have < <(fake_names)
  declare -A present=()
  for name in "${have[@]}"; do present[$name]=1; done
  for ((i = 0; i < want; i++)); do
    name="$(printf '%s%05d' "$FAKE_PREFIX" "$i")"
    [ -n "${present[$name]:-}" ] || missing+=("$name")
    unset 'present[$name]'
  done
  extra=("${!present[@]}")
  drop_stale_leases "${have[@]}"
  if [ "${#extra[@]}" -gt 0 ]; then
    log "deleting ${#extra[@]} fake nodes above $want"
    printf '%s\n' "${extra[@]}" | xargs -r -P 4 -n 100 kubectl --kubeconfig "$KIC_KUBECONFIG" delete node --wait=false >/dev/null
  fi
  if [ "${#missing[@]}" -gt 0 ]; then
    [ "${KIC_KWOK_REALISTIC:-0}" = 1 ] && realistic_parts
    log "creating ${#missing[@]} fake nodes$([ "${KIC_KWOK_REALISTIC:-0}" = 1 ] && echo ' (realistic size)')"
    # kubectl creates a List's items one request at a time: 8 lists side by side are ~6x faster.
    local part pids=() per=$(((${#missing[@]} + 7) / 8))
    for ((part = 0; part < ${#missing[@]}; part += per)); do
      {
        printf '{"apiVersion":"v1","kind":"List","items":['
        local sep=""
        for name in "${missing[@]:part:per}"; do printf '%s%s' "$sep" "$(node_json "$name")"; sep=","; done
        printf ']}'
      } | k create -f - >/dev/null &
      pids+=($!)
    done
    for i in "${pids[@]}"; do wait "$i" || die "creating fake nodes failed (kubectl create, see above)"; done
  fi
  local ready limit=$((want / 10 > 300 ? want / 10 : 300)) pause=0.5 t1=$SECONDS
  # Each poll lists every fake node (75 MB at 5,000 realistic ones): poll less often when many.
  [ "$want" -le 1000 ] || pause=5
  while :; do
    ready="$(ready_count)"
    [ "$ready" -ge "$want" ] && [ "$(fake_names | wc -l)" -eq "$want" ] && break
    [ $((SECONDS - t1)) -lt "$limit" ] || break
    sleep "$pause"
  done
  [ "$ready" -ge "$want" ] || die "only $ready of $want fake nodes Ready after $((SECONDS - t1)) s; see $KIC_LOGS/kwok.log"
  log "$want fake nodes Ready in $((SECONDS - t0)) s"
}

delete_nodes() {
  [ -f "$KIC_KUBECONFIG" ] && k get --raw /readyz >/dev/null 2>&1 || return 0
  local n
  n="$(fake_names | wc -l)"
  [ "$n" -gt 0 ] || return 0
  log "deleting $n fake nodes"
  # deletecollection, not kubectl's one DELETE per node; the API server stops a collection at its
  # 60 s request timeout (~1,000 realistic nodes), so repeat while fake nodes are left.
  local _
  for _ in $(seq 1 20); do
    k delete --raw "/api/v1/nodes?labelSelector=${FAKE_LABEL//=/%3D}" >/dev/null 2>&1 || true
    [ "$(fake_names | wc -l)" -eq 0 ] && break
  done
  # The pod garbage collector removes pods bound to nodes that no longer exist; kwok must still be
  # running for pods that are already terminating, so wait for the nodes to be gone first.
  for ((n = 0; n < 300; n++)); do [ "$(fake_names | wc -l)" -eq 0 ] && break; sleep 0.2; done
  drop_stale_leases
}

status() {
  if is_running kwok; then
    echo "kwok running pid $(cat "$KIC_PIDS/kwok.pid") port $KWOK_PORT agent-ms $(cat "$KWOK_DIR/agent-ms" 2>/dev/null || echo ?) log $KIC_LOGS/kwok.log"
  else
    echo "kwok stopped"
  fi
  if [ -f "$KIC_KUBECONFIG" ]; then echo "fake nodes: $(fake_names | wc -l) ($(ready_count) Ready)"; fi
}

case "${1:-}" in
  start) start ;;
  nodes) nodes "${2:-}" ;;
  delete-nodes) delete_nodes ;;
  stop) delete_nodes; if is_running kwok; then log "stopping kwok"; fi; stop_bg kwok 10 ;;
  status) status ;;
  *) die "usage: kwok.sh start|nodes N|delete-nodes|stop|status" ;;
esac
