# One image per service: docker build --build-arg SERVICE=records -t praxis-records:<version> .
# Runs as uid 10001 on a read-only root filesystem (the charts mount /tmp, where tsx
# keeps its compile cache). Not built in this repository's CI: the build machines have
# no container engine; the Helm charts and their tests describe how it runs.
FROM node:20.20-bookworm-slim AS deps
RUN npm install -g pnpm@10.34.9
WORKDIR /app
COPY pnpm-lock.yaml pnpm-workspace.yaml package.json .npmrc ./
COPY libs/contracts/package.json libs/contracts/
COPY libs/platform/package.json libs/platform/
COPY libs/testing/package.json libs/testing/
COPY services/auth/package.json services/auth/
COPY services/records/package.json services/records/
COPY services/audit/package.json services/audit/
COPY services/gateway/package.json services/gateway/
RUN pnpm install --frozen-lockfile

FROM deps AS build
COPY tsconfig.base.json tsconfig.json ./
COPY libs libs
COPY services services
RUN pnpm exec tsc -b libs/contracts libs/platform services/auth services/records services/audit services/gateway

FROM node:20.20-bookworm-slim
ARG SERVICE
ENV NODE_ENV=production SERVICE=${SERVICE} TSX_TSCONFIG_PATH=/app/tsconfig.base.json
WORKDIR /app
COPY --from=build --chown=root:root /app /app
USER 10001:10001
WORKDIR /app/services/${SERVICE}
EXPOSE 8080-8085
ENTRYPOINT ["node", "--enable-source-maps", "--import", "tsx", "--import", "@praxis/platform/telemetry-register", "src/main.ts"]
