#!/usr/bin/env bash
# Installs the Debian packages the local cluster needs. Idempotent: installs only what is missing.
#   containerd + runc (+ ctr)     the container runtime the kubelet and the agent talk to
#   conmon                        CRI-O's container monitor (the agent suite on CRI-O; runc as its runtime:
#                                 Debian's crun 1.8.1 refuses CRI-O 1.34's OCI spec version)
#   gcc, libc6-dev                CRI-O's pinns (C, static), built by build-binaries.sh
#   containernetworking-plugins   bridge / host-local / loopback CNI plugins for pod networking
#   busybox-static                a static userland to build small test images from
#   iptables                      used by the bridge CNI plugin; conntrack/socat for kubelet port ops
#   openssl                       certificates
#   iproute2                      `ip`: the node's address on lo, the pod bridge
#   curl, ca-certificates         kwok's health probe; HTTPS to the Go module proxy
#   procps                        pkill (containerd shims of this cluster)
#   util-linux, coreutils         flock (the cluster lock), setsid, nsenter; timeout (every probe)
#   buildah                       builds the project's Dockerfile (as root, overlay storage, chroot
#                                 isolation: no daemon, no registry) into the image the cluster runs
#   mmdebstrap                    makes the Debian bookworm root filesystems the Dockerfile's base
#                                 images are stood in by (base images cannot be pulled here)
#   docker-registry, skopeo       the cluster's OCI registry (distribution 2.8, on loopback; the package's
#                                 service is not used) and the tool that pushes sample images into it
#   prometheus-pushgateway        the real Pushgateway the metrics sink's test pushes to (the test
#                                 starts its own on loopback; the package's service is not used)
#   docker.io                     dockerd 20.10 for the agent's docker client tests: test/support/dockerd.ts
#                                 starts its own (own data root, exec root and socket, no bridge, no
#                                 iptables); the package's service is never started (below)
#   ShellCheck (shellcheck)       actionlint runs it on the workflows' `run:` scripts
#   promtool                      checks and unit-tests the chart's PrometheusRule: taken out of
#                                 Debian's prometheus package into $KIC_BIN, not installed (the
#                                 package would also bring a Prometheus server and its service)
# Go is not installed here: Debian 12's golang-go (1.19) is too old for the pinned builds;
# build-binaries.sh checks the Go on PATH and says what to install.
set -euo pipefail
pkgs=(containerd runc conmon gcc libc6-dev containernetworking-plugins busybox-static iptables conntrack socat openssl
  iproute2 curl ca-certificates procps util-linux coreutils buildah mmdebstrap prometheus-pushgateway
  docker-registry skopeo docker.io shellcheck)
missing=()
for p in "${pkgs[@]}"; do
  [[ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null)" == *"install ok installed"* ]] || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "[cluster] installing Debian packages: ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  # No package may start its service: docker.io's would be a system dockerd that adds a docker0
  # bridge and iptables rules to this machine's network. invoke-rc.d and deb-systemd-invoke ask
  # policy-rc.d first, and 101 means "denied"; one already in place comes back afterwards.
  policy=/usr/sbin/policy-rc.d saved=""
  if [ -e "$policy" ]; then saved="$(mktemp)" && cp -p "$policy" "$saved"; fi
  trap 'if [ -n "$saved" ]; then mv -f "$saved" "$policy"; else rm -f "$policy"; fi' EXIT
  printf '#!/bin/sh\n# test/cluster/install-deps.sh: no service starts while packages install\nexit 101\n' >"$policy"
  chmod 755 "$policy"
  apt-get update -qq >/dev/null
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# The suites start their own containerd, dockerd and Pushgateway, each with its own root, state and
# socket; a system instance, where one runs, is left as it is.

# promtool, stamped with the Debian version it came from.
# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
promtool_version() { apt-cache policy prometheus 2>/dev/null | sed -n 's/^ *Candidate: //p'; }
v="$(promtool_version)"
if [ -z "$v" ] || [ "$v" = "(none)" ]; then
  apt-get update -qq >/dev/null
  v="$(promtool_version)"
fi
if [ -z "$v" ] || [ "$v" = "(none)" ]; then
  die "Debian's package list has no prometheus package (for promtool)"
fi
if ! { [ -x "$KIC_BIN/promtool" ] && [ "$(cat "$KIC_BIN/.promtool.stamp" 2>/dev/null)" = "$v" ]; }; then
  echo "[cluster] unpacking promtool from Debian's prometheus $v" >&2
  mkdir -p "$KIC_BIN"
  deb="$(mktemp -d)"
  # apt downloads as _apt where it can: the directory must let it write.
  chmod 0755 "$deb"
  chown _apt "$deb" 2>/dev/null || true
  (cd "$deb" && apt-get download -qq "prometheus=$v" >/dev/null)
  dpkg-deb --fsys-tarfile "$deb"/prometheus_*.deb | tar -x -C "$deb" ./usr/bin/promtool
  install -m 0755 "$deb/usr/bin/promtool" "$KIC_BIN/promtool"
  rm -rf "$deb"
  echo "$v" >"$KIC_BIN/.promtool.stamp"
fi
