#!/usr/bin/env bash
# Brings up a real single-node Kubernetes on this machine: containerd, an OCI registry, etcd,
# kube-apiserver (RBAC), controller-manager, scheduler and a kubelet that registers this host as node
# "$KIC_NODE_NAME".
# Idempotent: running components are kept; a warm second run takes seconds.
# Prints the kubeconfig path on stdout (everything else goes to stderr).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=lib.sh
. "$here/lib.sh"
# shellcheck source=pki.sh
. "$here/pki.sh"
t0=$SECONDS

[ "$(id -u)" = 0 ] || die "the local cluster needs root (kubelet, containerd, mounts); run as root"
bash "$here/install-deps.sh"
bash "$here/build-binaries.sh" tests >&2
# Bringing up (and re-importing the app image) happens under the exclusive cluster lock: it waits for
# whoever uses the cluster (a test run, the demo) to finish, and nobody takes it down meanwhile.
cluster_lock exclusive
# State without any running component is what a killed session or a reboot leaves: stale pid files,
# pods in etcd whose containers are gone, maybe mounts. Clear it and start clean.
if [ -d "$KIC_STATE" ] && ! is_running containerd && ! is_running kube-apiserver && ! is_running etcd; then
  log "found state of a cluster that no longer runs: clearing it first"
  bash "$here/down.sh"
fi
# One cluster per machine: another cache dir's cluster (another clone's `npm test`) goes down first.
claim_machine
# A running cluster keeps its runtime: switching means cluster:down first (pods, images and the
# kubelet's state belong to the runtime that made them).
if is_running containerd && [ "$(cat "$KIC_STATE/runtime" 2>/dev/null || echo containerd)" != "$KIC_RUNTIME" ]; then
  die "the cluster runs on $(cat "$KIC_STATE/runtime" 2>/dev/null || echo containerd), not $KIC_RUNTIME (KICTEST_RUNTIME): take it down first (npm run cluster:down), then bring it up again"
fi
# A node whose containerd runs with another config than this checkout's containerd.sh writes (older
# scripts started it, e.g. before the registry's hosts.toml) would test something else: start afresh.
if bash "$here/containerd.sh" stale; then
  log "containerd runs with an older config than test/cluster/containerd.sh writes: restarting the cluster"
  bash "$here/down.sh"
fi
# The ImageVolume feature gate (beta, off by default in Kubernetes 1.34) on the API server and the
# kubelet: containerd 2 mounts images as volumes, 1.6 cannot, so only its node gets it.
feature_gates=()
if [ "$KIC_RUNTIME" = containerd2 ]; then feature_gates=(--feature-gates ImageVolume=true); fi
mkdir -p "$KIC_STATE" "$KIC_LOGS"
make_pki

# The node's address: an extra address on the loopback interface. The kubelet refuses loopback
# addresses (127.0.0.0/8) as node IPs, no traffic may leave this machine, and this kernel has no
# dummy interfaces; an address on `lo` satisfies all three.
# (Read into a variable first: with pipefail, `ip ... | grep -q` fails when grep exits early and ip
# gets SIGPIPE, and the address would be added twice.)
lo_addrs="$(ip -o addr show dev lo)"
if [[ "$lo_addrs" != *" $KIC_NODE_IP/"* ]]; then
  ip addr add "$KIC_NODE_IP/32" dev lo
fi

bash "$here/containerd.sh" start >/dev/null
bash "$here/registry.sh" start >/dev/null

# A real node has its runtime clients on the host's PATH; the helper pods find them there through
# nsenter. ctr comes with the Debian package; crictl is built here, so link it in (down.sh removes
# the link, and only if it is ours).
if [ ! -e /usr/local/bin/crictl ]; then ln -s "$KIC_BIN/crictl" /usr/local/bin/crictl; fi
# A containerd 2 node's ctr is 2.x's (ahead of Debian's 1.6 one in /usr/bin).
if [ "$KIC_RUNTIME" = containerd2 ] && [ ! -e /usr/local/bin/ctr ]; then ln -s "$KIC_CONTAINERD2_BIN/ctr" /usr/local/bin/ctr; fi

if ! is_running etcd; then
  log "starting etcd $KIC_ETCD_VERSION (log $KIC_LOGS/etcd.log)"
  start_bg etcd etcd --name kic --data-dir "$KIC_STATE/etcd" \
    --listen-client-urls "http://127.0.0.1:$KIC_ETCD_PORT" --advertise-client-urls "http://127.0.0.1:$KIC_ETCD_PORT" \
    --listen-peer-urls "http://127.0.0.1:$KIC_ETCD_PEER_PORT" --initial-advertise-peer-urls "http://127.0.0.1:$KIC_ETCD_PEER_PORT" \
    --initial-cluster "kic=http://127.0.0.1:$KIC_ETCD_PEER_PORT" --listen-metrics-urls "" \
    --quota-backend-bytes 4294967296 --unsafe-no-fsync
  wait_for "etcd" 30 etcd etcdctl --endpoints "127.0.0.1:$KIC_ETCD_PORT" endpoint health
fi

