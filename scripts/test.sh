#!/usr/bin/env bash
# The one command that runs every test: installs what is missing, builds, lints,
# type-checks, then runs unit and integration tests against real servers.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --test
source scripts/lib.sh
export NTA_NATS_SERVER="$(nats_server_bin)"
step "linting"
pnpm run -s lint
step "type-checking"
pnpm run -s typecheck
step "running tests"
pnpm exec vitest run "$@"
