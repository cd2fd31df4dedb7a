#!/usr/bin/env bash
# Builds the image's runtime clients, crictl and ctr, into OUTDIR for GOOS/GOARCH (default: this
# machine's), statically (CGO_ENABLED=0), at the versions go.mod/go.sum pin, with their version
# stamped. The Dockerfile's `clients` stage runs this for the image's TARGETARCH on the builder's
# own platform; test/integration/image/cross-build.test.ts runs it for arm64 here, where no arm64
# emulation exists: a static Go cross-build needs none.
#   GOARCH=arm64 runtime-clients/build.sh OUTDIR
# Each binary is checked with `go version -m` (its platform and the module version it was built
# from); it is also run, and its version compared, when it was built for this machine.
set -euo pipefail
out="${1:?usage: [GOOS=linux] [GOARCH=arm64] build.sh OUTDIR}"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
export CGO_ENABLED=0 GOTOOLCHAIN=local GOFLAGS="-trimpath -mod=readonly"
export GOOS="${GOOS:-linux}"
export GOARCH="${GOARCH:-$(go env GOHOSTARCH)}"
mkdir -p "$out"
die() { printf 'build.sh: %s\n' "$*" >&2; exit 1; }

# client dir, module, package, version variable, expected `--version` output (printf, %s: version)
build() {
  local client="$1" module="$2" pkg="$3" var="$4" v info
  v="$(cd "$here/$client" && go list -m -f '{{.Version}}' "$module")"
  (cd "$here/$client" && go build -ldflags "-s -w -X $var=$v" -o "$out/$client" "$pkg")
  info="$(go version -m "$out/$client")"
  grep -qx "[[:space:]]*build[[:space:]]*GOOS=$GOOS" <<<"$info" || die "$client is not built for GOOS=$GOOS"
  grep -qx "[[:space:]]*build[[:space:]]*GOARCH=$GOARCH" <<<"$info" || die "$client is not built for GOARCH=$GOARCH"
  grep -qx "[[:space:]]*build[[:space:]]*CGO_ENABLED=0" <<<"$info" || die "$client is not static (CGO_ENABLED=0)"
  grep -qE "^[[:space:]]*mod[[:space:]]+${module}[[:space:]]+${v}([[:space:]]|$)" <<<"$info" ||
    die "$client was not built from $module $v"
  if [ "$GOOS/$GOARCH" = "$(go env GOHOSTOS)/$(go env GOHOSTARCH)" ]; then
    local want
    # shellcheck disable=SC2059 # the format is this script's own argument
    want="$(printf "$5" "$v")"
    [ "$("$out/$client" --version)" = "$want" ] || die "$client --version is not '$want'"
  fi
  printf '%s %s %s/%s\n' "$client" "$v" "$GOOS" "$GOARCH"
}

build crictl sigs.k8s.io/cri-tools sigs.k8s.io/cri-tools/cmd/crictl \
  sigs.k8s.io/cri-tools/pkg/version.Version "crictl version %s"
c=github.com/containerd/containerd/v2
build ctr "$c" "$c/cmd/ctr" "$c/version.Version" "ctr $c %s"
