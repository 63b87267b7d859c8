# PostgreSQL 15 and TimescaleDB for NTA. Sourced by scripts/setup.sh after scripts/lib.sh
# (uses its step/info/fail/as_root/ensure_apt_packages and NTA_CACHE_DIR). Not run.
#
#   ensure_postgres      apt package postgresql-15 (or `postgresql` where 15 is not packaged);
#                        never leaves the distribution's default cluster running: NTA runs
#                        private clusters (scripts/pg-cluster.sh, tests/helpers/postgres.ts).
#   postgres_bin_dir     prints the dir holding postgres/initdb/pg_ctl.
#   ensure_timescaledb   a Debian 13 (trixie) tree with postgresql-17-timescaledb (2.19, Apache
#                        edition), since Debian 12 does not package TimescaleDB. Built once into
#                        $NTA_CACHE_DIR/trixie (marker file), built in a temp dir and renamed, so
#                        an interrupted build never looks finished.
#   timescaledb_root     prints that tree's dir.
#
# How the tree's server runs: `chroot --userspec=<tree's postgres uid> TREE postgres ...` (root
# needed), with its data dir inside the tree (TREE/var/nta/...). Nothing is mounted in the
# tree: postgres needs no /proc, and initdb picks System V shared memory since the tree's
# /dev/shm is not a tmpfs. Running the tree's binaries in place through its ld-linux and
# --library-path was tried and rejected: initdb starts postgres through the host's /bin/sh,
# and a host program given the tree's libc dies ("undefined symbol ... GLIBC_PRIVATE"); and
# the tree sits in root's cache dir, which the unprivileged server user cannot even reach.

TIMESCALEDB_PG_MAJOR=17
# The marker's content; bump when the tree's recipe changes so old trees are rebuilt.
TIMESCALEDB_TREE_RECIPE="nta-trixie-timescaledb-v1"

