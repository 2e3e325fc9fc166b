#!/usr/bin/env bash
# The cluster topology on one machine, standing for several hosts: each
# "host" has its own loopback address and its own data folder, and shares
# nothing with the others but the network.
#   127.0.0.10        PostgreSQL (every store of every replica, a schema each)
#   127.0.0.11-13     Kafka, three KRaft brokers (replication 3, min ISR 2)
#   127.0.0.81-87     Temporal: two frontends, two history, two matching and
#                     one worker service (infra/cluster/temporal-cluster.sh),
#                     on PostgreSQL, the frontends behind HAProxy (TCP) on
#                     127.0.0.1:37233, the Web UI on 127.0.0.1:38233
#                     (TEMPORAL_ADDRESS set: that server instead, provisioned by its owner)
#   127.0.0.30        inventory
#   127.0.0.41-42     gateways, behind HAProxy on CLUSTER_API_ADDR:CLUSTER_API_PORT
#   127.0.0.51-52     workers
#   127.0.0.61-62     billing consumers (one group)
#   127.0.0.71-72     audit consumers (one group)
# Ports and addresses: infra/env/cluster.env. Host folders: $DATA_DIR/hosts/<host>.
#
#   infra/cluster.sh start           start whatever is not running, print the addresses
#   infra/cluster.sh stop [--reset]  stop everything (--reset: also delete $DATA_DIR)
#   infra/cluster.sh status          what runs
#   infra/cluster.sh kill HOST       kill -9 one host's process (fault tests; a
#                                    Temporal host too, e.g. temporal-history-1)
#   infra/cluster.sh restart HOST    start one host's process again
#   infra/cluster.sh kill-broker N   kill -9 Kafka broker N (1-3); restart-broker N starts it again
#   infra/cluster.sh stop-postgres   stop PostgreSQL at once (-m immediate); start-postgres starts it again
#   SKIP_BUILD=1                     do not run `npm run build` first
set -euo pipefail
export EVS_ENV=cluster
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/postgres.sh"
source "$(dirname "${BASH_SOURCE[0]}")/cluster/kafka-cluster.sh"
source "$(dirname "${BASH_SOURCE[0]}")/cluster/haproxy.sh"
source "$(dirname "${BASH_SOURCE[0]}")/cluster/temporal-cluster.sh"
EVS_LOG_TAG=cluster
evs_load_env
cd "$EVS_ROOT"
evs_ensure_dirs

APP_START_TIMEOUT="${APP_START_TIMEOUT_SECONDS:-90}"
PG_DIR="$DATA_DIR/postgres"

# host app address, in start order (down in reverse).
CLUSTER_HOSTS=(
  "inventory-1 inventory 127.0.0.30"
  "worker-1 worker 127.0.0.51"
  "worker-2 worker 127.0.0.52"
  "gateway-1 gateway 127.0.0.41"
  "gateway-2 gateway 127.0.0.42"
  "billing-1 billing 127.0.0.61"
  "billing-2 billing 127.0.0.62"
  "audit-1 audit 127.0.0.71"
  "audit-2 audit 127.0.0.72"
)

host_entry() {
  local line
  for line in "${CLUSTER_HOSTS[@]}"; do
    [[ "${line%% *}" == "$1" ]] && { printf '%s' "$line"; return 0; }
  done
  evs_die "no host $1 (hosts: $(printf '%s ' "${CLUSTER_HOSTS[@]%% *}"))"
}

gateway_backends() {
  local line
  for line in "${CLUSTER_HOSTS[@]}"; do
    read -r _ app addr <<<"$line"
    [[ "$app" == gateway ]] && printf '%s:%s\n' "$addr" "$GATEWAY_PORT"
  done
}

# The settings one host's process gets: its own folder and addresses, the
# shared parts' addresses. Everything else comes from cluster.env.
host_env() {
  local host="$1" app="$2" addr="$3"
  printf '%s\n' \
    "DATA_DIR=$DATA_DIR/hosts/$host" \
    "DATABASE_URL=$DATABASE_URL" \
    "KAFKA_BROKERS=$KAFKA_BROKERS" \
    "KAFKA_CLIENT_ID=evs-$host" \
    "TEMPORAL_ADDRESS=$TEMPORAL_ADDRESS" \
    "INVENTORY_URL=http://127.0.0.30:$INVENTORY_PORT"
  case "$app" in
    inventory) printf '%s\n' "INVENTORY_HOST=$addr" ;;
    worker) printf '%s\n' "WORKER_HEALTH_HOST=$addr" ;;
    gateway)
      printf '%s\n' "GATEWAY_HOST=$addr" "GATEWAY_TRUSTED_PROXIES=$CLUSTER_API_ADDR" \
        "PUBLIC_BASE_URL=http://$CLUSTER_API_ADDR:$CLUSTER_API_PORT"
      ;;
    billing) printf '%s\n' "BILLING_HOST=$addr" ;;
    audit) printf '%s\n' "AUDIT_HOST=$addr" ;;
  esac
}

