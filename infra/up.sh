#!/usr/bin/env bash
# Starts the whole stack for EVS_ENV (default dev): Temporal, Kafka, the
# topics, then inventory, worker, gateway and the two consumers (billing,
# audit) as background processes, each waited for until healthy.
# Already-running healthy parts are left alone.
#   SKIP_BUILD=1       do not run `npm run build` first
#   EVS_SKIP_APPS=1    start only Temporal and Kafka (and the topics);
#                      EVS_SKIP_APPS=gateway,worker skips just those apps
#   EVS_PROMETHEUS=1   also start a Prometheus scraping all of it, with the
#                      alert rules (infra/observability/prometheus.sh)
#   OTEL_EXPORTER_OTLP_ENDPOINT=http://host:4318   export traces over OTLP/HTTP
#   EVS_CPU_PROFILE_DIR=/abs/dir   each app writes a CPU profile of its main
#                      thread to dir/<app>/ when it stops (node --cpu-prof)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
EVS_LOG_TAG=up
evs_load_env
cd "$EVS_ROOT"
evs_ensure_dirs

APP_START_TIMEOUT="${APP_START_TIMEOUT_SECONDS:-90}"

evs_ensure_node_modules
if [[ "${SKIP_BUILD:-0}" != 1 ]]; then
  evs_log "building (npm run build)"
  npm run --silent build || evs_die "build failed"
fi

bash infra/temporal.sh start
bash infra/kafka.sh start
evs_node_script create-topics || evs_die "creating the Kafka topics failed"

skipped() {
  case ",${EVS_SKIP_APPS:-}," in
    ,1, | ,all, | ,true,) return 0 ;;
    *",$1,"*) return 0 ;;
  esac
  return 1
}

# The worker's heap is capped: V8 sizes its default from the machine's memory
# (4 GiB here) and collects lazily below it, so the worker's memory followed
# how many transfers it had ever handled, not what it holds (3,000 pending:
# 512 MiB uncapped, 383 MiB capped at 384; docs/performance.md).
node_flags() {
  case "$1" in
    worker) printf -- '--max-old-space-size=%s ' "${WORKER_MAX_HEAP_MIB:-384}" ;;
  esac
  # A CPU profile of each app's main thread, written when it stops (Node refuses --cpu-prof in NODE_OPTIONS).
  if [[ -n "${EVS_CPU_PROFILE_DIR:-}" ]]; then
    printf -- '--cpu-prof --cpu-prof-dir=%s/%s ' "$EVS_CPU_PROFILE_DIR" "$1"
  fi
}

start_app() {
  local name="$1" entry url port pid owner
  entry="$(evs_app_entry "$name")"
  url="$(evs_app_health_url "$name")"
  port="$(evs_app_port "$name")"
  if skipped "$name"; then
    evs_log "$name: skipped (EVS_SKIP_APPS=$EVS_SKIP_APPS)"
    return 0
  fi
  [[ -f "$entry" ]] || evs_die "$name: $entry not found; run npm run build (or set EVS_SKIP_APPS=1 to start only Temporal and Kafka)"
  if pid="$(evs_running_pid "$name" "$entry")"; then
    if evs_wait_until "$APP_START_TIMEOUT" "$name" "$pid" evs_http_ok "$url"; then
      evs_log "$name: already running (pid $pid)"
      return 0
    fi
    evs_tail_log "$name"
    evs_die "$name: pid $pid is running but $url does not answer"
  fi
  if owner="$(evs_port_owner "$port")" && [[ -n "$owner" ]]; then
    evs_die "$name: port $port is already in use by another process: $owner"
  fi
  evs_log "$name: starting (log $(evs_log_file "$name"))"
  # shellcheck disable=SC2046 # the flags are words on purpose
  evs_start_bg "$name" node --enable-source-maps $(node_flags "$name") "$entry"
  pid="$EVS_STARTED_PID"
  if ! evs_wait_until "$APP_START_TIMEOUT" "$name" "$pid" evs_http_ok "$url"; then
    evs_tail_log "$name"
    evs_stop "$name" "$entry" 5
    evs_die "$name did not become healthy at $url"
  fi
  evs_log "$name: healthy (pid $pid)"
}

for app in "${EVS_APPS[@]}"; do
  start_app "$app"
done

if [[ "${EVS_PROMETHEUS:-0}" == 1 ]]; then
  bash infra/observability/prometheus.sh start
fi

rel_data="${DATA_DIR#"$EVS_ROOT"/}"
stop_hint="npm stop"
[[ "$EVS_ENV" == dev ]] || stop_hint="EVS_ENV=$EVS_ENV npm stop"
{
  printf '\nEVS disk transfer stack is up (EVS_ENV=%s)\n' "$EVS_ENV"
  skipped gateway ||
    printf '  API (gateway):  http://127.0.0.1:%s    OpenAPI UI: http://127.0.0.1:%s/docs\n' "$GATEWAY_PORT" "$GATEWAY_PORT"
  skipped inventory || printf '  Inventory:      http://127.0.0.1:%s\n' "$INVENTORY_PORT"
  skipped worker || printf '  Worker health:  http://127.0.0.1:%s/healthz\n' "$WORKER_HEALTH_PORT"
  skipped billing || printf '  Billing:        http://127.0.0.1:%s/v1/disks/<disk id>/ownership    (X-Auth-Token with role admin)\n' "$BILLING_PORT"
  skipped audit || printf '  Audit:          http://127.0.0.1:%s/v1/events?project_id=<project id>    (X-Auth-Token with role admin)\n' "$AUDIT_PORT"
  printf '  Temporal:       %s (namespace %s)    Web UI: %s\n' "$TEMPORAL_ADDRESS" "$TEMPORAL_NAMESPACE" "${TEMPORAL_UI_URL:-(set TEMPORAL_UI_URL)}"
  printf '  Kafka:          %s\n' "$KAFKA_BROKERS"
  printf '  Metrics:        /metrics on the gateway, inventory, worker (health port), billing and audit ports above;\n'
  printf '                  Temporal SDK http://127.0.0.1:%s/metrics, Temporal server http://127.0.0.1:%s/metrics\n' \
    "${WORKER_SDK_METRICS_PORT:-8085}" "${TEMPORAL_METRICS_PORT:-8086}"
  if [[ "${EVS_PROMETHEUS:-0}" == 1 ]]; then
    printf '  Prometheus:     %s (alerts: /alerts)\n' "$(bash infra/observability/prometheus.sh url)"
  else
    printf '  Prometheus:     not started (EVS_PROMETHEUS=1 npm start, or npm run prometheus -- start)\n'
  fi
  if [[ -n "${OTEL_EXPORTER_OTLP_TRACES_ENDPOINT:-${OTEL_EXPORTER_OTLP_ENDPOINT:-}}" ]]; then
    printf '  Traces:         OTLP/HTTP to %s\n' "${OTEL_EXPORTER_OTLP_TRACES_ENDPOINT:-$OTEL_EXPORTER_OTLP_ENDPOINT}"
  else
    printf '  Traces:         off (set OTEL_EXPORTER_OTLP_ENDPOINT to export them)\n'
  fi
  printf '  Data and logs:  %s (logs in %s/logs)\n' "$rel_data" "$rel_data"
  [[ -z "${EVS_SKIP_APPS:-}" ]] || printf '  Apps skipped:   EVS_SKIP_APPS=%s\n' "$EVS_SKIP_APPS"
  printf 'Stop: %s    (add -- --reset to also delete %s)\n' "$stop_hint" "$rel_data"
}