# $NTA_PG_BIN, else PostgreSQL 15 (what CI tests against), else the newest installed major.
postgres_bin_dir() {
  if [[ -n "${NTA_PG_BIN:-}" ]]; then echo "$NTA_PG_BIN"; return; fi
  if [[ -x /usr/lib/postgresql/15/bin/postgres ]]; then echo /usr/lib/postgresql/15/bin; return; fi
  local newest
  newest=$( (ls -d /usr/lib/postgresql/*/bin 2>/dev/null || true) | sort -t/ -k5 -n | tail -n 1)
  echo "${newest:-/usr/lib/postgresql/15/bin}"
}

ensure_postgres() {
  local bin; bin=$(postgres_bin_dir)
  if [[ -x "$bin/postgres" && -x "$bin/initdb" && -x "$bin/pg_ctl" ]]; then
    info "postgres: $bin ($("$bin/postgres" --version))"
    return 0
  fi
  [[ -z "${NTA_PG_BIN:-}" ]] || fail "NTA_PG_BIN=$NTA_PG_BIN holds no postgres, initdb and pg_ctl"
  command -v apt-get >/dev/null || fail "PostgreSQL is missing and there is no apt-get: install PostgreSQL 15 and set NTA_PG_BIN"
  if ! apt-cache show postgresql-15 >/dev/null 2>&1 && (( ! _apt_updated )); then
    as_root apt-get update -qq; _apt_updated=1
  fi
  local pkg=postgresql-15
  apt-cache show postgresql-15 >/dev/null 2>&1 || pkg=postgresql

  local clusters_before; clusters_before=$(_pg_cluster_names)
  _without_service_starts ensure_apt_packages "$pkg"
  _park_new_clusters "$clusters_before"

  bin=$(postgres_bin_dir)
  [[ -x "$bin/postgres" ]] || fail "installed $pkg but found no postgres binary in $bin"
  info "postgres: $bin ($("$bin/postgres" --version))"
}

# "15/main 16/main": the distribution's clusters (postgresql-common layout).
_pg_cluster_names() {
  local conf names=()
  for conf in /etc/postgresql/*/*/postgresql.conf; do
    [[ -e "$conf" ]] || continue
    conf=${conf#/etc/postgresql/}; names+=("${conf%/postgresql.conf}")
  done
  echo "${names[*]}"
}

# Runs "$@" with a policy-rc.d that forbids starting services, unless the machine has one
# already (containers usually do). Stops the postgresql package from starting its default
# cluster during the install; the policy file is removed afterwards, also on failure.
_without_service_starts() {
  local policy=/usr/sbin/policy-rc.d
  if [[ -e "$policy" ]]; then "$@"; return; fi
  printf '#!/bin/sh\n# written by NTA scripts/db.sh for the length of one apt-get install\nexit 101\n' \
    | as_root tee "$policy" >/dev/null
  as_root chmod 755 "$policy"
  # fail() exits, so the EXIT trap covers that path; the normal path removes it below.
  trap "as_root rm -f $policy" EXIT
  local rc=0
  "$@" || rc=$?
  as_root rm -f "$policy"
  trap - EXIT
  return "$rc"
}

# The package creates a default cluster (e.g. 15/main) on a first install; NTA does not use it.
# Stop it if it runs and make it manual so it does not start at boot. Clusters that existed
# before the install are the operator's and are left alone.
_park_new_clusters() {
  local before=" $1 " name
  for name in $(_pg_cluster_names); do
    [[ "$before" == *" $name "* ]] && continue
    info "parking the package's default cluster $name (stopped, start=manual)"
    as_root pg_ctlcluster "${name%/*}" "${name#*/}" stop >/dev/null 2>&1 || true
    echo manual | as_root tee "/etc/postgresql/$name/start.conf" >/dev/null
  done
}

timescaledb_root() { echo "${NTA_TIMESCALEDB_ROOT:-$NTA_CACHE_DIR/trixie}"; }

# True when DIR holds a usable PostgreSQL 17 + TimescaleDB.
_timescaledb_tree_usable() {
  local dir=$1
  [[ -x "$dir/usr/lib/postgresql/$TIMESCALEDB_PG_MAJOR/bin/postgres" ]] \
    && compgen -G "$dir/usr/lib/postgresql/$TIMESCALEDB_PG_MAJOR/lib/timescaledb-2*.so" >/dev/null
}

ensure_timescaledb() {
  local root; root=$(timescaledb_root)
  if [[ -f "$root/.nta-ready" ]] && [[ "$(head -n 1 "$root/.nta-ready")" == "$TIMESCALEDB_TREE_RECIPE" ]]; then
    info "timescaledb: $root ($(sed -n 2p "$root/.nta-ready"))"
    return 0
  fi
  # A tree someone pointed us at (NTA_TIMESCALEDB_ROOT) is used as it is.
  if [[ -n "${NTA_TIMESCALEDB_ROOT:-}" ]] && _timescaledb_tree_usable "$root"; then
    info "timescaledb: $root (NTA_TIMESCALEDB_ROOT)"
    return 0
  fi
  mkdir -p "$(dirname "$root")"
  # One builder at a time; whoever waited finds the marker and returns.
  local lock_fd
  exec {lock_fd}>"$root.lock"
  flock "$lock_fd"
  if [[ -f "$root/.nta-ready" ]] && [[ "$(head -n 1 "$root/.nta-ready")" == "$TIMESCALEDB_TREE_RECIPE" ]]; then
    exec {lock_fd}>&-; return 0
  fi
  _build_timescaledb_tree "$root"
  exec {lock_fd}>&-
  info "timescaledb: $root ($(sed -n 2p "$root/.nta-ready"))"
}

_build_timescaledb_tree() {
  local root=$1 mirror="${NTA_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
  local build="$root.partial.$$" log="$root.build.log" stale
  for stale in "$root".partial.* "$root".old.*; do
    [[ -e "$stale" ]] && { info "removing unfinished tree $stale"; _remove_tree "$stale"; }
  done
  # A tree of an older recipe is ours to replace (once the new one is built); anything else
  # at that path is not.
  if [[ -e "$root" && ! -f "$root/.nta-ready" ]]; then
    fail "$root exists but is not a TimescaleDB tree made by NTA: remove it or set NTA_TIMESCALEDB_ROOT"
  fi
  ensure_apt_packages debootstrap debian-archive-keyring
  info "building a Debian 13 tree with PostgreSQL $TIMESCALEDB_PG_MAJOR + TimescaleDB (about a minute, once); log: $log"
  : >"$log"
  trap "_remove_tree '$build'" EXIT
  as_root debootstrap --variant=minbase trixie "$build" "$mirror" >>"$log" 2>&1 \
    || { tail -n 20 "$log" >&2; fail "debootstrap trixie failed (log: $log)"; }
  # Nothing in the tree may start a service: it has no init, and NTA runs its own clusters.
  printf '#!/bin/sh\nexit 101\n' | as_root tee "$build/usr/sbin/policy-rc.d" >/dev/null
  as_root chmod 755 "$build/usr/sbin/policy-rc.d"
  _in_tree "$build" apt-get update -qq >>"$log" 2>&1 || { tail -n 20 "$log" >&2; fail "apt-get update in the tree failed (log: $log)"; }
  _in_tree "$build" apt-get install -y -q --no-install-recommends postgresql-common >>"$log" 2>&1 \
    || { tail -n 20 "$log" >&2; fail "installing postgresql-common in the tree failed (log: $log)"; }
  # No default cluster inside the tree either: tests make their own data dirs.
  echo 'create_main_cluster = false' | as_root tee -a "$build/etc/postgresql-common/createcluster.conf" >/dev/null
  _in_tree "$build" apt-get install -y -q --no-install-recommends "postgresql-$TIMESCALEDB_PG_MAJOR-timescaledb" >>"$log" 2>&1 \
    || { tail -n 20 "$log" >&2; fail "installing postgresql-$TIMESCALEDB_PG_MAJOR-timescaledb in the tree failed (log: $log)"; }
  # The package lists (about 90 MB) are only needed to install, which is done.
  _in_tree "$build" apt-get clean
  as_root find "$build/var/lib/apt/lists" -mindepth 1 -delete
  _timescaledb_tree_usable "$build" || fail "the tree has no postgres $TIMESCALEDB_PG_MAJOR + timescaledb library (log: $log)"
  # Data dirs of chrooted servers live here (tests/helpers/postgres.ts, scripts/pg-cluster.sh).
  as_root mkdir -p "$build/var/nta"
  local versions
  versions=$(_in_tree "$build" dpkg-query -W -f='${Package} ${Version}, ' \
    "postgresql-$TIMESCALEDB_PG_MAJOR" "postgresql-$TIMESCALEDB_PG_MAJOR-timescaledb")
  printf '%s\n%s\n' "$TIMESCALEDB_TREE_RECIPE" "${versions%, }" | as_root tee "$build/.nta-ready" >/dev/null
  if [[ -e "$root" ]]; then
    info "replacing $root ($(head -n 1 "$root/.nta-ready"))"
    # Clusters made by scripts/pg-cluster.sh live in var/nta: keep them beside the cache.
    if [[ -n "$(ls -A "$root/var/nta" 2>/dev/null)" ]]; then
      local kept; kept="$root.var-nta.$(date +%Y%m%d%H%M%S)"
      as_root mv "$root/var/nta" "$kept"
      info "kept the old tree's data dirs (var/nta) in $kept"
    fi
    as_root mv "$root" "$root.old.$$"
  fi
  as_root mv "$build" "$root"
  trap - EXIT
  _remove_tree "$root.old.$$"
}

# Runs a command inside the tree with a clean environment.
_in_tree() {
  local dir=$1; shift
  as_root env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LC_ALL=C.UTF-8 DEBIAN_FRONTEND=noninteractive \
    chroot "$dir" "$@"
}

# rm -rf for a (partial) tree: unmount whatever an interrupted debootstrap left mounted
# inside (proc, sys), and never cross into another file system while removing.
_remove_tree() {
  local dir=$1 mnt
  [[ -e "$dir" ]] || return 0
  dir=$(realpath "$dir")
  while read -r mnt; do
    as_root umount -l "$mnt" 2>/dev/null || true
  done < <(awk -v d="$dir/" 'index($5, d) == 1 { print $5 }' /proc/self/mountinfo | sort -r)
  as_root rm -rf --one-file-system "$dir"
}
