#!/usr/bin/env bash
# Builds the cluster's Go binaries from the Go module proxy at pinned versions, into $KIC_BIN.
# Idempotent: each group is skipped when its stamp file names the pinned version.
#
#   kube-apiserver, kube-controller-manager, kube-scheduler, kubelet, kubectl   (k8s.io/kubernetes)
#   etcd, etcdctl                                                               (go.etcd.io/etcd)
#   crictl (cri-tools), kwok, helm
#   containerd, ctr, containerd-shim-runc-v2 2.x      (github.com/containerd/containerd/v2, own dir)
#   crio, pinns (CRI-O)                               (github.com/cri-o/cri-o, own dir; pinns is C)
#   actionlint (checks .github/workflows/)            (github.com/rhysd/actionlint, go install)
#
# k8s.io/kubernetes and etcd's server module replace their sibling modules with relative paths, so
# `go install pkg@version` refuses them. The usual way round is a throwaway wrapper module that
# requires the root module and maps every sibling to its published version; replace directives of
# dependencies are ignored, so the wrapper's own ones are what count.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=lib.sh
. "$here/lib.sh"

require_go
export GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS=-mod=mod
# cri-tools is served by the proxy but its checksum is missing from the checksum database here.
export GONOSUMDB="sigs.k8s.io/cri-tools${GONOSUMDB:+,$GONOSUMDB}"
mkdir -p "$KIC_BIN" "$KIC_BUILD"

stamp_ok() { [ -f "$KIC_BIN/.$1.stamp" ] && [ "$(cat "$KIC_BIN/.$1.stamp")" = "$2" ]; }
stamp() { echo "$2" >"$KIC_BIN/.$1.stamp"; }

# Fetches a module (and its go.mod) into the module cache, or stops naming the module and the proxy:
# a build that goes on after a failed download only fails later with a message that hides the cause.
fetch_module() { # module@version
  local out
  out="$(go mod download -json "$1" 2>&1)" && ! grep -q '"Error"' <<<"$out" && return 0
  die "cannot fetch $1 from the Go module proxy ($(go env GOPROXY)):
$(grep -E '"Error"|proxy|404|403|410|dial|timeout' <<<"$out" | head -n 5)
Check that the proxy is reachable (GOPROXY, HTTPS_PROXY) and serves this version."
}

# The module's own minimum Go (its go.mod `go` line) against the Go on PATH (GOTOOLCHAIN=local: no
# automatic toolchain download), so a too-old Go fails here and not deep inside the build.
require_module_go() { # module@version
  local gomod want
  gomod="$(go env GOMODCACHE)/cache/download/${1%@*}/@v/${1#*@}.mod"
  want="$(sed -nE 's/^go ([0-9.]+).*/\1/p' "$gomod" 2>/dev/null | head -n 1)"
  [ -z "$want" ] || require_go "$want"
}

# `go mod tidy -e` goes on past errors (some test-only dependencies of these modules are not served
# here); when the build then fails, show what tidy could not fetch.
build_failed() { # name dir
  die "building $1 failed; modules the Go proxy did not serve (from $2/tidy.log):
$(grep -E 'proxy|404|403|410|cannot find module|verifying|dial' "$2/tidy.log" 2>/dev/null | head -n 10)"
}
timed() { local t0=$SECONDS; "$@"; log "  took $((SECONDS - t0)) s"; }

