# PostgreSQL 15 clusters of our own, no Docker. Source it after lib.sh (or
# run it: `bash infra/postgres.sh start DIR PORT [ADDR]` / `stop DIR`).
#
# Each cluster lives in one folder DIR: DIR/data (the cluster), DIR/postgres.log
# (the server's log) and the Unix socket in DIR itself, so nothing is shared
# with the system's `main` cluster that the Debian package creates on 5432
# (never started or relied on here) or with other data folders.
#   EVS_PG_BIN    PostgreSQL 15 bin directory (default /usr/lib/postgresql/15/bin)
#   EVS_PG_FAST=1 fsync and full_page_writes off: only for clusters that may
#                 be lost in a power cut (tests). synchronous_commit stays on:
#                 without it a commit is acknowledged before its WAL reaches
#                 even the OS, and a killed server (the fault tests' pg_ctl
#                 -m immediate) forgets it; Temporal's history then disagreed
#                 with what it had told workers and workflows hung for good.
#   POSTGRES_START_TIMEOUT_SECONDS (default 60)
#
# initdb and pg_ctl refuse to run as root: as root the folder belongs to the
# postgres user (created by the package) and they run as that user.

EVS_PG_DEFAULT_BIN=/usr/lib/postgresql/15/bin
EVS_PG_BIN="${EVS_PG_BIN:-$EVS_PG_DEFAULT_BIN}"
# The Unix socket's path (DIR/.s.PGSQL.PORT) must fit in sockaddr_un.
EVS_PG_MAX_SOCKET_PATH=107

evs_pg_ensure_installed() {
  local tool missing=""
  for tool in postgres initdb pg_ctl pg_isready psql; do
    [[ -x "$EVS_PG_BIN/$tool" ]] || { missing="$tool"; break; }
  done
  [[ -n "$missing" ]] || return 0
  if [[ "$EVS_PG_BIN" != "$EVS_PG_DEFAULT_BIN" ]]; then
    evs_die "EVS_PG_BIN=$EVS_PG_BIN has no executable $missing"
  fi
  if ((EUID != 0)); then
    evs_die "PostgreSQL 15 is not installed ($EVS_PG_BIN/$missing missing): as root run 'apt-get update && apt-get install -y postgresql-15', or set EVS_PG_BIN to a PostgreSQL 15 bin directory"
  fi
  command -v apt-get >/dev/null ||
    evs_die "PostgreSQL 15 is not installed and there is no apt-get: install PostgreSQL 15 and set EVS_PG_BIN to its bin directory"
  evs_log "PostgreSQL 15 not installed: apt-get install postgresql-15"
  # apt's progress goes to stderr so that callers capturing stdout get none of it.
  apt-get update -q >&2 || evs_die "apt-get update failed"
  DEBIAN_FRONTEND=noninteractive apt-get install -y postgresql-15 >&2 ||
    evs_die "apt-get install postgresql-15 failed (Debian 12 ships it; elsewhere add the PGDG repository or set EVS_PG_BIN)"
  for tool in postgres initdb pg_ctl pg_isready psql; do
    [[ -x "$EVS_PG_BIN/$tool" ]] || evs_die "postgresql-15 installed but $EVS_PG_BIN/$tool is missing"
  done
}

# Runs a PostgreSQL tool as the cluster's owner: the postgres user when we are
# root, ourselves otherwise. From / because the tools, run as postgres, may not
# be allowed into the caller's working directory and warn about it.
_evs_pg_as_owner() {
  if ((EUID == 0)); then
    (cd / && runuser -u postgres -- "$@")
  else
    (cd / && "$@")
  fi
}

# listen_addresses may be a list or a wildcard; clients need one address to
# dial, and wildcards are reachable on the loopback.
_evs_pg_client_host() {
  local host="${1%%,*}"
  host="${host//[[:space:]]/}"
  case "$host" in
    "" | "*" | 0.0.0.0) printf '127.0.0.1' ;;
    ::) printf '::1' ;;
    *) printf '%s' "$host" ;;
  esac
}

# evs_pg_running DIR: true when the cluster in DIR/data has a live postmaster.
evs_pg_running() {
  local dir="$1"
  [[ -f "$dir/data/PG_VERSION" && -x "$EVS_PG_BIN/pg_ctl" ]] || return 1
  _evs_pg_as_owner "$EVS_PG_BIN/pg_ctl" status -D "$dir/data" >/dev/null 2>&1
}

