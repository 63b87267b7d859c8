#!/bin/sh
# Entry point of the agent image: `nta-agent capture`, with the flags that have no environment
# variable of their own taken from the environment, so Compose files and Kubernetes manifests
# can set everything as variables. Arguments given to the container are passed on after them
# (a repeated flag: the last one wins).
#   NTA_INTERFACE  capture interface (unset: the agent picks the first interface that is up and
#                  not loopback, preferring the one with the default route)
#   NTA_FILTER     BPF capture filter, e.g. "not port 4222"
#   NTA_NODE_NAME  Kubernetes node name: the agent id when NTA_AGENT_ID is unset, made valid
#                  (agent ids are 1-64 characters of A-Z a-z 0-9 _ -; node names may have dots)
# The agent itself reads NATS_URL, NATS_USER, NATS_PASSWORD, NATS_TOKEN, NATS_CREDS,
# NTA_AGENT_ID, NTA_SPOOL_DIR and LOG_LEVEL. NTA_AGENT_CLI points at another agent build (tests).
set -eu

# Compose and Helm pass a variable that is "not set" as an empty string, which the agent would
# refuse (an empty agent id) or misuse (an empty password): empty means unset here.
for name in NATS_URL NATS_USER NATS_PASSWORD NATS_TOKEN NATS_CREDS NTA_AGENT_ID NTA_SPOOL_DIR LOG_LEVEL; do
  if [ -z "$(printenv "$name" || true)" ]; then unset "$name"; fi
done

if [ -z "${NTA_AGENT_ID:-}" ] && [ -n "${NTA_NODE_NAME:-}" ]; then
  NTA_AGENT_ID=$(printf '%s' "$NTA_NODE_NAME" | tr -c 'A-Za-z0-9_-' '-' | cut -c 1-64)
  export NTA_AGENT_ID
fi

if [ -n "${NTA_FILTER:-}" ]; then set -- --filter "$NTA_FILTER" "$@"; fi
if [ -n "${NTA_INTERFACE:-}" ]; then set -- --interface "$NTA_INTERFACE" "$@"; fi

# A small young generation keeps a million-flow table under ~200 MiB (as the CLI's shebang does).
exec node --max-semi-space-size=1 "${NTA_AGENT_CLI:-/app/packages/agent/dist/cli.js}" capture "$@"
