#!/usr/bin/env bash
# Stops what infra/up.sh started for EVS_ENV (default dev): exactly the
# processes named by pid files in $DATA_DIR/run, each only if it still runs
# the expected command. SIGTERM, a grace period, then SIGKILL.
#   infra/down.sh --reset   also deletes $DATA_DIR (workflows, topics, databases, logs)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
EVS_LOG_TAG=down
evs_load_env
cd "$EVS_ROOT"

reset=0
for arg in "$@"; do
  case "$arg" in
    --reset) reset=1 ;;
    *) evs_die "unknown argument $arg (usage: infra/down.sh [--reset])" ;;
  esac
done

# Prometheus, if EVS_PROMETHEUS=1 (or npm run prometheus) started it.
if bash infra/observability/prometheus.sh status >/dev/null 2>&1; then
  bash infra/observability/prometheus.sh stop
fi

# Apps first, in reverse start order: the gateway stops taking requests
# before the worker drains, and the worker before the inventory it calls.
for ((i = ${#EVS_APPS[@]} - 1; i >= 0; i--)); do
  app="${EVS_APPS[$i]}"
  evs_stop "$app" "$(evs_app_entry "$app")" "${APP_STOP_GRACE_SECONDS:-30}"
done
bash infra/kafka.sh stop
bash infra/temporal.sh stop

if ((reset)); then
  case "$DATA_DIR" in
    "" | / | "$EVS_ROOT" | "$HOME") evs_die "refusing to delete DATA_DIR=$DATA_DIR" ;;
  esac
  evs_log "deleting $DATA_DIR"
  rm -rf -- "$DATA_DIR"
fi
