# syntax=docker/dockerfile:1
# One image for both halves of kube-image-cleanup: the controller (`run`, in the CronJob's pod) and
# the agent (`agent`, in the helper pod on each node). The agent either reaches the node's own
# crictl/ctr through nsenter (privileged helper) or uses the crictl and ctr built into this image.
#
# Build it (README.md, "Build the image"):
#   docker build -t REGISTRY/kube-image-cleanup:TAG .
#   buildah bud -t REGISTRY/kube-image-cleanup:TAG .
# The test suites build exactly this file with buildah (test/cluster/images.sh); base images cannot
# be pulled there, so they are given as build arguments naming local stand-ins with the same layout
# (test/cluster/base-images.sh).
#
# Base images: pinned by tag only. At release, pin them by digest as well
# (node:20-bookworm-slim@sha256:<digest>, from `docker buildx imagetools inspect node:20-bookworm-slim`).
# The digests could not be looked up where this file was written (no registry access there), and a
# made-up digest would be worse than none.
# The runtime is Debian bookworm-slim, not distroless or alpine: the agent needs util-linux's
# nsenter, which Debian's essential packages include. NODE_IMAGE and DEBIAN_IMAGE must be the same
# Debian release: the final stage runs NODE_IMAGE's node binary on DEBIAN_IMAGE's libraries.
ARG NODE_IMAGE=node:20-bookworm-slim
ARG DEBIAN_IMAGE=debian:bookworm-slim
ARG GO_IMAGE=golang:1.26-bookworm

# A build behind a TLS-intercepting proxy needs that proxy's CA for npm and the Go module proxy.
# Give it as a build secret, never as a file in the context, so no image layer holds it:
#   --secret id=build-ca,src=/etc/ssl/certs/ca-certificates.crt \
#   --build-arg NODE_EXTRA_CA_CERTS=/run/secrets/build-ca \
#   --build-arg npm_config_cafile=/run/secrets/build-ca --build-arg SSL_CERT_FILE=/run/secrets/build-ca
# Without them, the base images' own CA certificates are used.

# Multi-platform (`docker buildx build --platform linux/amd64,linux/arm64`, .github/workflows/
# release.yml): the stages that only compile run on the builder's own platform (BUILDPLATFORM) and
# cross-compile for the image's (TARGETOS/TARGETARCH, set by the builder); only the final stage's
# few RUN steps run as the target (under emulation in CI). Go cross-compiles statically; the
# JavaScript is the same on every platform (no native addons: test/unit/release/npm-package.test.ts).

# --- runtime clients: crictl and ctr, static Go binaries for the target, versions and checksums
# pinned by the go.mod/go.sum in runtime-clients/ (see runtime-clients/README.md). build.sh
# cross-compiles them for GOOS/GOARCH and checks each with `go version -m` (platform, module
# version); test/integration/image/cross-build.test.ts runs the same script for arm64.
FROM --platform=$BUILDPLATFORM ${GO_IMAGE} AS clients
ARG SSL_CERT_FILE
# Set by the builder (BuildKit, buildah) to the image's platform; without them: the builder's own.
ARG TARGETOS
ARG TARGETARCH
WORKDIR /src
COPY runtime-clients ./runtime-clients
RUN --mount=type=secret,id=build-ca \
    --mount=type=cache,target=/go/pkg/mod --mount=type=cache,target=/root/.cache/go-build \
    GOOS="${TARGETOS:-linux}" GOARCH="${TARGETARCH:-$(go env GOHOSTARCH)}" \
    bash runtime-clients/build.sh /out

# --- Node.js of the target: only its binary goes into the runtime (npm, npx, corepack and yarn stay here)
FROM ${NODE_IMAGE} AS node

# --- Node.js of the builder, for the stages that install and compile JavaScript
FROM --platform=$BUILDPLATFORM ${NODE_IMAGE} AS js

# --- dependencies, dev included (the build needs typescript)
FROM js AS deps
ARG NODE_EXTRA_CA_CERTS
ARG npm_config_cafile
WORKDIR /app
COPY package.json package-lock.json ./
# `npm ci`: exactly the lock file, and it fails when package.json and the lock file disagree.
RUN --mount=type=secret,id=build-ca --mount=type=cache,target=/root/.npm \
    npm ci --no-audit --no-fund --ignore-scripts

# --- compile TypeScript to dist/
FROM deps AS build
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build && chmod +x dist/cli.js

# --- production dependencies only
FROM js AS prod-deps
ARG NODE_EXTRA_CA_CERTS
ARG npm_config_cafile
WORKDIR /app
COPY package.json package-lock.json ./
# Type declarations and source maps are never read at run time (the code runs without
# --enable-source-maps): a third of @kubernetes/client-node's size, pulled by every node.
RUN --mount=type=secret,id=build-ca --mount=type=cache,target=/root/.npm \
    npm ci --omit=dev --no-audit --no-fund --ignore-scripts \
    && find node_modules -type f \( -name '*.map' -o -name '*.d.ts' -o -name '*.d.mts' \
       -o -name '*.d.cts' \) -delete \
    && rm -rf node_modules/@types

# --- runtime: Debian slim + node + the runtime clients + the app. No npm, no compiler, no caches.
FROM ${DEBIAN_IMAGE}
COPY --from=node /usr/local/bin/node /usr/local/bin/node
COPY --from=clients /out/crictl /out/ctr /usr/local/bin/
# The same `node` user (1000:1000) as the official Node.js image. The CLI on the PATH as
# `kube-image-cleanup`. Fail the build here, not on a node at 3 a.m., if a base image change ever
# drops nsenter or node or the clients stop running on this base.
RUN groupadd --gid 1000 node \
    && useradd --uid 1000 --gid node --no-create-home --no-log-init --shell /usr/sbin/nologin node \
    && ln -s /app/dist/cli.js /usr/local/bin/kube-image-cleanup \
    && command -v nsenter && node --version && crictl --version && ctr --version
ENV NODE_ENV=production
WORKDIR /app
COPY package.json ./
COPY --from=prod-deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
# By number, so the kubelet can verify runAsNonRoot. The chart runs the controller as this user;
# the helper pods run as root (privileged, or the user the runtime socket needs).
USER 1000:1000
# node directly, not `npm start`: npm does not forward SIGTERM, and the controller must receive it
# to delete its helper pods.
ENTRYPOINT ["node", "/app/dist/cli.js"]