if ! is_running kube-apiserver; then
  log "starting kube-apiserver $KIC_K8S_VERSION on https://127.0.0.1:$KIC_API_PORT (log $KIC_LOGS/kube-apiserver.log)"
  start_bg kube-apiserver kube-apiserver \
    --etcd-servers "http://127.0.0.1:$KIC_ETCD_PORT" \
    --bind-address 127.0.0.1 --secure-port "$KIC_API_PORT" --advertise-address "$KIC_NODE_IP" \
    --tls-cert-file "$PKI/apiserver.crt" --tls-private-key-file "$PKI/apiserver.key" \
    --client-ca-file "$PKI/ca.crt" \
    --service-account-issuer https://kubernetes.default.svc.cluster.local \
    --service-account-key-file "$PKI/sa.pub" --service-account-signing-key-file "$PKI/sa.key" \
    --service-cluster-ip-range "$KIC_SERVICE_CIDR" \
    --authorization-mode Node,RBAC --allow-privileged=true \
    --kubelet-client-certificate "$PKI/apiserver-kubelet-client.crt" \
    --kubelet-client-key "$PKI/apiserver-kubelet-client.key" \
    --kubelet-certificate-authority "$PKI/ca.crt" --kubelet-preferred-address-types InternalIP \
    --endpoint-reconciler-type none --profiling=false "${feature_gates[@]}" --v 1
  wait_for "kube-apiserver" 90 kube-apiserver kubectl --kubeconfig "$KIC_KUBECONFIG" get --raw /readyz
fi

if ! is_running kube-controller-manager; then
  log "starting kube-controller-manager (log $KIC_LOGS/kube-controller-manager.log)"
  start_bg kube-controller-manager kube-controller-manager \
    --kubeconfig "$KIC_STATE/controller-manager.kubeconfig" \
    --authentication-kubeconfig "$KIC_STATE/controller-manager.kubeconfig" \
    --authorization-kubeconfig "$KIC_STATE/controller-manager.kubeconfig" \
    --bind-address 127.0.0.1 --secure-port 10257 \
    --root-ca-file "$PKI/ca.crt" --service-account-private-key-file "$PKI/sa.key" \
    --use-service-account-credentials=true --leader-elect=false \
    --cluster-signing-cert-file "$PKI/ca.crt" --cluster-signing-key-file "$PKI/ca.key" \
    --service-cluster-ip-range "$KIC_SERVICE_CIDR" --v 1
fi

if ! is_running kube-scheduler; then
  log "starting kube-scheduler (log $KIC_LOGS/kube-scheduler.log)"
  start_bg kube-scheduler kube-scheduler \
    --kubeconfig "$KIC_STATE/scheduler.kubeconfig" \
    --authentication-kubeconfig "$KIC_STATE/scheduler.kubeconfig" \
    --authorization-kubeconfig "$KIC_STATE/scheduler.kubeconfig" \
    --bind-address 127.0.0.1 --secure-port 10259 --leader-elect=false --v 1
fi

if ! is_running kubelet; then
  mkdir -p "$KIC_STATE/kubelet" "$KIC_STATE/pod-logs"
  cat >"$KIC_STATE/kubelet-config.yaml" <<YAML
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
address: $KIC_NODE_IP
port: $KIC_KUBELET_PORT
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
healthzPort: 10248
authentication:
  anonymous: { enabled: false }
  webhook: { enabled: true }
  x509: { clientCAFile: $PKI/ca.crt }
authorization: { mode: Webhook }
tlsCertFile: $PKI/kubelet-serving.crt
tlsPrivateKeyFile: $PKI/kubelet-serving.key
containerRuntimeEndpoint: unix://$KIC_CONTAINERD_SOCK
cgroupDriver: cgroupfs
failSwapOn: false
failCgroupV1: false
# This VM withholds CAP_SYS_RESOURCE: the kubelet may not lower its own oom_score_adj.
oomScoreAdj: 0
podLogsDir: $KIC_STATE/pod-logs
clusterDomain: cluster.local
resolvConf: /etc/resolv.conf
# The project deletes images itself; the kubelet's own image GC must not race it in tests.
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
evictionHard:
  memory.available: "100Mi"
  nodefs.available: "1%"
  imagefs.available: "1%"
  nodefs.inodesFree: "1%"
serializeImagePulls: false
YAML
  log "starting kubelet as node $KIC_NODE_NAME (log $KIC_LOGS/kubelet.log)"
  start_bg kubelet kubelet --config "$KIC_STATE/kubelet-config.yaml" "${feature_gates[@]}" \
    --kubeconfig "$KIC_STATE/kubelet.kubeconfig" --hostname-override "$KIC_NODE_NAME" \
    --node-ip "$KIC_NODE_IP" --root-dir "$KIC_STATE/kubelet" --cert-dir "$KIC_STATE/kubelet/pki" --v 1
fi

wait_for "node $KIC_NODE_NAME Ready" 120 kubelet \
  kubectl --kubeconfig "$KIC_KUBECONFIG" wait --for=condition=Ready "node/$KIC_NODE_NAME" --timeout=2s

bash "$here/images.sh" >&2

log "cluster up in $((SECONDS - t0)) s. Use it with:"
log "  export KUBECONFIG=$KIC_KUBECONFIG; export PATH=$KIC_BIN:\$PATH; kubectl get nodes"
echo "$KIC_KUBECONFIG"
