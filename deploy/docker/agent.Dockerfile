# syntax=docker/dockerfile:1
# NTA agent: live capture (libpcap) -> flows -> NATS JetStream. Build from the repository root
# (the ignore list is agent.Dockerfile.dockerignore, read by BuildKit next to this file):
#   docker build -f deploy/docker/agent.Dockerfile -t nta/agent:0.1.0 .
# Run it in the host's network namespace with the two capture capabilities, e.g.
#   docker run --network host --cap-drop ALL --cap-add NET_RAW --cap-add NET_ADMIN \
#     -e NATS_URL=nats://collector.example:4222 -e NTA_INTERFACE=eth0 nta/agent:0.1.0
# Settings are environment variables (see agent-entrypoint.sh and README.md); no secret is baked in.

ARG NODE_MAJOR=20

FROM node:${NODE_MAJOR}-bookworm AS build
# libpcap-dev, python3, make, g++: node-gyp builds the native addon `cap` against libpcap
# (node:bookworm has most of them already; apt makes sure).
RUN apt-get update \
 && apt-get install -y --no-install-recommends libpcap-dev python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
# node-gyp compiles against the headers in this image instead of downloading them.
ENV npm_config_nodedir=/usr/local \
    CI=true
WORKDIR /src
COPY package.json pnpm-lock.yaml pnpm-workspace.yaml tsconfig.base.json ./
# pnpm at the version the workspace pins (`packageManager`), from the npm registry; see
# collector.Dockerfile for why not corepack.
RUN npm install -g "$(node -p 'require("./package.json").packageManager')"
COPY packages/shared/package.json packages/shared/
COPY packages/agent/package.json packages/agent/
COPY packages/collector/package.json packages/collector/
COPY packages/dashboard/package.json packages/dashboard/
RUN pnpm install --frozen-lockfile
COPY packages ./packages
RUN pnpm run build
# The agent alone with its production dependencies, from the workspace lockfile; `cap` is
# compiled again inside the deployed copy (pnpm-workspace.yaml allows its build script).
RUN pnpm --filter @nta/agent --config.inject-workspace-packages=true deploy --prod /out/agent \
 && rm -rf /out/agent/src /out/agent/test-support /out/agent/tsconfig.json /out/agent/*.tsbuildinfo \
 && test -f /out/agent/node_modules/cap/build/Release/cap.node

FROM node:${NODE_MAJOR}-bookworm-slim AS runtime
ARG VERSION=0.1.0
ARG REVISION=unknown
# Where the source lives (e.g. your repository URL); empty unless given at build time.
ARG SOURCE_URL=""
LABEL org.opencontainers.image.title="nta-agent" \
      org.opencontainers.image.description="NTA agent: captures packets with libpcap, aggregates flows, publishes them to NATS JetStream" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.source="${SOURCE_URL}" \
      org.opencontainers.image.base.name="docker.io/library/node:20-bookworm-slim"
# Capture privileges: the agent runs as an unprivileged user (uid 10001), and the node binary
# carries file capabilities CAP_NET_RAW (open packet sockets) and CAP_NET_ADMIN (promiscuous
# mode; cap 0.2.1 always asks for it). Why not root: a compromised decoder, which parses
# hostile packets, then holds only those two capabilities instead of uid 0, and cannot write
# the image's files. What it requires of the runtime:
#  - the container must be granted both capabilities (Compose cap_add, Kubernetes
#    securityContext.capabilities.add); without them exec fails with "operation not permitted";
#  - no_new_privs must stay off (Docker's no-new-privileges, Kubernetes
#    allowPrivilegeEscalation: false), as it stops file capabilities from taking effect.
# libcap2-bin is needed only for setcap and is removed afterwards; libpcap0.8 is the runtime
# library `cap` links against.
RUN apt-get update \
 && apt-get install -y --no-install-recommends libpcap0.8 libcap2-bin \
 && setcap cap_net_raw,cap_net_admin+ep "$(readlink -f "$(command -v node)")" \
 && apt-get purge -y --auto-remove libcap2-bin \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 nta \
 && useradd --system --uid 10001 --gid nta --home-dir /var/lib/nta --no-create-home --shell /usr/sbin/nologin nta \
 && install -d -o 10001 -g 10001 -m 0750 /var/lib/nta /var/lib/nta/spool
WORKDIR /app
COPY --from=build --chown=root:root /out/agent /app/packages/agent
COPY --chown=root:root --chmod=0755 deploy/docker/agent-entrypoint.sh /usr/local/bin/nta-agent-entrypoint
ENV NODE_ENV=production \
    NTA_SPOOL_DIR=/var/lib/nta/spool
# Flows wait here while NATS is unreachable: keep it on a volume so a restart does not lose them.
VOLUME ["/var/lib/nta"]
USER 10001:10001
# Healthy while this user holds a packet socket, i.e. the capture is open. /proc/net/packet is
# readable without privileges and lists the owner uid of each packet socket in the network
# namespace (the host's, with host networking).
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "const u=String(process.getuid());process.exit(require('fs').readFileSync('/proc/net/packet','utf8').split('\\n').slice(1).some(l=>l.trim().split(/\\s+/)[7]===u)?0:1)"]
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/nta-agent-entrypoint"]
CMD []
