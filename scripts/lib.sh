# Helpers shared by the setup, test, bench and start scripts. Sourced, not run.
NTA_CACHE_DIR="${NTA_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/nta}"
NATS_SERVER_VERSION_WANTED="2.9"

_step_no=0
step() { _step_no=$((_step_no + 1)); printf '\033[1;32m[nta %d]\033[0m %s\n' "$_step_no" "$*" >&2; }
info() { printf '      %s\n' "$*" >&2; }
fail() { printf '\033[1;31mnta: %s\033[0m\n' "$*" >&2; exit 1; }

as_root() {
  if [[ $(id -u) -eq 0 ]]; then "$@";
  elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then sudo "$@";
  else fail "need root to run: $* (run as root, or install those packages yourself)"; fi
}

_apt_updated=0
ensure_apt_packages() {
  local missing=() p
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  (( ${#missing[@]} == 0 )) && { info "system packages present"; return 0; }
  command -v apt-get >/dev/null || fail "missing packages (${missing[*]}) and no apt-get: install them by hand"
  info "installing ${missing[*]} (apt-get)"
  if (( ! _apt_updated )); then as_root apt-get update -qq; _apt_updated=1; fi
  # tshark asks whether non-root users may capture; answer no without a prompt.
  echo 'wireshark-common wireshark-common/install-setuid boolean false' | as_root debconf-set-selections 2>/dev/null || true
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

nats_server_bin() {
  if [[ -n "${NTA_NATS_SERVER:-}" ]]; then echo "$NTA_NATS_SERVER"; return; fi
  if command -v nats-server >/dev/null; then command -v nats-server; return; fi
  echo "$NTA_CACHE_DIR/bin/nats-server"
}

# Debian 12 ships nats-server only as Go source; build it once into the cache.
ensure_nats_server() {
  local bin; bin=$(nats_server_bin)
  if [[ -x "$bin" ]]; then echo "$bin"; return 0; fi
  [[ -d /usr/share/gocode/src/github.com/nats-io/nats-server ]] \
    || ensure_apt_packages golang-go golang-github-nats-io-nats-server-dev
  info "building nats-server from Debian's Go source (about 20 s, once)"
  mkdir -p "$NTA_CACHE_DIR/bin" "$NTA_CACHE_DIR/gobuild"
  GOPATH=/usr/share/gocode GO111MODULE=off GOCACHE="$NTA_CACHE_DIR/gobuild" \
    go build -o "$bin.tmp" github.com/nats-io/nats-server >&2
  mv "$bin.tmp" "$bin"
  echo "$bin"
}

ensure_pnpm() {
  command -v pnpm >/dev/null && return 0
  info "installing pnpm (npm i -g pnpm@10)"
  npm install -g --silent pnpm@10.34.9 >/dev/null 2>&1 || as_root npm install -g --silent pnpm@10.34.9 >/dev/null
  command -v pnpm >/dev/null || fail "pnpm was installed but is not on PATH (npm prefix: $(npm prefix -g))"
}