build_kubernetes() {
  local v="$KIC_K8S_VERSION" minor dir
  stamp_ok kubernetes "$v" && return 0
  log "building Kubernetes $v (cold: tens of minutes on 2 cores)"
  minor="v0.${v#v1.}"                            # v1.34.4 -> staging modules at v0.34.4
  dir="$KIC_BUILD/kubernetes-$v"; mkdir -p "$dir"
  local gomod
  fetch_module "k8s.io/kubernetes@$v"
  require_module_go "k8s.io/kubernetes@$v"
  gomod="$(cat "$(go env GOMODCACHE)/cache/download/k8s.io/kubernetes/@v/$v.mod")"
  {
    echo "module kic.local/kubernetes-build"
    echo
    echo "$gomod" | grep -E '^go ' | head -1
    echo "$gomod" | grep -E '^godebug ' || true
    echo
    echo "require k8s.io/kubernetes $v"
    echo
    # Every `k8s.io/x => ./staging/src/k8s.io/x` becomes `k8s.io/x => k8s.io/x v0.N.P`.
    echo "$gomod" | sed -nE 's#^[[:space:]]*(k8s\.io/[^[:space:]]+) => \./staging/.*#replace \1 => \1 '"$minor"'#p'
  } >"$dir/go.mod"
  cat >"$dir/tools.go" <<'GO'
//go:build tools

package tools

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
	_ "k8s.io/kubernetes/cmd/kube-scheduler"
	_ "k8s.io/kubernetes/cmd/kubelet"
	_ "k8s.io/kubectl/pkg/cmd"
)
GO
  (cd "$dir" && go mod tidy -e >/dev/null 2>"$dir/tidy.log" || true)
  local major="${v#v}"; major="${major%%.*}"
  local mnr="${v#v*.}"; mnr="${mnr%%.*}"
  local ld=""
  for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ld="$ld -X $p.gitVersion=$v -X $p.gitMajor=$major -X $p.gitMinor=$mnr -X $p.gitTreeState=clean"
  done
  (cd "$dir" && go build -trimpath -ldflags "-s -w $ld" -o "$KIC_BIN/" \
      k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager \
      k8s.io/kubernetes/cmd/kube-scheduler k8s.io/kubernetes/cmd/kubelet \
      k8s.io/kubernetes/cmd/kubectl) || build_failed kubernetes "$dir"
  stamp kubernetes "$v"
}

