#!/usr/bin/env bash
# The sweep benchmark's footprint on the local cluster, set up and removed as one:
#   sweep-env.sh setup      namespaces kic-bench (helper pods) and kic-bench-load (pods on fake
#                           nodes), a user of its own for the controller (client certificate
#                           kic-bench-controller, the chart's RBAC rules, no system:masters), and a
#                           FlowSchema that gives its requests a name in the API server's metrics;
#                           prints the controller's kubeconfig path
#   sweep-env.sh teardown   removes all of it; run it before test/cluster/kwok.sh stop (fake nodes
#                           and kwok), so kwok finishes the pods' deletion
# The FlowSchema puts the controller where a service account lands by default (priority level
# workload-low), so apiserver_flowcontrol_dispatched_requests_total{flow_schema="kic-bench-controller"}
# counts its requests from the server's side, beside the controller's own counter.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cluster="$here/../../test/cluster"
# shellcheck source=../../test/cluster/lib.sh
. "$cluster/lib.sh"
# shellcheck source=../../test/cluster/pki.sh
. "$cluster/pki.sh"
USER_NAME="kic-bench-controller"
REPORT_CONFIGMAP="kic-bench-report"
KUBECONFIG_OUT="$KIC_STATE/bench/controller.kubeconfig"
k() { kubectl --kubeconfig "$KIC_KUBECONFIG" "$@"; }

setup() {
  local ns
  for ns in kic-bench kic-bench-load; do
    # The last teardown deletes without waiting: a namespace still Terminating refuses new pods.
    if [ "$(k get namespace "$ns" -o jsonpath='{.status.phase}' 2>/dev/null)" = Terminating ]; then
      k wait --for=delete "namespace/$ns" --timeout=300s >/dev/null
    fi
  done
  mkdir -p "$KIC_STATE/bench"
  _sign "$USER_NAME" "/CN=$USER_NAME"
  _kubeconfig "$KUBECONFIG_OUT" "$USER_NAME" "$USER_NAME"
  k apply -f - >/dev/null <<YAML
apiVersion: v1
kind: Namespace
metadata:
  name: kic-bench
  labels: { pod-security.kubernetes.io/enforce: privileged }
---
apiVersion: v1
kind: Namespace
metadata:
  name: kic-bench-load
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: { name: $USER_NAME }
rules:
  - { apiGroups: [""], resources: ["nodes"], verbs: ["list"] }
  - { apiGroups: [""], resources: ["pods"], verbs: ["list", "watch"] }
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: { name: $USER_NAME }
roleRef: { apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: $USER_NAME }
subjects: [{ apiGroup: rbac.authorization.k8s.io, kind: User, name: $USER_NAME }]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: { name: $USER_NAME, namespace: kic-bench }
rules:
  - { apiGroups: [""], resources: ["pods"], verbs: ["create", "get", "list", "watch", "delete"] }
  - { apiGroups: [""], resources: ["pods/log"], verbs: ["get"] }
  - { apiGroups: [""], resources: ["events"], verbs: ["list"] }
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: { name: $USER_NAME, namespace: kic-bench }
roleRef: { apiGroup: rbac.authorization.k8s.io, kind: Role, name: $USER_NAME }
subjects: [{ apiGroup: rbac.authorization.k8s.io, kind: User, name: $USER_NAME }]
---
# The chart's defaults record an Event per node (events.enabled) and keep a run report
# (report.enabled): the same grants the chart gives, so the bench counts those requests too.
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: { name: $USER_NAME, namespace: default }
rules:
  - { apiGroups: [""], resources: ["events"], verbs: ["create"] }
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: { name: $USER_NAME, namespace: default }
roleRef: { apiGroup: rbac.authorization.k8s.io, kind: Role, name: $USER_NAME }
subjects: [{ apiGroup: rbac.authorization.k8s.io, kind: User, name: $USER_NAME }]
---
apiVersion: v1
kind: ConfigMap
metadata: { name: $REPORT_CONFIGMAP, namespace: kic-bench }
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: { name: $USER_NAME-report, namespace: kic-bench }
rules:
  - { apiGroups: [""], resources: ["configmaps"], resourceNames: ["$REPORT_CONFIGMAP"], verbs: ["get", "update"] }
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: { name: $USER_NAME-report, namespace: kic-bench }
roleRef: { apiGroup: rbac.authorization.k8s.io, kind: Role, name: $USER_NAME-report }
subjects: [{ apiGroup: rbac.authorization.k8s.io, kind: User, name: $USER_NAME }]
---
apiVersion: flowcontrol.apiserver.k8s.io/v1
kind: FlowSchema
metadata: { name: $USER_NAME }
spec:
  matchingPrecedence: 850
  priorityLevelConfiguration: { name: workload-low }
  distinguisherMethod: { type: ByUser }
  rules:
    - subjects: [{ kind: User, user: { name: $USER_NAME } }]
      resourceRules:
        - { verbs: ["*"], apiGroups: ["*"], resources: ["*"], namespaces: ["*"], clusterScope: true }
      nonResourceRules:
        - { verbs: ["*"], nonResourceURLs: ["*"] }
YAML
  echo "$KUBECONFIG_OUT"
}

teardown() {
  [ -f "$KIC_KUBECONFIG" ] && k get --raw /readyz >/dev/null 2>&1 || return 0
  # While kwok still runs: it finishes the pods' graceful deletion at once. Without kwok (or with the
  # nodes gone first) they wait for the pod garbage collector, at kube-controller-manager's 20 QPS.
  # First the pods, in one deletecollection request each with no grace period: they are gone from
  # the API at once, where the namespace controller's graceful deletion left 25,000 pods (5,000
  # nodes) for kwok to finish one request at a time (~30 min). Repeated while the server's request
  # timeout cuts a long collection short.
  local ns _
  for ns in kic-bench kic-bench-load; do
    for _ in 1 2 3 4 5; do
      k get namespace "$ns" >/dev/null 2>&1 || break
      k delete --raw "/api/v1/namespaces/$ns/pods?gracePeriodSeconds=0" >/dev/null 2>&1 || true
      [ -z "$(k get pods -n "$ns" --no-headers 2>/dev/null | head -1)" ] && break
    done
  done
  k delete namespace kic-bench kic-bench-load --ignore-not-found --timeout=600s >/dev/null
  k delete clusterrole,clusterrolebinding,flowschema "$USER_NAME" --ignore-not-found >/dev/null
  k delete -n default role,rolebinding "$USER_NAME" --ignore-not-found >/dev/null
  rm -rf "$KIC_STATE/bench"
  rm -f "$PKI/$USER_NAME.crt" "$PKI/$USER_NAME.key"
}

case "${1:-}" in
  setup) setup ;;
  teardown) teardown ;;
  *) die "usage: sweep-env.sh setup|teardown" ;;
esac
