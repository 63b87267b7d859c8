# syntax=docker/dockerfile:1
# NTA collector: JetStream consumer, scoring, enrichment, storage, REST + WebSocket API and the
# web console. Build from the repository root (the ignore list is collector.Dockerfile.dockerignore,
# which BuildKit reads because it sits next to this file):
#   docker build -f deploy/docker/collector.Dockerfile -t nta/collector:0.1.0 .
# Configuration is the environment (NATS_URL, DATABASE_URL, ... see README.md); no secret is
# baked in: pass DATABASE_URL and NATS credentials at run time.

ARG NODE_MAJOR=20

FROM node:${NODE_MAJOR}-bookworm AS build
# libpcap-dev, python3, make, g++: `pnpm install` builds every allowed native addon of the
# workspace with node-gyp, the agent's `cap` included, even though this image does not ship the
# agent (node:bookworm has most of them already; apt makes sure).
RUN apt-get update \
 && apt-get install -y --no-install-recommends libpcap-dev python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
# node-gyp compiles against the headers in this image instead of downloading them.
ENV npm_config_nodedir=/usr/local \
    CI=true
WORKDIR /src
COPY package.json pnpm-lock.yaml pnpm-workspace.yaml tsconfig.base.json ./
# pnpm at exactly the version the workspace pins (`packageManager` in package.json), from the
# npm registry. Corepack would do the same, but it checks pnpm's signature with keys built into
# each Node release, and a key rotation on the registry's side has broken such builds before.
RUN npm install -g "$(node -p 'require("./package.json").packageManager')"
# Manifests first: the dependency layer is reused until a manifest or the lockfile changes.
COPY packages/shared/package.json packages/shared/
COPY packages/agent/package.json packages/agent/
COPY packages/collector/package.json packages/collector/
COPY packages/dashboard/package.json packages/dashboard/
RUN pnpm install --frozen-lockfile
COPY packages ./packages
# Builds shared, agent and collector (tsc) and the console (packages/dashboard/dist).
RUN pnpm run build
# A self-contained copy of the collector with its production dependencies only, resolved from
# the workspace lockfile (inject-workspace-packages makes pnpm 10 deploy use it).
RUN pnpm --filter @nta/collector --config.inject-workspace-packages=true deploy --prod /out/collector \
 && rm -rf /out/collector/src /out/collector/tsconfig.json /out/collector/*.tsbuildinfo \
 && mkdir -p /out/dashboard \
 && cp -a packages/dashboard/dist /out/dashboard/dist

FROM node:${NODE_MAJOR}-bookworm-slim AS runtime
ARG VERSION=0.1.0
ARG REVISION=unknown
# Where the source lives (e.g. your repository URL); empty unless given at build time.
ARG SOURCE_URL=""
LABEL org.opencontainers.image.title="nta-collector" \
      org.opencontainers.image.description="NTA collector: flows from NATS JetStream scored, enriched and stored in TimescaleDB/PostgreSQL; REST, WebSocket and web console" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.source="${SOURCE_URL}" \
      org.opencontainers.image.base.name="docker.io/library/node:20-bookworm-slim"
# A fixed numeric uid, so Kubernetes can enforce runAsNonRoot without resolving names.
RUN groupadd --system --gid 10001 nta \
 && useradd --system --uid 10001 --gid nta --home-dir /app --no-create-home --shell /usr/sbin/nologin nta
WORKDIR /app
COPY --from=build --chown=root:root /out/collector /app/packages/collector
COPY --from=build --chown=root:root /out/dashboard/dist /app/packages/dashboard/dist
# Code stays root-owned and read-only for the service user; the collector writes nothing to disk.
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=8080 \
    NTA_CONSOLE_DIR=/app/packages/dashboard/dist
USER 10001:10001
EXPOSE 8080
# slim has no curl: Node's own fetch. /healthz is 503 while the database or NATS is unreachable.
# The long start period covers migrations on a large database (HTTP listens after them).
HEALTHCHECK --interval=15s --timeout=5s --start-period=120s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||8080)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# SIGTERM: the collector stores and acknowledges the group in hand, then exits.
STOPSIGNAL SIGTERM
CMD ["node", "packages/collector/dist/cli.js"]