# As root, the postgres user must be able to reach DIR: a folder on the way
# that others may not enter (a home directory with mode 700, or one created
# under a restrictive umask) makes initdb fail with a bare "permission
# denied". Only the search bit is added, never read: the postgres user can
# pass through but not list.
_evs_pg_grant_path() {
  local dir="$1" path="" part
  local -a parts
  (cd / && runuser -u postgres -- test -x "$dir") 2>/dev/null && return 0
  IFS=/ read -r -a parts <<<"${dir#/}"
  for part in "${parts[@]}"; do
    [[ -n "$part" ]] || continue
    path+="/$part"
    if ! (cd / && runuser -u postgres -- test -x "$path") 2>/dev/null; then
      evs_log "chmod o+x $path: the postgres user must pass through it to reach $dir"
      chmod o+x "$path" || evs_die "cannot chmod o+x $path; put the cluster somewhere the postgres user can reach"
    fi
  done
}

# evs_pg_start DIR PORT [LISTEN_ADDR]: starts the cluster in DIR (created on
# first use) listening on LISTEN_ADDR:PORT (default 127.0.0.1) and waits until
# it accepts connections. A cluster already running there is left alone.
evs_pg_start() {
  local dir="$1" port="$2" addr="${3:-127.0.0.1}" rc=0
  [[ -n "$dir" ]] || evs_die "evs_pg_start: no directory given"
  [[ "$port" =~ ^[0-9]+$ ]] || evs_die "evs_pg_start: bad port '$port'"
  # pg_ctl hands -o to a shell: a quote would break out of the quoting below.
  [[ "$dir" != *\'* && "$addr" != *\'* ]] || evs_die "evs_pg_start: quotes in '$dir' or '$addr' are not supported"
  dir="$(realpath -m "$dir")"
  local socket="$dir/.s.PGSQL.$port"
  ((${#socket} <= EVS_PG_MAX_SOCKET_PATH)) ||
    evs_die "the socket path $socket is longer than $EVS_PG_MAX_SOCKET_PATH bytes: use a shorter folder for the cluster"
  evs_pg_ensure_installed
  if ((EUID == 0)); then
    id -u postgres >/dev/null 2>&1 || evs_die "running as root needs the postgres user (created by the postgresql-15 package)"
  fi
  mkdir -p "$dir" || evs_die "cannot create $dir"
  # Two scripts starting the same folder at once would both run initdb.
  exec {_EVS_PG_LOCK_FD}>>"$dir/.evs-postgres.lock" || evs_die "cannot open $dir/.evs-postgres.lock"
  if ! flock -w 300 "$_EVS_PG_LOCK_FD"; then
    exec {_EVS_PG_LOCK_FD}>&-
    evs_die "timed out waiting for another start of the cluster in $dir"
  fi
  _evs_pg_start_locked "$dir" "$port" "$addr" || rc=$?
  exec {_EVS_PG_LOCK_FD}>&-
  return "$rc"
}

_evs_pg_start_locked() {
  local dir="$1" port="$2" addr="$3" out running_port host owner
  local log="$dir/postgres.log" timeout="${POSTGRES_START_TIMEOUT_SECONDS:-60}"
  host="$(_evs_pg_client_host "$addr")"

  if evs_pg_running "$dir"; then
    # Line 4 of postmaster.pid is the port the server was started with.
    running_port="$(sed -n 4p "$dir/data/postmaster.pid" 2>/dev/null)"
    if [[ -n "$running_port" && "$running_port" != "$port" ]]; then
      evs_die "the cluster in $dir is already running on port $running_port, not $port: stop it first (evs_pg_stop $dir)"
    fi
    if ! evs_wait_until "$timeout" "postgres ($dir)" "" "$EVS_PG_BIN/pg_isready" -q -h "$host" -p "$port"; then
      evs_die "the cluster in $dir is running but does not answer at $host:$port; see $log"
    fi
    evs_log "postgres: already running at $host:$port (data $dir/data)"
    return 0
  fi

  if owner="$(evs_port_owner "$port")" && [[ -n "$owner" ]]; then
    evs_die "postgres: port $port is already in use by another process: $owner"
  fi

  if ((EUID == 0)); then
    # Files left by an earlier run as root (a log, the lock) or a copied
    # folder must belong to the postgres user, or the server cannot write them.
    if [[ -n "$(find "$dir" ! -user postgres -print -quit 2>/dev/null)" ]]; then
      chown -R postgres:postgres "$dir" || evs_die "cannot chown $dir to postgres"
    fi
    _evs_pg_grant_path "$dir"
  fi

  if [[ ! -f "$dir/data/PG_VERSION" ]]; then
    evs_log "postgres: initdb in $dir/data"
    # --no-sync: a cluster whose creation is cut short by a crash is simply
    # created again (no PG_VERSION yet, or an unusable one to delete).
    if ! out="$(_evs_pg_as_owner "$EVS_PG_BIN/initdb" -D "$dir/data" -A trust -U postgres \
      --no-sync -E UTF8 --locale=C.UTF-8 2>&1)"; then
      printf '%s\n' "$out" >&2
      evs_die "initdb failed in $dir/data"
    fi
  fi

  local opts="-p $port -k '$dir' -c listen_addresses='$addr' -c max_connections=200" fast=""
  if [[ "${EVS_PG_FAST:-0}" == 1 ]]; then
    opts+=" -c fsync=off -c full_page_writes=off"
    fast=", fsync off"
  fi
  evs_log "postgres: starting on $addr:$port (data $dir/data, log $log$fast)"
  # The server must not inherit the lock's descriptor: it would hold the lock
  # for as long as it runs, and the next start would wait for it in vain.
  if ! out="$(_evs_pg_as_owner "$EVS_PG_BIN/pg_ctl" -D "$dir/data" -l "$log" -w -t "$timeout" start -o "$opts" \
    2>&1 {_EVS_PG_LOCK_FD}>&-)"; then
    printf '%s\n' "$out" >&2
    if [[ -f "$log" ]]; then
      printf -- '----- last lines of %s -----\n' "$log" >&2
      tail -n 30 "$log" >&2
      printf -- '-----\n' >&2
    fi
    evs_die "postgres did not start in $dir"
  fi
  # pg_ctl -w watches the socket folder; clients will come over TCP.
  if ! evs_wait_until "$timeout" "postgres ($dir)" "" "$EVS_PG_BIN/pg_isready" -q -h "$host" -p "$port"; then
    tail -n 30 "$log" >&2 || true
    evs_die "postgres started in $dir but does not answer at $host:$port"
  fi
  evs_log "postgres: ready at $host:$port"
}

# evs_pg_stop DIR: stops the cluster in DIR if it runs; nothing otherwise.
evs_pg_stop() {
  local dir
  dir="$(realpath -m "$1")"
  [[ -f "$dir/data/PG_VERSION" ]] || return 0
  if [[ ! -x "$EVS_PG_BIN/pg_ctl" ]]; then
    evs_log "postgres: no $EVS_PG_BIN/pg_ctl to stop the cluster in $dir with"
    return 0
  fi
  evs_pg_running "$dir" || return 0
  evs_log "postgres: stopping the cluster in $dir"
  if ! _evs_pg_as_owner "$EVS_PG_BIN/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1; then
    # A fast stop waits for running transactions to be rolled back; a stuck
    # one would keep the port. Immediate means crash recovery at next start.
    evs_log "postgres: fast stop failed; stopping immediately"
    _evs_pg_as_owner "$EVS_PG_BIN/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 ||
      evs_die "could not stop the cluster in $dir; see $dir/postgres.log"
  fi
}

_evs_pg_psql() {
  local addr="$1" port="$2"
  shift 2
  # -X: a ~/.psqlrc must not change what these statements print or do.
  "$EVS_PG_BIN/psql" -X -q -t -A -v ON_ERROR_STOP=1 -h "$(_evs_pg_client_host "$addr")" -p "$port" -U postgres -d postgres "$@"
}

# evs_pg_create_database ADDR PORT NAME: creates database NAME unless it exists.
evs_pg_create_database() {
  local addr="$1" port="$2" name="$3" query
  [[ -n "$name" ]] || evs_die "evs_pg_create_database: no database name given"
  # psql expands :'name' (quoted literal) only in scripts, not in -c; CREATE
  # DATABASE cannot run inside a DO block, hence \gexec.
  query="SELECT format('CREATE DATABASE %I', :'name') WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = :'name')\\gexec"
  if ! printf '%s\n' "$query" | _evs_pg_psql "$addr" "$port" -v name="$name" >/dev/null; then
    # Another script may have created it between the check and the CREATE.
    [[ "$(printf '%s\n' "SELECT 1 FROM pg_database WHERE datname = :'name'" |
      _evs_pg_psql "$addr" "$port" -v name="$name")" == 1 ]] ||
      evs_die "could not create database $name at $addr:$port"
  fi
}

# evs_pg_url ADDR PORT NAME: the connection URL (trust authentication, no password).
evs_pg_url() {
  local host="$1"
  [[ "$host" == *:* && "$host" != \[* ]] && host="[$host]"
  printf 'postgres://postgres@%s:%s/%s' "$host" "$2" "$3"
}

# Run rather than sourced: `bash infra/postgres.sh stop DIR` stops a cluster
# left running (EVS_TEST_KEEP_STACK=1, or a run that was killed).
if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
  set -euo pipefail
  source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
  case "${1:-}" in
    stop) [[ -n "${2:-}" ]] || evs_die "usage: $0 stop DIR"; evs_pg_stop "$2" ;;
    start) [[ -n "${3:-}" ]] || evs_die "usage: $0 start DIR PORT [ADDR]"; evs_pg_ensure_installed; evs_pg_start "$2" "$3" "${4:-127.0.0.1}" ;;
    *) echo "usage: $0 {start DIR PORT [ADDR]|stop DIR}" >&2; exit 2 ;;
  esac
fi