# Secrets are made once, here, and each host gets a copy: replicas that made
# their own would disagree (docs/deployment.md).
provision_keys() {
  evs_node_script provision-keys >/dev/null || evs_die "creating the shared keys failed"
}

# A mirror of keys/, folders included (the access keys' master keyring, once
# a rotation has made one): a retired key deleted from keys/ leaves the host too.
copy_keys_to() {
  local dir="${DATA_DIR:?}/hosts/${1:?}/keys"
  rm -rf -- "$dir"
  mkdir -p "$dir"
  cp -pR "$DATA_DIR"/keys/. "$dir"/
}

start_host() {
  local host="$1" app addr entry url pid
  read -r _ app addr <<<"$(host_entry "$host")"
  entry="$(evs_app_entry "$app")"
  url="http://$addr:$(evs_app_port "$app")/healthz"
  [[ -f "$entry" ]] || evs_die "$entry not found; run npm run build"
  if pid="$(evs_running_pid "$host" "$entry")" && evs_http_ok "$url"; then
    evs_log "$host: already running (pid $pid)"
    return 0
  fi
  copy_keys_to "$host"
  local -a env_args flags=()
  mapfile -t env_args < <(host_env "$host" "$app" "$addr")
  [[ "$app" == worker ]] && flags+=("--max-old-space-size=${WORKER_MAX_HEAP_MIB:-384}")
  evs_log "$host: starting $app on $addr (log $(evs_log_file "$host"))"
  evs_start_bg "$host" env "${env_args[@]}" node --enable-source-maps ${flags[@]+"${flags[@]}"} "$entry"
  pid="$EVS_STARTED_PID"
  if ! evs_wait_until "$APP_START_TIMEOUT" "$host" "$pid" evs_http_ok "$url"; then
    evs_tail_log "$host"
    evs_die "$host did not become healthy at $url"
  fi
  evs_log "$host: healthy (pid $pid)"
}

kill_host() {
  local host="$1" app addr pid
  read -r _ app addr <<<"$(host_entry "$host")"
  if pid="$(evs_running_pid "$host" "$(evs_app_entry "$app")")"; then
    kill -KILL "$pid"
    evs_log "$host: killed (pid $pid)"
  else
    evs_log "$host: not running"
  fi
}

# The database going away as a crash would take it: no checkpoint, clients cut off.
runuser_pg_ctl_immediate() {
  local -a as_owner=()
  ((EUID == 0)) && as_owner=(runuser -u postgres --)
  ${as_owner[@]+"${as_owner[@]}"} "$EVS_PG_BIN/pg_ctl" -D "$PG_DIR/data" -m immediate -w stop
}

# Our own Temporal cluster is provisioned here, as its operator would; a
# server named by TEMPORAL_ADDRESS is its owner's to provision, and the
# workers stop at start with the command to run if it is not.
start_temporal() {
  if [[ "$EVS_TEMPORAL_EXTERNAL" == 1 ]]; then
    evs_log "TEMPORAL_ADDRESS=$TEMPORAL_ADDRESS set: using that server"
    return 0
  fi
  evs_temporal_cluster_start "$DATA_DIR"
  evs_node_script provision-temporal >>"$(evs_log_file provision-temporal)" 2>&1 ||
    { evs_tail_log provision-temporal; evs_die "provisioning the Temporal namespace failed"; }
  # Each frontend learns of a new namespace from the database (every 2 s):
  # no worker or gateway starts before all of them know it.
  local frontend cli
  cli="$(_evs_tc_cli)"
  while read -r frontend; do
    evs_wait_until 30 "namespace $TEMPORAL_NAMESPACE at $frontend" "" \
      "$cli" operator namespace describe --address "$frontend" --namespace "$TEMPORAL_NAMESPACE" ||
      evs_die "the frontend at $frontend does not know namespace $TEMPORAL_NAMESPACE"
  done < <(evs_temporal_cluster_frontends)
}

kill_any() {
  if evs_temporal_cluster_is_host "$1"; then
    evs_temporal_cluster_kill_host "$DATA_DIR" "$1"
  else
    kill_host "$1"
  fi
}

restart_any() {
  if evs_temporal_cluster_is_host "$1"; then
    evs_temporal_cluster_restart_host "$DATA_DIR" "$1"
  else
    provision_keys
    start_host "$1"
  fi
}

