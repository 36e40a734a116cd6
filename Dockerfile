# One production image per service: docker build --build-arg SERVICE=records -t praxis-records:<version> .
# Node 24 LTS (the same 24.x that scripts/ install under .data/node), compiled JavaScript
# from `tsc -b`, production dependencies only (pnpm deploy --prod), run as uid 10001 on
# a read-only root filesystem (the charts mount an emptyDir at /tmp). Regions deploy it by
# digest: the release pipeline pushes it and writes the digest into the values it hands
# Helm (k8s/regions/*.yaml require one). No container engine runs on the build machines
# here: scripts/k8s-verify proves the charts, and its boot contract runs each service
# with the environment the chart gives it.
ARG NODE_IMAGE=docker.io/library/node:24.22.3-bookworm-slim

FROM ${NODE_IMAGE} AS build
ARG SERVICE
RUN test -n "$SERVICE" || { echo "--build-arg SERVICE=<auth|records|audit|gateway> is required" >&2; exit 1; }
RUN npm install -g pnpm@10.34.9 && npm cache clean --force
WORKDIR /src
COPY pnpm-lock.yaml pnpm-workspace.yaml package.json .npmrc ./
COPY libs/contracts/package.json libs/contracts/
COPY libs/platform/package.json libs/platform/
COPY libs/testing/package.json libs/testing/
COPY services/auth/package.json services/auth/
COPY services/records/package.json services/records/
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

FROM ${NODE_IMAGE}
ARG SERVICE
ENV NODE_ENV=production SERVICE=${SERVICE}
# The base image's npm and corepack are not needed at run time.
RUN rm -rf /usr/local/lib/node_modules/npm /usr/local/lib/node_modules/corepack /usr/local/bin/npm /usr/local/bin/npx /usr/local/bin/corepack
WORKDIR /app
COPY --from=build --chown=root:root /out /app
USER 10001:10001
EXPOSE 8080-8085
ENTRYPOINT ["node", "--enable-source-maps", "--import", "@praxis/platform/telemetry-register", "dist/src/main.js"]
