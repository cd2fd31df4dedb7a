#!/usr/bin/env bash
# npm run demo: the whole story on the local real cluster.
#   1. brings the cluster up (builds what is missing, cached)
#   2. fills the node with sample images: releases of a "shop" app built month after month, one of
#      them in use, one needed by a pod that waits to start
#   3. helm-installs the chart with a grep-style pattern for the shop's images, keeping the two
#      newest releases of each repository (images.keepNewest: 2)
#   4. triggers the CronJob now and prints the Job's log: the audit trail
#   5. shows what is left on the node
# Re-running it is fine: it reinstalls the release and re-imports the images.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
. test/cluster/lib.sh
export KUBECONFIG="$KIC_KUBECONFIG"
say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

# The lock file exactly as committed, as npm test installs it.
[ -d node_modules ] || npm ci --no-audit --no-fund
say "local cluster"
# Up under the exclusive cluster lock, then hold it shared for the rest of the demo: `npm test` or
# cluster:down started meanwhile will not take the cluster down under it.
cluster_lock exclusive
bash test/cluster/up.sh >/dev/null
cluster_lock shared
kubectl get nodes

say "sample images on node $KIC_NODE_NAME"
# REF=CREATED: when each release was built (its config's `created`), what keepNewest ranks by.
shop=(demo.local/shop/frontend:v1=2026-09-01T00:00:00Z demo.local/shop/frontend:v2=2026-10-01T00:00:00Z
      demo.local/shop/frontend:v3=2026-11-01T00:00:00Z
      demo.local/shop/backend:v0=2026-07-01T00:00:00Z demo.local/shop/backend:v1=2026-08-01T00:00:00Z
      demo.local/shop/backend:v2=2026-09-15T00:00:00Z demo.local/tools/debug:v1)
bash test/cluster/sample-images.sh "${shop[@]}" >/dev/null
kubectl create namespace demo-shop --dry-run=client -o yaml | kubectl apply -f - >/dev/null
# frontend:v3 is what runs. backend:v2 is what a pod bound to the node waits to start with (its
# config map does not exist yet): no container uses it, but the API server says the pod needs it,
# so it is protected.
kubectl apply -n demo-shop -f - >/dev/null <<YAML
apiVersion: v1
kind: Pod
metadata: { name: frontend }
spec:
  nodeName: $KIC_NODE_NAME
  containers:
  - { name: web, image: demo.local/shop/frontend:v3, imagePullPolicy: Never, command: [sleep, "3600"] }
---
apiVersion: v1
kind: Pod
metadata: { name: backend }
spec:
  nodeName: $KIC_NODE_NAME
  containers:
  - name: api
    image: demo.local/shop/backend:v2
    imagePullPolicy: Never
    command: [sleep, "3600"]
    volumeMounts: [{ name: config, mountPath: /config }]
  volumes: [{ name: config, configMap: { name: backend-config-not-yet-created } }]
YAML
kubectl wait -n demo-shop pod/frontend --for=condition=Ready --timeout=60s >/dev/null
kubectl get pods -n demo-shop
ctr_k8s images ls -q | grep '^demo.local/' | sort

# The shop's images by a grep pattern, as the shell script before this tool matched them; of each
# repository the two newest stay (frontend: v3 runs and counts as one of them, v2 is the other).
say "helm install (include /^demo\.local\/shop\//, keepNewest 2)"
ns=kube-image-cleanup
kubectl create namespace "$ns" --dry-run=client -o yaml | kubectl apply -f - >/dev/null
kubectl label namespace "$ns" pod-security.kubernetes.io/enforce=privileged --overwrite >/dev/null
helm upgrade --install kic chart -n "$ns" -f test/local-cluster-values.yaml \
  --set runtime.socket="$KIC_CONTAINERD_SOCK" \
  --set schedule='0 3 * * *' --set-json 'images.include=["/^demo\\.local\\/shop\\//"]' \
  --set images.keepNewest=2 --wait >/dev/null
helm status kic -n "$ns" | sed -n '1,6p'

say "run now: kubectl create job --from=cronjob/kic-kube-image-cleanup"
job="demo-$(date +%H%M%S)"
kubectl create job -n "$ns" --from=cronjob/kic-kube-image-cleanup "$job" >/dev/null
kubectl wait -n "$ns" "job/$job" --for=condition=complete --timeout=300s >/dev/null \
  || { kubectl logs -n "$ns" "job/$job" || true; die "job $job did not complete"; }

say "kubectl logs job/$job"
kubectl logs -n "$ns" "job/$job"

say "images left on the node"
ctr_k8s images ls -q | grep '^demo.local/' | sort