start() {
  evs_ensure_node_modules
  if [[ "${SKIP_BUILD:-0}" != 1 ]]; then
    evs_log "building (npm run build)"
    npm run --silent build || evs_die "build failed"
  fi
  evs_pg_ensure_installed
  evs_haproxy_ensure_installed
  evs_pg_start "$PG_DIR" "$CLUSTER_POSTGRES_PORT" "$CLUSTER_POSTGRES_ADDR"
  evs_pg_create_database "$CLUSTER_POSTGRES_ADDR" "$CLUSTER_POSTGRES_PORT" evs
  bash infra/kafka.sh install
  evs_kafka_cluster_start "$DATA_DIR"
  start_temporal
  # Brokers that have only just formed their quorum may not yet serve the
  # metadata of a topic they are creating: ask again.
  local attempt
  for attempt in 1 2 3 4 5; do
    evs_node_script create-topics >>"$(evs_log_file create-topics)" 2>&1 && break
    ((attempt < 5)) || { evs_tail_log create-topics; evs_die "creating the Kafka topics failed"; }
    sleep 2
  done
  provision_keys
  local line
  for line in "${CLUSTER_HOSTS[@]}"; do
    start_host "${line%% *}"
  done
  local -a backends
  mapfile -t backends < <(gateway_backends)
  evs_haproxy_start "$DATA_DIR" "$CLUSTER_API_ADDR:$CLUSTER_API_PORT" "${backends[@]}"
  local rel="${DATA_DIR#"$EVS_ROOT"/}"
  cat <<INFO

EVS disk transfer cluster is up (EVS_ENV=cluster)
  API (HAProxy):  http://$CLUSTER_API_ADDR:$CLUSTER_API_PORT    stats: http://$CLUSTER_API_ADDR:$((CLUSTER_API_PORT + 1))/stats
  Gateways:       $(printf '%s ' "${backends[@]}")
  Temporal:       $TEMPORAL_ADDRESS (namespace $TEMPORAL_NAMESPACE)    Web UI: ${TEMPORAL_UI_URL:-(set TEMPORAL_UI_URL)}
                  frontends $(evs_temporal_cluster_frontends | tr '\n' ' ')(history, matching, worker: npm run status:cluster)
  Kafka:          $KAFKA_BROKERS
  PostgreSQL:     ${DATABASE_URL}
  Tokens:         EVS_ENV=cluster npm run -s token -- --project <project> --user <user>
  Data and logs:  $rel (hosts in $rel/hosts, logs in $rel/logs)
Stop: npm run stop:cluster    (add -- --reset to also delete $rel)
INFO
}

stop() {
  local reset=0
  [[ "${1:-}" == --reset ]] && reset=1
  evs_haproxy_stop "$DATA_DIR"
  local i line host app
  for ((i = ${#CLUSTER_HOSTS[@]} - 1; i >= 0; i--)); do
    read -r host app _ <<<"${CLUSTER_HOSTS[$i]}"
    evs_stop "$host" "$(evs_app_entry "$app")" 20
  done
  [[ "$EVS_TEMPORAL_EXTERNAL" == 1 ]] || evs_temporal_cluster_stop "$DATA_DIR"
  evs_kafka_cluster_stop "$DATA_DIR"
  evs_pg_stop "$PG_DIR"
  if ((reset)); then
    case "$DATA_DIR" in
      "$EVS_ROOT"/.data/*) rm -rf "$DATA_DIR"; evs_log "deleted $DATA_DIR" ;;
      *) evs_die "refusing to delete $DATA_DIR (not under $EVS_ROOT/.data)" ;;
    esac
  fi
}

status() {
  local line host app addr pid
  for line in "${CLUSTER_HOSTS[@]}"; do
    read -r host app addr <<<"$line"
    if pid="$(evs_running_pid "$host" "$(evs_app_entry "$app")")"; then
      evs_log "$host ($app on $addr): running, pid $pid"
    else
      evs_log "$host ($app on $addr): not running"
    fi
  done
  if evs_pg_running "$PG_DIR"; then evs_log "postgres: running"; else evs_log "postgres: not running"; fi
  for i in 1 2 3; do
    if pid="$(evs_kafka_node_pid "$DATA_DIR" "$i")"; then evs_log "kafka-$i: running, pid $pid"; else evs_log "kafka-$i: not running"; fi
  done
  if [[ "$EVS_TEMPORAL_EXTERNAL" == 1 ]]; then
    evs_log "temporal: external server at $TEMPORAL_ADDRESS"
  else
    evs_temporal_cluster_status "$DATA_DIR"
  fi
}

case "${1:-}" in
  start) start ;;
  stop) stop "${2:-}" ;;
  status) status ;;
  kill) kill_any "${2:?usage: $0 kill HOST}" ;;
  restart) restart_any "${2:?usage: $0 restart HOST}" ;;
  stop-postgres) runuser_pg_ctl_immediate ;;
  start-postgres) evs_pg_start "$PG_DIR" "$CLUSTER_POSTGRES_PORT" "$CLUSTER_POSTGRES_ADDR" ;;
  kill-broker) evs_kafka_node_stop "$DATA_DIR" "${2:?usage: $0 kill-broker N}" kill ;;
  restart-broker) evs_kafka_node_start "$DATA_DIR" "${2:?usage: $0 restart-broker N}" ;;
  *) echo "usage: $0 {start|stop [--reset]|status|kill HOST|restart HOST|kill-broker N|restart-broker N|stop-postgres|start-postgres}" >&2; exit 2 ;;
esac
