#!/usr/bin/env bash
# `npm start`: installs what is missing, then starts NTA on this machine (see scripts/start.mjs).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
source scripts/lib.sh
export NTA_NATS_SERVER="$(nats_server_bin)"
exec node scripts/start.mjs "$@"
