#!/usr/bin/env bash
# Certificates and kubeconfigs for the local cluster, made with openssl. Idempotent: an existing set
# in $KIC_STATE/pki is kept. Sourced by up.sh (functions only).

PKI="$KIC_STATE/pki"
KIC_NODE_IP="${KIC_NODE_IP:-10.235.255.1}"

_sign() { # name subject [san]
  local name="$1" subj="$2" san="${3:-}" ext
  [ -f "$PKI/$name.crt" ] && return 0
  openssl genrsa -out "$PKI/$name.key" 2048 2>/dev/null
  openssl req -new -key "$PKI/$name.key" -subj "$subj" -out "$PKI/$name.csr" 2>/dev/null
  ext="$PKI/$name.ext"
  {
    echo "basicConstraints=CA:FALSE"
    echo "keyUsage=critical,digitalSignature,keyEncipherment"
    if [ -n "$san" ]; then echo "extendedKeyUsage=serverAuth,clientAuth"; echo "subjectAltName=$san"
    else echo "extendedKeyUsage=clientAuth"; fi
  } >"$ext"
  openssl x509 -req -in "$PKI/$name.csr" -CA "$PKI/ca.crt" -CAkey "$PKI/ca.key" -CAcreateserial \
    -days 365 -sha256 -extfile "$ext" -out "$PKI/$name.crt" 2>/dev/null
  rm -f "$PKI/$name.csr" "$ext"
}

_kubeconfig() { # file user cert-name
  cat >"$1" <<YAML
apiVersion: v1
kind: Config
clusters:
- name: kic
  cluster:
    server: https://127.0.0.1:$KIC_API_PORT
    certificate-authority: $PKI/ca.crt
users:
- name: $2
  user:
    client-certificate: $PKI/$3.crt
    client-key: $PKI/$3.key
contexts:
- name: kic
  context: { cluster: kic, user: $2 }
current-context: kic
YAML
}

make_pki() {
  mkdir -p "$PKI"
  if [ ! -f "$PKI/ca.crt" ]; then
    openssl genrsa -out "$PKI/ca.key" 2048 2>/dev/null
    openssl req -x509 -new -key "$PKI/ca.key" -subj "/CN=kube-image-cleanup-local-ca" -days 365 \
      -sha256 -out "$PKI/ca.crt" 2>/dev/null
  fi
  _sign apiserver "/CN=kube-apiserver" \
    "IP:127.0.0.1,IP:${KIC_SERVICE_CIDR%.0/*}.1,IP:$KIC_NODE_IP,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local"
  _sign apiserver-kubelet-client "/O=system:masters/CN=kube-apiserver-kubelet-client"
  _sign admin "/O=system:masters/CN=kic-admin"
  _sign controller-manager "/CN=system:kube-controller-manager"
  _sign scheduler "/CN=system:kube-scheduler"
  _sign kubelet "/O=system:nodes/CN=system:node:$KIC_NODE_NAME"
  _sign kubelet-serving "/CN=$KIC_NODE_NAME" "IP:$KIC_NODE_IP,IP:127.0.0.1,DNS:$KIC_NODE_NAME,DNS:localhost"
  _sign kwok "/O=system:masters/CN=kwok-controller"
  if [ ! -f "$PKI/sa.key" ]; then
    openssl genrsa -out "$PKI/sa.key" 2048 2>/dev/null
    openssl rsa -in "$PKI/sa.key" -pubout -out "$PKI/sa.pub" 2>/dev/null
  fi
  _kubeconfig "$KIC_KUBECONFIG" kic-admin admin
  _kubeconfig "$KIC_STATE/controller-manager.kubeconfig" system:kube-controller-manager controller-manager
  _kubeconfig "$KIC_STATE/scheduler.kubeconfig" system:kube-scheduler scheduler
  _kubeconfig "$KIC_STATE/kubelet.kubeconfig" "system:node:$KIC_NODE_NAME" kubelet
  _kubeconfig "$KIC_STATE/kwok.kubeconfig" kwok-controller kwok
}
