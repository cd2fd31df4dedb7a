#!/usr/bin/env bash
# Local stand-ins for the Dockerfile's base images, which cannot be pulled here (no registry). Each
# has the layout of the official image where the Dockerfile relies on it:
#   debian   debian:bookworm-slim     a Debian bookworm root filesystem from Debian's own packages
#                                     (mmdebstrap --variant=minbase, docs/man/locales left out as in
#                                     the official slim image)
#   node     node:20-bookworm-slim    debian + this machine's Node.js at /usr/local/bin/node, npm at
#                                     /usr/local/lib/node_modules/npm, user node (1000:1000)
#   golang   golang:1.26-bookworm     debian + this machine's Go toolchain at /usr/local/go,
#                                     GOPATH=/go, GOTOOLCHAIN=local (no C compiler: the clients are
#                                     built with CGO_ENABLED=0)
# They live in the project's buildah storage, tagged with a key of their content, so a warm run
# finds them and does nothing. Prints the build arguments that select them, one NAME=REF a line.
#   base-images.sh
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=lib.sh
. "$here/lib.sh"

dir="$KIC_IMAGES/stand-in"
mkdir -p "$dir"
key_of() { sha256sum | cut -c1-12; }
have() { buildah_kic inspect --type image "$1" >/dev/null 2>&1; }

# The root filesystem, made once and kept: Debian's archive moves on, and every image key below
# depends on this file's content.
rootfs="$dir/bookworm-slim.tar"
if [ ! -f "$rootfs" ]; then
  log "making a Debian bookworm root filesystem with mmdebstrap (about a minute)"
  command -v mmdebstrap >/dev/null || die "mmdebstrap is not installed: run test/cluster/install-deps.sh"
  excludes=()
  for p in /usr/share/doc/'*' /usr/share/man/'*' /usr/share/info/'*' /usr/share/locale/'*' \
    /usr/share/lintian/'*' /usr/share/groff/'*'; do
    excludes+=("--dpkgopt=path-exclude=$p")
  done
  mmdebstrap --quiet --variant=minbase "${excludes[@]}" \
    --dpkgopt='path-include=/usr/share/doc/*/copyright' bookworm "$dir/partial.tar" >&2 \
    || die "mmdebstrap failed (it needs Debian's package mirror; see the output above)"
  # mmdebstrap picks its output format from the file name: keep ".tar" at the end.
  mv "$dir/partial.tar" "$rootfs"
fi
rootfs_key="$(key_of <"$rootfs")"

commit() { # container ref
  buildah_kic commit --quiet --rm "$1" "$2" >/dev/null
}

debian="localhost/kic-stand-in/debian:bookworm-slim-$rootfs_key"
if ! have "$debian"; then
  log "stand-in $debian"
  c="$(buildah_kic from --quiet scratch)"
  buildah_kic add "$c" "$rootfs" / >/dev/null
  buildah_kic config --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    --cmd bash "$c"
  commit "$c" "$debian"
fi

node_bin="$(readlink -f "$(command -v node)")"
npm_dir="$(dirname "$node_bin")/../lib/node_modules/npm"
[ -f "$npm_dir/package.json" ] || die "npm not found next to $node_bin (looked in $npm_dir)"
node_version="$("$node_bin" --version)"
node_key="$( (echo "$rootfs_key"; sha256sum "$node_bin"; cat "$npm_dir/package.json") | key_of)"
node="localhost/kic-stand-in/node:${node_version#v}-bookworm-slim-$node_key"
if ! have "$node"; then
  log "stand-in $node"
  c="$(buildah_kic from --quiet --pull=never "$debian")"
  buildah_kic copy "$c" "$node_bin" /usr/local/bin/node >/dev/null
  buildah_kic copy "$c" "$npm_dir" /usr/local/lib/node_modules/npm >/dev/null
  # As in docker-node's Dockerfile: the user first, then npm/npx on the PATH.
  buildah_kic run --isolation chroot "$c" -- sh -ec '
    groupadd --gid 1000 node
    useradd --uid 1000 --gid node --shell /bin/bash --create-home node
    ln -s ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm
    ln -s ../lib/node_modules/npm/bin/npx-cli.js /usr/local/bin/npx
    node --version >/dev/null'
  buildah_kic config --env "NODE_VERSION=${node_version#v}" --cmd node "$c"
  commit "$c" "$node"
fi

goroot="$(go env GOROOT)"
go_version="$(go env GOVERSION)"
go_key="$( (echo "$rootfs_key"; echo "$go_version"; sha256sum "$goroot/bin/go") | key_of)"
golang="localhost/kic-stand-in/golang:${go_version#go}-bookworm-$go_key"
if ! have "$golang"; then
  log "stand-in $golang"
  c="$(buildah_kic from --quiet --pull=never "$debian")"
  # The toolchain without its tests and API lists, which a build never reads.
  buildah_kic copy --contextdir "$goroot" --ignorefile /dev/null "$c" "$goroot" /usr/local/go >/dev/null
  buildah_kic run --isolation chroot "$c" -- sh -ec \
    'rm -rf /usr/local/go/test /usr/local/go/api; mkdir -p /go/bin /go/src; /usr/local/go/bin/go version >/dev/null'
  buildah_kic config --env GOLANG_VERSION="${go_version#go}" --env GOTOOLCHAIN=local \
    --env GOPATH=/go --env PATH=/go/bin:/usr/local/go/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    --workingdir /go "$c"
  commit "$c" "$golang"
fi

echo "DEBIAN_IMAGE=$debian"
echo "NODE_IMAGE=$node"
echo "GO_IMAGE=$golang"
