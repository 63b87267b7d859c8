#!/usr/bin/env bash
# Installs whatever NTA needs that this machine lacks, then installs and builds the
# workspace. Idempotent and quick when everything is present.
#   scripts/setup.sh            what `npm start` needs (runtime)
#   scripts/setup.sh --test     plus what the tests and benchmarks need (tcpdump, tshark, Chromium,
#                               TimescaleDB, the deployment validators)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

want_test_tools=0
[[ "${1:-}" == "--test" ]] && want_test_tools=1

step "checking system packages"
pkgs=(libpcap-dev python3 make g++ iproute2 golang-go golang-github-nats-io-nats-server-dev)
(( want_test_tools )) && pkgs+=(tcpdump tshark chromium iputils-ping)
ensure_apt_packages "${pkgs[@]}"

step "checking nats-server"
ensure_nats_server >/dev/null
info "nats-server: $(nats_server_bin)"

step "checking PostgreSQL"
source scripts/db.sh
ensure_postgres
info "PostgreSQL: $(postgres_bin_dir)"
if (( want_test_tools )); then
  step "checking TimescaleDB (Debian 13 tree for the test suite)"
  ensure_timescaledb
  info "TimescaleDB: $(timescaledb_root)"
  step "checking the deployment validators (docker-compose, helm, shellcheck)"
  bash scripts/deploy-tools.sh
fi

step "checking pnpm"
ensure_pnpm
info "pnpm $(pnpm --version)"

step "installing workspace dependencies"
# node-gyp cannot download Node headers here; build native addons (cap) against the system's.
if [[ -z "${npm_config_nodedir:-}" && -f /usr/include/node/node.h ]]; then export npm_config_nodedir=/usr; fi
if [[ -n "${CI:-}" ]]; then
  pnpm install --frozen-lockfile --reporter=append-only | grep -vE '^(Progress|\.\.\./)' || true
else
  pnpm install --reporter=append-only | grep -vE '^(Progress|\.\.\./)' || true
fi
[[ -d node_modules/.pnpm ]] || fail "pnpm install did not complete"

step "building"
pnpm run -s build
info "setup complete"