# Builds main packages of published modules inside a generated wrapper module.
# A wrapper (rather than `go install pkg@v`) also avoids the proxy's version list, which is refused
# for some modules here (cri-tools) although the pinned version itself is served.
build_wrapped() { # name version "module@version ..." "package=binary ..." ["module@version" to pin] [ldflags]
  local name="$1" v="$2" mods="$3" pkgs="$4" pins="${5:-}" ldflags="${6:-}" dir m p
  stamp_ok "$name" "$v" && return 0
  log "building $name $v"
  for m in $mods; do fetch_module "$m"; require_module_go "$m"; done
  dir="$KIC_BUILD/$name-$v"; mkdir -p "$dir"
  {
    echo "module kic.local/$name-build"; echo; echo "go 1.24"; echo
    for m in $mods; do echo "require ${m%@*} ${m#*@}"; done
    for m in $pins; do echo "replace ${m%@*} => ${m%@*} ${m#*@}"; done
  } >"$dir/go.mod"
  {
    echo '//go:build tools'; echo; echo 'package tools'; echo
    for p in $pkgs; do echo "import _ \"${p%=*}\""; done
  } >"$dir/tools.go"
  (cd "$dir" && go mod tidy -e >/dev/null 2>"$dir/tidy.log" || true)
  for p in $pkgs; do
    mkdir -p "$(dirname "$KIC_BIN/${p#*=}")"
    (cd "$dir" && go build -trimpath -ldflags "-s -w $ldflags" -o "$KIC_BIN/${p#*=}" "${p%=*}") || build_failed "$name" "$dir"
  done
  stamp "$name" "$v"
}

build_etcd() { build_wrapped etcd "$KIC_ETCD_VERSION" \
  "go.etcd.io/etcd/server/v3@$KIC_ETCD_VERSION go.etcd.io/etcd/etcdctl/v3@$KIC_ETCD_VERSION" \
  "go.etcd.io/etcd/server/v3=etcd go.etcd.io/etcd/etcdctl/v3=etcdctl"; }
# cri-tools v1.34.0 requires release candidates of the k8s.io modules whose checksums the checksum
# database here does not have; the matching final releases are served, so pin those.
build_crictl() { build_wrapped crictl "$KIC_CRICTL_VERSION" "sigs.k8s.io/cri-tools@$KIC_CRICTL_VERSION" \
  "sigs.k8s.io/cri-tools/cmd/crictl=crictl" \
  "$(for m in api apimachinery client-go cri-api cri-client kubectl kubelet cli-runtime component-base; do
       printf 'k8s.io/%s@v0.34.4 ' "$m"; done)"; }
build_helm() { build_wrapped helm "$KIC_HELM_VERSION" "helm.sh/helm/v3@$KIC_HELM_VERSION" \
  "helm.sh/helm/v3/cmd/helm=helm"; }
# containerd 2.x beside Debian's 1.6 (which stays the default runtime): its daemon, ctr and runc shim
# go into their own directory, $KIC_CONTAINERD2_BIN, which whoever starts it puts first on PATH (the
# daemon finds its shim on PATH; 1.6's shim of the same name is in /usr/bin). CGO_ENABLED=0 leaves
# out only the btrfs snapshotter (it needs cgo); overlayfs is all the tests use. runc is Debian's.
build_containerd2() { local v="$KIC_CONTAINERD2_VERSION" m=github.com/containerd/containerd/v2
  build_wrapped containerd2 "$v" "$m@$v" \
  "$m/cmd/containerd=containerd2/containerd $m/cmd/ctr=containerd2/ctr $m/cmd/containerd-shim-runc-v2=containerd2/containerd-shim-runc-v2" \
  "" "-X $m/version.Version=$v"; }
# CRI-O (its daemon and pinns, which makes the pods' namespaces) into $KIC_CRIO_BIN; conmon and
# runc come from Debian. The build tags leave out what needs C libraries this machine lacks
# (gpgme, btrfs, devicemapper, ostree) and, with CGO_ENABLED=0, seccomp: enough for the agent's
# tests, which need images, sandboxes and containers, not hardening.
build_crio() { local v="$KIC_CRIO_VERSION" m=github.com/cri-o/cri-o src
  # Some of CRI-O's dependencies (pseudo-versions of containerd/nri, CloudNativeAI/model-spec) have no
  # entry in the checksum database here: the wrapper starts from CRI-O's own go.sum, which pins them.
  if ! stamp_ok crio "$v"; then
    fetch_module "$m@$v"
    mkdir -p "$KIC_BUILD/crio-$v"
    cp "$(go env GOMODCACHE)/$m@$v/go.sum" "$KIC_BUILD/crio-$v/go.sum"
    chmod u+w "$KIC_BUILD/crio-$v/go.sum"
  fi
  GOFLAGS="$GOFLAGS -tags=containers_image_openpgp,containers_image_ostree_stub,exclude_graphdriver_btrfs,exclude_graphdriver_devicemapper,btrfs_noversion" \
    build_wrapped crio "$v" "$m@$v" "$m/cmd/crio=crio/crio"
  [ -x "$KIC_CRIO_BIN/pinns" ] && return 0
  src="$(go env GOMODCACHE)/$m@$v/pinns/src"
  log "building pinns $v"
  gcc -std=c99 -Os -static -o "$KIC_CRIO_BIN/pinns" "$src"/*.c || die "building pinns (C, from $src) failed: is gcc (build-essential) installed?"
}
build_kwok() { build_wrapped kwok "$KIC_KWOK_VERSION" "sigs.k8s.io/kwok@$KIC_KWOK_VERSION" \
  "sigs.k8s.io/kwok/cmd/kwok=kwok"; }

# A plain module with no replace directives: `go install pkg@version` builds it as published, its
# dependencies checked against its own go.sum. -mod is not for `go install pkg@version`.
build_actionlint() { local v="$KIC_ACTIONLINT_VERSION" m=github.com/rhysd/actionlint
  stamp_ok actionlint "$v" && [ -x "$KIC_BIN/actionlint" ] && return 0
  log "building actionlint $v"
  fetch_module "$m@$v"
  require_module_go "$m@$v"
  GOFLAGS= GOBIN="$KIC_BIN" go install -trimpath -ldflags "-s -w" "$m/cmd/actionlint@$v" \
    || die "go install $m/cmd/actionlint@$v failed (see above)"
  [ "$("$KIC_BIN/actionlint" -version | head -n 1)" = "$v" ] || die "actionlint -version does not say $v"
  stamp actionlint "$v"
}

# `tests`: what the suites and the local cluster use. kwok only simulates nodes for the benchmarks
# (test/cluster/kwok.sh builds it on first use), so a fresh `npm test` does not wait for it.
what="${1:-all}"
case "$what" in
  tests) for t in crictl helm actionlint etcd kubernetes containerd2 crio; do timed "build_$t"; done ;;
  all) for t in crictl helm actionlint kwok etcd kubernetes containerd2 crio; do timed "build_$t"; done ;;
  kubernetes|etcd|crictl|helm|kwok|containerd2|crio|actionlint) timed "build_$what" ;;
  *) die "unknown build target '$what' (tests|all|kubernetes|etcd|crictl|helm|kwok|containerd2|crio|actionlint)" ;;
esac
log "binaries ready in $KIC_BIN"
