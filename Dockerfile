# syntax=docker/dockerfile:1
# One image for both halves of kube-image-cleanup: the controller (`run`, in the CronJob's pod) and
# the agent (`agent`, in the privileged helper pod on each node, which reaches the node's own
# crictl/ctr through nsenter).
#
# test/cluster/images.sh assembles the same layout without a Docker engine for the local test
# cluster; test/unit/image-layout.test.ts checks that both agree (entrypoint, workdir, paths, user).
#
# Base image: pinned by tag only. At release, pin it by digest as well
# (node:20-bookworm-slim@sha256:<digest>, from `docker buildx imagetools inspect node:20-bookworm-slim`).
# The digest could not be looked up where this file was written (no registry access there), and a
# made-up digest would be worse than none.
# bookworm-slim, not distroless or alpine: the agent needs util-linux's nsenter, which Debian's
# essential packages include.
ARG NODE_IMAGE=node:20-bookworm-slim

# --- dependencies, dev included (the build needs typescript)
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
# `npm install` from the lock file, not `npm ci`: npm 11 writes lock files without other platforms'
# optional packages and `npm ci` then refuses them. `npm install` still installs the locked versions.
RUN npm install --no-audit --no-fund --ignore-scripts

# --- compile TypeScript to dist/
FROM deps AS build
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

# --- production dependencies only
FROM ${NODE_IMAGE} AS prod-deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm install --omit=dev --no-audit --no-fund --ignore-scripts && npm cache clean --force

# --- runtime
FROM ${NODE_IMAGE}
# Fail the build here, not on a node at 3 a.m., if a base image change ever drops nsenter.
RUN command -v nsenter
ENV NODE_ENV=production
WORKDIR /app
COPY package.json ./
COPY --from=prod-deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
RUN chmod +x /app/dist/cli.js && ln -s /app/dist/cli.js /usr/local/bin/kube-image-cleanup
# The base image's `node` user, by number so the kubelet can verify runAsNonRoot. The chart runs the
# controller as this user and only the helper pods as root (privileged, by design).
USER 1000:1000
# node directly, not `npm start`: npm does not forward SIGTERM, and the controller must receive it
# to delete its helper pods.
ENTRYPOINT ["node", "/app/dist/cli.js"]
