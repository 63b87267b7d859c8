#!/usr/bin/env bash
# Installs the NTA agent as a systemd service on a Debian/Ubuntu host with Node.js 20+, from
# this source tree: builds the agent, puts a self-contained copy (production dependencies only)
# in /opt/nta, creates the system user `nta`, writes /etc/nta/agent.env once (never overwrites
# it) and installs and enables nta-agent.service. Safe to run again: it replaces the code and
# the unit, keeps the settings, and restarts the service if it was running.
#   sudo deploy/systemd/install.sh [--nats URL] [--interface IF] [--start]
# NTA_INSTALL_ROOT=/some/dir stages everything under that directory instead of / (no user,
# no systemctl): for packaging and tests.
set -euo pipefail

usage() { echo "usage: $0 [--nats URL] [--interface IF] [--start]" >&2; exit 2; }
nats_url="" iface="" start=0
while (($#)); do
  case "$1" in
    --nats) [[ $# -ge 2 ]] || usage; nats_url="$2"; shift 2 ;;
    --interface) [[ $# -ge 2 ]] || usage; iface="$2"; shift 2 ;;
    --start) start=1; shift ;;
    -h|--help) usage ;;
    *) echo "unknown option: $1" >&2; usage ;;
  esac
done

say() { printf 'nta-agent install: %s\n' "$*" >&2; }
die() { say "error: $*"; exit 1; }

root="${NTA_INSTALL_ROOT:-/}"
root="${root%/}"
staged=0
if [[ -n "$root" ]]; then staged=1; fi
[[ -z "$iface" || "$iface" =~ ^[A-Za-z0-9_.:@-]{1,15}$ ]] || die "--interface: not an interface name: $iface"
[[ -z "$nats_url" || "$nats_url" =~ ^[A-Za-z0-9+.:/@%,_-]+$ ]] || die "--nats: not a NATS URL: $nats_url"
src="$(cd "$(dirname "$0")/../.." && pwd)"
prefix="$root/opt/nta"
[[ -f "$src/packages/agent/package.json" ]] || die "run this from an NTA source tree ($src has no packages/agent)"
(( staged )) || [[ $(id -u) -eq 0 ]] || die "run as root (sudo $0)"

node_bin="$(command -v node || true)"
[[ -n "$node_bin" ]] || die "Node.js 20 or newer is required (apt-get install nodejs, or NodeSource)"
node_major="$("$node_bin" -p 'process.versions.node.split(".")[0]')"
(( node_major >= 20 )) || die "Node.js 20 or newer is required, found $("$node_bin" --version)"

if (( ! staged )); then
  say "system packages (libpcap, and a compiler for the capture addon)"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    libpcap0.8 libpcap-dev python3 make g++ iproute2 >/dev/null
fi

say "building the agent"
cd "$src"
pnpm_version="$("$node_bin" -p 'require("./package.json").packageManager.split("@")[1]')"
command -v pnpm >/dev/null || npm install -g --silent "pnpm@$pnpm_version" >/dev/null
# node-gyp builds the capture addon against the installed Node headers instead of downloading.
if [[ -z "${npm_config_nodedir:-}" && -f /usr/include/node/node.h ]]; then export npm_config_nodedir=/usr; fi
pnpm install --frozen-lockfile --reporter=silent
pnpm exec tsc -b packages/shared packages/agent
stage="$(mktemp -d)"
trap 'rm -rf "$stage"' EXIT
pnpm --filter @nta/agent --config.inject-workspace-packages=true --reporter=silent deploy --prod "$stage/agent"
rm -rf "$stage/agent/src" "$stage/agent/test-support" "$stage/agent/tsconfig.json" "$stage"/agent/*.tsbuildinfo
"$node_bin" "$stage/agent/dist/cli.js" --version >/dev/null || die "the built agent does not start"

say "installing into $prefix"
install -d -m 0755 "$prefix/packages" "$prefix/deploy"
rm -rf "$prefix/packages/agent.new"
cp -a "$stage/agent" "$prefix/packages/agent.new"
chown -R root:root "$prefix/packages/agent.new" 2>/dev/null || true
rm -rf "$prefix/packages/agent.old"
if [[ -d "$prefix/packages/agent" ]]; then mv "$prefix/packages/agent" "$prefix/packages/agent.old"; fi
mv "$prefix/packages/agent.new" "$prefix/packages/agent"
rm -rf "$prefix/packages/agent.old"
install -m 0644 "$src/deploy/README.md" "$prefix/deploy/README.md"

if (( ! staged )) && ! id nta >/dev/null 2>&1; then
  say "creating system user nta"
  useradd --system --home-dir /var/lib/nta-agent --no-create-home --shell /usr/sbin/nologin nta
fi

install -d -m 0755 "$root/etc/nta"
env_file="$root/etc/nta/agent.env"
if [[ -e "$env_file" ]]; then
  say "keeping $env_file"
else
  [[ -n "$iface" ]] || iface="$(ip -o route show default 2>/dev/null | awk '{for (i = 1; i < NF; i++) if ($i == "dev") { print $(i + 1); exit }}')"
  [[ -n "$iface" ]] || iface="eth0"
  [[ -n "$nats_url" ]] || nats_url="nats://127.0.0.1:4222"
  say "writing $env_file (interface $iface, NATS $nats_url)"
  (umask 077 && sed -e "s|^NATS_URL=.*|NATS_URL=$nats_url|" -e "s|^NTA_INTERFACE=.*|NTA_INTERFACE=$iface|" \
    "$src/deploy/systemd/agent.env.example" >"$env_file")
fi

unit="$root/etc/systemd/system/nta-agent.service"
install -d -m 0755 "$(dirname "$unit")"
# The unit names /usr/bin/node; point it at this host's node if it lives elsewhere.
sed -e "s|^ExecStart=/usr/bin/node |ExecStart=$node_bin |" "$src/deploy/systemd/nta-agent.service" >"$unit.tmp"
chmod 0644 "$unit.tmp"
mv "$unit.tmp" "$unit"

if (( staged )); then say "staged under $root"; exit 0; fi
if ! command -v systemctl >/dev/null || [[ ! -d /run/systemd/system ]]; then
  say "systemd is not running here: unit installed, not enabled"; exit 0
fi
systemctl daemon-reload
systemctl enable nta-agent.service >/dev/null
if systemctl is-active --quiet nta-agent.service; then
  systemctl restart nta-agent.service; say "restarted nta-agent"
elif (( start )); then
  systemctl start nta-agent.service; say "started nta-agent"
else
  say "installed; edit $env_file, then: systemctl start nta-agent"
fi
