#!/usr/bin/env bash
# The version a release tag publishes, checked against every place that names it: the image tag,
# the npm package and the chart's appVersion are one version (the chart's default image is
# <repository>:<appVersion>, the CLI's default helper image <repository>:<package version>).
#   scripts/release-version.sh v0.2.0     prints 0.2.0, or fails naming what disagrees
# Run by .github/workflows/release.yml before anything is published, and by
# test/unit/release/release-version.test.ts.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
tag="${1:?usage: release-version.sh vX.Y.Z}"
fail() { printf 'release-version: %s\n' "$*" >&2; exit 1; }
[[ "$tag" =~ ^v([0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.-]+)?)$ ]] ||
  fail "tag '$tag' is not vMAJOR.MINOR.PATCH[-PRERELEASE]"
version="${BASH_REMATCH[1]}"
pkg="$(node -p 'require("./package.json").version')"
[ "$pkg" = "$version" ] || fail "package.json has version $pkg, the tag says $version: set it with npm version $version --no-git-tag-version"
app="$(sed -nE 's/^appVersion: *"?([^"]*)"? *$/\1/p' chart/Chart.yaml)"
[ "$app" = "$version" ] || fail "chart/Chart.yaml has appVersion $app, the tag says $version"
image="$(sed -nE 's/^ *image: *(ghcr\.io\/[^ ]+)$/\1/p' chart/Chart.yaml)"
[ "$image" = "ghcr.io/kube-image-cleanup/kube-image-cleanup:$version" ] ||
  fail "chart/Chart.yaml's artifacthub.io/images names $image, not ghcr.io/kube-image-cleanup/kube-image-cleanup:$version"
printf '%s\n' "$version"
