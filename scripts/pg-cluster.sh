#!/usr/bin/env bash
# A private PostgreSQL cluster for NTA on 127.0.0.1 (for `npm start` and trying things by hand).
#
#   scripts/pg-cluster.sh start  DATADIR PORT [postgres|timescaledb]   initdb if empty, then start
#   scripts/pg-cluster.sh stop   DATADIR                              fast shutdown
#   scripts/pg-cluster.sh status DATADIR
#
# The server runs as the `postgres` user when called as root (postgres refuses root), listens on
# TCP 127.0.0.1:PORT only (trust auth, user postgres: keep it on loopback), and logs to
# DATADIR/../postgres.log. Unlike the test helper it keeps fsync on.
# The timescaledb flavor runs PostgreSQL 17 + TimescaleDB from the tree scripts/db.sh builds,
# under chroot (root needed), so its DATADIR must lie inside that tree, for example
# "$(source scripts/lib.sh; source scripts/db.sh; timescaledb_root)/var/nta/main".
# Binaries come from `scripts/setup.sh` (postgres) and `scripts/setup.sh --test` (timescaledb),
# or from $NTA_PG_BIN / $NTA_TIMESCALEDB_ROOT.
set -euo pipefail
scripts_dir=$(cd "$(dirname "$0")" && pwd)
source "$scripts_dir/lib.sh"
source "$scripts_dir/db.sh"

usage() { fail "usage: $0 start DATADIR PORT [postgres|timescaledb] | stop DATADIR | status DATADIR"; }

server_env=(env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LC_ALL=C.UTF-8 TZ=UTC)

# Sets flavor-dependent globals: run_prefix (how to run a program as the server user),
# bin (the bin dir as the server sees it), owner (uid:gid owning the data, empty: ourselves),
# and in_server (maps a host path to the server's view).
select_flavor() {
  flavor=$1
  case "$flavor" in
    postgres)
      bin=$(postgres_bin_dir)
      [[ -x "$bin/pg_ctl" && -x "$bin/initdb" ]] || fail "no PostgreSQL in $bin: run scripts/setup.sh or set NTA_PG_BIN"
      if (( EUID == 0 )); then
        id -u postgres >/dev/null 2>&1 || fail "no 'postgres' user to run the server as: run scripts/setup.sh"
        owner="$(id -u postgres):$(id -g postgres)"
        run_prefix=("${server_env[@]}" setpriv --reuid=postgres --regid=postgres --init-groups)
      else
        owner=""
        run_prefix=("${server_env[@]}")
      fi
      tree="" ;;
    timescaledb)
      tree=$(realpath -m "$(timescaledb_root)")
      bin="/usr/lib/postgresql/$TIMESCALEDB_PG_MAJOR/bin"
      [[ -x "$tree$bin/pg_ctl" ]] || fail "no TimescaleDB tree at $tree: run scripts/setup.sh --test or set NTA_TIMESCALEDB_ROOT"
      (( EUID == 0 )) || fail "the timescaledb flavor runs under chroot $tree, which needs root"
      local ids
      ids=$(awk -F: '$1 == "postgres" { print $3 ":" $4 }' "$tree/etc/passwd")
      [[ -n "$ids" ]] || fail "$tree/etc/passwd has no postgres user: delete the tree and run scripts/setup.sh --test"
      owner=$ids
      run_prefix=("${server_env[@]}" chroot "--userspec=$ids" "$tree") ;;
    *) usage ;;
  esac
}

in_server() {
  local path=$1
  if [[ -z "$tree" ]]; then echo "$path"; return; fi
  [[ "$path" == "$tree"/* ]] || fail "a timescaledb DATADIR must lie inside $tree (the server runs chrooted there), not $path"
  echo "${path#"$tree"}"
}

# The flavor of an existing data dir: inside the tree means timescaledb.
flavor_of() {
  local tree_dir; tree_dir=$(timescaledb_root)
  if [[ "$1" == "$(realpath -m "$tree_dir")"/* ]]; then echo timescaledb; else echo postgres; fi
}

pg_ctl_as_server() { "${run_prefix[@]}" "$bin/pg_ctl" "$@"; }

cmd_start() {
  local datadir port=$2
  datadir=$(realpath -m "$1")
  [[ "$port" =~ ^[0-9]+$ ]] && (( port > 0 && port < 65536 )) || fail "not a port: $port"
  select_flavor "${3:-postgres}"
  local dd log
  dd=$(in_server "$datadir")
  log="$(dirname "$datadir")/postgres.log"

  if [[ -f "$datadir/postmaster.pid" ]] && pg_ctl_as_server -D "$dd" status >/dev/null 2>&1; then
    local running_port; running_port=$(sed -n 4p "$datadir/postmaster.pid")
    [[ "$running_port" == "$port" ]] || fail "$datadir is already served on port $running_port, not $port"
    info "already running: $datadir on 127.0.0.1:$port"
    return 0
  fi

  mkdir -p "$(dirname "$datadir")"
  if [[ -n "$owner" ]] && ! "${run_prefix[@]}" test -x "$(dirname "$dd")"; then
    fail "the server user ($owner) cannot reach $(dirname "$datadir"): make every parent dir searchable (chmod o+x) or pick another DATADIR"
  fi
  if [[ ! -s "$datadir/PG_VERSION" ]]; then
    mkdir -p -m 700 "$datadir"
    [[ -z "$owner" ]] || chown "$owner" "$datadir"
    info "initdb $datadir ($flavor)"
    "${run_prefix[@]}" "$bin/initdb" -D "$dd" -U postgres -A trust -E UTF8 --locale=C.UTF-8 >/dev/null \
      || fail "initdb $datadir failed"
  fi
  touch "$log"
  [[ -z "$owner" ]] || chown "$owner" "$log"

  local opts="-p $port -c listen_addresses=127.0.0.1 -c unix_socket_directories=''"
  [[ "$flavor" == timescaledb ]] && opts+=" -c shared_preload_libraries=timescaledb -c timescaledb.telemetry_level=off"
  pg_ctl_as_server -D "$dd" -l "$(in_server "$log")" -w -t 60 -o "$opts" start >/dev/null \
    || { tail -n 20 "$log" >&2; fail "postgres did not start (log: $log)"; }
  info "postgres ($flavor) on postgres://postgres@127.0.0.1:$port/postgres, data $datadir, log $log"
}

cmd_stop() {
  local datadir; datadir=$(realpath -m "$1")
  select_flavor "$(flavor_of "$datadir")"
  local dd; dd=$(in_server "$datadir")
  if ! pg_ctl_as_server -D "$dd" status >/dev/null 2>&1; then
    info "not running: $datadir"
    return 0
  fi
  pg_ctl_as_server -D "$dd" -m fast -w -t 60 stop >/dev/null || fail "postgres at $datadir did not stop"
  info "stopped: $datadir"
}

cmd_status() {
  local datadir; datadir=$(realpath -m "$1")
  select_flavor "$(flavor_of "$datadir")"
  pg_ctl_as_server -D "$(in_server "$datadir")" status
}

case "${1:-}" in
  start) (( $# >= 3 && $# <= 4 )) || usage; cmd_start "$2" "$3" "${4:-postgres}" ;;
  stop) (( $# == 2 )) || usage; cmd_stop "$2" ;;
  status) (( $# == 2 )) || usage; cmd_status "$2" ;;
  *) usage ;;
esac
