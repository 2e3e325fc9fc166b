# Shared helpers for the infra scripts. Source it; do not run it.
#
# The environment: infra/env/${EVS_ENV:-dev}.env supplies defaults, and any
# variable already set (non-empty) in the environment wins. TEMPORAL_ADDRESS
# and KAFKA_BROKERS set by the user mean "use that server": nothing is
# installed, started or stopped for it. Whether they were user-set is
# remembered in EVS_TEMPORAL_EXTERNAL / EVS_KAFKA_EXTERNAL (0 or 1), exported,
# so child scripts that see the derived addresses do not mistake them for the
# user's.

EVS_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export EVS_ROOT

evs_log() { printf '[%s] %s\n' "${EVS_LOG_TAG:-infra}" "$*" >&2; }
evs_die() { printf '[%s] ERROR: %s\n' "${EVS_LOG_TAG:-infra}" "$*" >&2; exit 1; }

# Reads KEY=VALUE lines (blank lines and # comments ignored, optional matching
# quotes stripped) without evaluating them as shell code.
evs_read_env_file() {
  local file="$1" line key value
  [[ -f "$file" ]] || evs_die "environment file not found: $file"
  while IFS= read -r line || [[ -n "$line" ]]; do
    line="${line#"${line%%[![:space:]]*}"}"
    [[ -z "$line" || "$line" == \#* ]] && continue
    [[ "$line" == *=* ]] || continue
    key="${line%%=*}"
    key="${key%"${key##*[![:space:]]}"}"
    value="${line#*=}"
    value="${value#"${value%%[![:space:]]*}"}"
    value="${value%"${value##*[![:space:]]}"}"
    if [[ "$value" =~ ^\"(.*)\"$ || "$value" =~ ^\'(.*)\'$ ]]; then
      value="${BASH_REMATCH[1]}"
    fi
    [[ "$key" =~ ^[A-Za-z_][A-Za-z0-9_]*$ ]] || evs_die "bad variable name '$key' in $file"
    if [[ -z "${!key:-}" ]]; then
      export "$key=$value"
    else
      export "${key?}"
    fi
  done <"$file"
}

evs_load_env() {
  export EVS_ENV="${EVS_ENV:-dev}"
  if [[ -z "${EVS_TEMPORAL_EXTERNAL:-}" ]]; then
    if [[ -n "${TEMPORAL_ADDRESS:-}" ]]; then EVS_TEMPORAL_EXTERNAL=1; else EVS_TEMPORAL_EXTERNAL=0; fi
  fi
  if [[ -z "${EVS_KAFKA_EXTERNAL:-}" ]]; then
    if [[ -n "${KAFKA_BROKERS:-}" ]]; then EVS_KAFKA_EXTERNAL=1; else EVS_KAFKA_EXTERNAL=0; fi
  fi
  export EVS_TEMPORAL_EXTERNAL EVS_KAFKA_EXTERNAL

  evs_read_env_file "$EVS_ROOT/infra/env/$EVS_ENV.env"

  : "${DATA_DIR:=.data/$EVS_ENV}"
  case "$DATA_DIR" in
    /*) ;;
    *) DATA_DIR="$EVS_ROOT/$DATA_DIR" ;;
  esac
  DATA_DIR="$(realpath -m "$DATA_DIR")"
  export DATA_DIR

  : "${TEMPORAL_PORT:=7233}" "${TEMPORAL_UI_PORT:=8233}" "${KAFKA_PORT:=9092}" "${KAFKA_CONTROLLER_PORT:=9093}"
  : "${GATEWAY_PORT:=8080}" "${INVENTORY_PORT:=8081}" "${WORKER_HEALTH_PORT:=8082}" "${BILLING_PORT:=8083}" "${AUDIT_PORT:=8084}"
  export TEMPORAL_PORT TEMPORAL_UI_PORT KAFKA_PORT KAFKA_CONTROLLER_PORT GATEWAY_PORT INVENTORY_PORT WORKER_HEALTH_PORT BILLING_PORT AUDIT_PORT

  # TEMPORAL_LISTEN_IP: the address our own dev server binds (a loopback "host" in the cluster topology).
  export TEMPORAL_ADDRESS="${TEMPORAL_ADDRESS:-${TEMPORAL_LISTEN_IP:-127.0.0.1}:$TEMPORAL_PORT}"
  export TEMPORAL_NAMESPACE="${TEMPORAL_NAMESPACE:-default}"
  # An external server's Web UI is wherever its owner put it: set
  # TEMPORAL_UI_URL for links to it; it is not guessed.
  if [[ -z "${TEMPORAL_UI_URL:-}" && "$EVS_TEMPORAL_EXTERNAL" != 1 ]]; then
    export TEMPORAL_UI_URL="http://${TEMPORAL_LISTEN_IP:-127.0.0.1}:$TEMPORAL_UI_PORT"
  fi
  export KAFKA_BROKERS="${KAFKA_BROKERS:-127.0.0.1:$KAFKA_PORT}"

  EVS_RUN_DIR="$DATA_DIR/run"
  EVS_LOG_DIR="$DATA_DIR/logs"
}

evs_ensure_dirs() { mkdir -p "$EVS_RUN_DIR" "$EVS_LOG_DIR"; }

evs_pid_file() { printf '%s/%s.pid' "$EVS_RUN_DIR" "$1"; }
evs_log_file() { printf '%s/%s.log' "$EVS_LOG_DIR" "$1"; }

# True when PID is alive and its command line contains MARKER: a pid file
# left behind by a crash may by now name an unrelated process.
evs_pid_matches() {
  local pid="$1" marker="$2" cmdline
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  [[ -r "/proc/$pid/cmdline" ]] || return 1
  cmdline="$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null)" || return 1
  [[ -n "$cmdline" && "$cmdline" == *"$marker"* ]]
}

# Prints the pid of NAME if its pid file names a live process matching MARKER.
evs_running_pid() {
  local name="$1" marker="$2" file pid
  file="$(evs_pid_file "$name")"
  [[ -f "$file" ]] || return 1
  pid="$(<"$file")"
  if evs_pid_matches "$pid" "$marker"; then
    printf '%s' "$pid"
    return 0
  fi
  return 1
}

# evs_start_bg NAME COMMAND...: runs COMMAND detached (own session, stdin
# from /dev/null, output appended to the log) and records its pid.
evs_start_bg() {
  local name="$1" log pid
  shift
  evs_ensure_dirs
  log="$(evs_log_file "$name")"
  printf '\n===== %s starting %s (EVS_ENV=%s)\n' "$(date -u +%FT%TZ)" "$name" "$EVS_ENV" >>"$log"
  setsid "$@" >>"$log" 2>&1 </dev/null &
  pid=$!
  printf '%s\n' "$pid" >"$(evs_pid_file "$name")"
  EVS_STARTED_PID="$pid"
}

# evs_stop NAME MARKER [GRACE_SECONDS]: SIGTERM the recorded process, wait,
# then SIGKILL. Only the pid in NAME's pid file, and only if it still runs
# the expected command.
evs_stop() {
  local name="$1" marker="$2" grace="${3:-20}" file pid deadline
  file="$(evs_pid_file "$name")"
  if [[ ! -f "$file" ]]; then
    evs_log "$name: not running (no pid file)"
    return 0
  fi
  pid="$(<"$file")"
  if ! evs_pid_matches "$pid" "$marker"; then
    evs_log "$name: stale pid file (pid $pid is not $name); removing it"
    rm -f "$file"
    return 0
  fi
  evs_log "$name: stopping pid $pid"
  kill -TERM "$pid" 2>/dev/null || true
  deadline=$((SECONDS + grace))
  while evs_pid_matches "$pid" "$marker" && ((SECONDS < deadline)); do
    sleep 0.2
  done
  if evs_pid_matches "$pid" "$marker"; then
    evs_log "$name: still running after ${grace}s; sending SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
    while evs_pid_matches "$pid" "$marker"; do sleep 0.1; done
  fi
  rm -f "$file"
}

# evs_wait_until TIMEOUT_SECONDS DESCRIPTION PID COMMAND...: polls COMMAND
# until it succeeds; fails early if PID (when not empty) has exited.
evs_wait_until() {
  local timeout="$1" what="$2" pid="$3" deadline
  shift 3
  deadline=$((SECONDS + timeout))
  until "$@" >/dev/null 2>&1; do
    if [[ -n "$pid" ]] && ! kill -0 "$pid" 2>/dev/null; then
      evs_log "$what: process $pid exited"
      return 1
    fi
    if ((SECONDS >= deadline)); then
      evs_log "$what: not ready after ${timeout}s"
      return 1
    fi
    sleep 0.3
  done
}

evs_port_open() { (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }

evs_http_ok() { curl -fsS -o /dev/null --max-time 2 "$1"; }

evs_port_owner() { ss -Hltnp "sport = :$1" 2>/dev/null | head -n1; }

evs_tail_log() {
  local log
  log="$(evs_log_file "$1")"
  if [[ -f "$log" ]]; then
    printf -- '----- last lines of %s -----\n' "$log" >&2
    tail -n "${2:-40}" "$log" >&2
    printf -- '-----\n' >&2
  fi
}

# The compiled helper scripts live in dist/. If one is missing, compile the
# project (tsc still emits when unrelated files have type errors).
evs_ensure_script() {
  local file="$EVS_ROOT/dist/infra/scripts/$1.js"
  [[ -f "$file" ]] && return 0
  evs_log "dist/infra/scripts/$1.js missing: compiling with tsc"
  (cd "$EVS_ROOT" && npx --no-install tsc -p tsconfig.build.json >/dev/null 2>&1) || true
  [[ -f "$file" ]] || evs_die "could not build dist/infra/scripts/$1.js: run npm run build"
}

# evs_node_script NAME ARGS...: runs dist/infra/scripts/NAME.js from the repo root.
evs_node_script() {
  local name="$1"
  shift
  evs_ensure_script "$name"
  (cd "$EVS_ROOT" && node "dist/infra/scripts/$name.js" "$@")
}

# npm ci when node_modules is missing (a fresh clone) or was installed from
# another package-lock.json (a pull changed the dependencies). The stamp is
# the lockfile's hash, not its age: a checkout (a new clone, a git worktree
# sharing node_modules) gives the lockfile a new mtime without changing it,
# and an mtime check would wipe and reinstall node_modules for nothing.
# better-sqlite3 is compiled from source by its install script, which
# package.json "allowScripts" lets npm run.
evs_ensure_node_modules() {
  local stamp="$EVS_ROOT/node_modules/.evs-package-lock.sha256"
  local wanted
  wanted="$(sha256sum "$EVS_ROOT/package-lock.json" | cut -d' ' -f1)"
  if [[ ! -f "$stamp" || "$(cat "$stamp")" != "$wanted" ]]; then
    evs_log "node modules missing or out of date: npm ci"
    # better-sqlite3 compiles from source; the machine's own Node headers
    # spare node-gyp a download it cannot make here.
    if [[ -z "${npm_config_nodedir:-}" && -f /usr/include/node/node.h ]]; then
      export npm_config_nodedir=/usr
    fi
    (cd "$EVS_ROOT" && npm ci --no-audit --no-fund) || evs_die "npm ci failed"
    printf '%s\n' "$wanted" >"$stamp"
  fi
}

# Start order; down.sh stops in reverse. The consumers (billing, audit) need
# only Kafka, and come last so that they stop first.
EVS_APPS=(inventory worker gateway billing audit)

evs_app_entry() { printf 'dist/apps/%s/src/main.js' "$1"; }

evs_app_health_url() {
  case "$1" in
    inventory) printf 'http://127.0.0.1:%s/healthz' "$INVENTORY_PORT" ;;
    worker) printf 'http://127.0.0.1:%s/healthz' "$WORKER_HEALTH_PORT" ;;
    gateway) printf 'http://127.0.0.1:%s/healthz' "$GATEWAY_PORT" ;;
    billing) printf 'http://127.0.0.1:%s/healthz' "$BILLING_PORT" ;;
    audit) printf 'http://127.0.0.1:%s/healthz' "$AUDIT_PORT" ;;
  esac
}

evs_app_port() {
  case "$1" in
    inventory) printf '%s' "$INVENTORY_PORT" ;;
    worker) printf '%s' "$WORKER_HEALTH_PORT" ;;
    gateway) printf '%s' "$GATEWAY_PORT" ;;
    billing) printf '%s' "$BILLING_PORT" ;;
    audit) printf '%s' "$AUDIT_PORT" ;;
  esac
}

# evs_write_kafka_log4j FILE WRITER: the broker's logging config (stdout, which
# the starting script appends to the broker's log), the same for the single
# broker (infra/kafka.sh) and the cluster's nodes (infra/cluster/kafka-cluster.sh).
evs_write_kafka_log4j() {
  cat >"$1" <<EOF
# Generated by $2: broker logs go to stdout, which is appended to the broker's log.
status = warn
appender.out.type = Console
appender.out.name = STDOUT
appender.out.layout.type = PatternLayout
appender.out.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = ${KAFKA_LOG_LEVEL:-INFO}
rootLogger.appenderRef.out.ref = STDOUT
logger.state.name = state.change.logger
logger.state.level = WARN
logger.request.name = kafka.request.logger
logger.request.level = WARN
EOF
}

# evs_apt_install_quietly PACKAGE [APT-GET INSTALL OPTIONS...]: installs a
# Debian package whose maintainer scripts would start its service (HAProxy,
# Prometheus) where no init system runs to stop it: a policy-rc.d that
# forbids service starts (exit 101, as in Docker images) is put in place for
# the install when none exists, and removed afterwards. apt's progress goes
# to stderr so that callers capturing stdout get none of it. Root only.
evs_apt_install_quietly() {
  local package="$1" policy=/usr/sbin/policy-rc.d ours=0 rc=0
  shift
  command -v apt-get >/dev/null || evs_die "$package is not installed and there is no apt-get to install it"
  evs_log "$package not installed: apt-get install $package"
  if [[ ! -e "$policy" ]]; then
    printf '#!/bin/sh\n# Temporary, from infra/lib.sh: no service starts during the install.\nexit 101\n' >"$policy" &&
      chmod 755 "$policy" && ours=1
  fi
  { apt-get update -q >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$@" "$package" >&2; } || rc=$?
  ((ours == 0)) || rm -f "$policy"
  ((rc == 0)) || evs_die "apt-get install $package failed (exit $rc)"
}
