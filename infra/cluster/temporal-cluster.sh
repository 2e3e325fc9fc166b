# The Temporal server proper for the cluster topology: its services as
# separate processes, each on a loopback "host" of its own, on the topology's
# PostgreSQL. Source it after lib.sh and postgres.sh; do not run it.
#
#   127.0.0.81-82   temporal-frontend-1/2   gRPC TEMPORAL_CLUSTER_FRONTEND_PORT, HTTP +10
#   127.0.0.83-84   temporal-history-1/2
#   127.0.0.85-86   temporal-matching-1/2
#   127.0.0.87      temporal-worker-1       (Temporal's own system workflows)
#   TEMPORAL_ADDRESS                        HAProxy in TCP mode over the frontends
#   TEMPORAL_UI_URL                         the Web UI server, on the same address
# Every host's process reads BASE_DIR/temporal/<host>/config.yaml, written on
# each start; they find one another through the cluster_membership table and
# their membership ports. History shards are fixed at the first start of a
# database (TEMPORAL_CLUSTER_HISTORY_SHARDS, default 4): changing the number
# later needs a new database.
#   TEMPORAL_CLUSTER_LOG_LEVEL (default warn), TEMPORAL_CLUSTER_START_TIMEOUT_SECONDS (90)
# The binaries and schemas come from infra/temporal-server.sh build.

EVS_TEMPORAL_CLUSTER_HOSTS=(
  "temporal-history-1 history 127.0.0.83"
  "temporal-history-2 history 127.0.0.84"
  "temporal-matching-1 matching 127.0.0.85"
  "temporal-matching-2 matching 127.0.0.86"
  "temporal-frontend-1 frontend 127.0.0.81"
  "temporal-frontend-2 frontend 127.0.0.82"
  "temporal-worker-1 worker 127.0.0.87"
)

# Ports: the same on every host of a service, as on real hosts.
_evs_tc_grpc_port() {
  case "$1" in
    frontend) printf '%s' "${TEMPORAL_CLUSTER_FRONTEND_PORT:-37233}" ;;
    history) printf '%s' "${TEMPORAL_CLUSTER_HISTORY_PORT:-37234}" ;;
    matching) printf '%s' "${TEMPORAL_CLUSTER_MATCHING_PORT:-37235}" ;;
    worker) printf '%s' "${TEMPORAL_CLUSTER_WORKER_PORT:-37239}" ;;
  esac
}
# Below 32768: the cluster_membership table keeps the port in a smallint.
_evs_tc_membership_port() { printf '%s' "$(($(_evs_tc_grpc_port "$1") - 10300))"; }
_evs_tc_metrics_port() { printf '%s' "${TEMPORAL_CLUSTER_METRICS_PORT:-37290}"; }
_evs_tc_timeout() { printf '%s' "${TEMPORAL_CLUSTER_START_TIMEOUT_SECONDS:-90}"; }
_evs_tc_bin() { printf '%s/bin/%s' "$(bash "$EVS_ROOT/infra/temporal-server.sh" dir)" "$1"; }
_evs_tc_cli() { printf '%s/.tools/temporal-venv/bin/temporal' "$EVS_ROOT"; }

_evs_tc_base() {
  [[ -n "${1:-}" ]] || evs_die "temporal cluster: no base directory given"
  printf '%s/temporal' "$(realpath -m "$1")"
}

_evs_tc_entry() {
  local line
  for line in "${EVS_TEMPORAL_CLUSTER_HOSTS[@]}"; do
    [[ "${line%% *}" == "$1" ]] && { printf '%s' "$line"; return 0; }
  done
  return 1
}

# evs_temporal_cluster_is_host NAME: true when NAME is one of the hosts above.
evs_temporal_cluster_is_host() { _evs_tc_entry "$1" >/dev/null; }

# The frontends' gRPC addresses, one a line (the balancer's backends).
evs_temporal_cluster_frontends() {
  local line host service addr
  for line in "${EVS_TEMPORAL_CLUSTER_HOSTS[@]}"; do
    read -r host service addr <<<"$line"
    [[ "$service" == frontend ]] && printf '%s:%s\n' "$addr" "$(_evs_tc_grpc_port frontend)"
  done
}

# The config path names the process, so another base folder's server is not ours.
_evs_tc_marker() { printf -- '--config-file %s/%s/config.yaml' "$1" "$2"; }

# A PostgreSQL role without a password (the topology's trust authentication).
_evs_tc_sql_tool() {
  local db="$1"
  shift
  "$(_evs_tc_bin temporal-sql-tool)" --plugin postgres12 --endpoint "$CLUSTER_POSTGRES_ADDR" \
    --port "$CLUSTER_POSTGRES_PORT" --user postgres --password "" --database "$db" "$@"
}

# Creates the database when missing, sets up the schema's base version on a
# new one and upgrades it to what this server version ships: on an existing
# database only the upgrade runs, which is a no-op when nothing is newer. This
# is also how a new server version's schema changes reach an old database.
_evs_tc_schema() {
  local base="$1" db="$2" dir="$3" log="$1/schema.log" versioned
  versioned="$(bash "$EVS_ROOT/infra/temporal-server.sh" dir)/schema/postgresql/v12/$dir/versioned"
  [[ -d "$versioned" ]] || evs_die "temporal cluster: no schema folder $versioned"
  evs_pg_create_database "$CLUSTER_POSTGRES_ADDR" "$CLUSTER_POSTGRES_PORT" "$db"
  local has_version
  has_version="$(printf '%s\n' "SELECT to_regclass('public.schema_version') IS NOT NULL" |
    _evs_pg_psql "$CLUSTER_POSTGRES_ADDR" "$CLUSTER_POSTGRES_PORT" -d "$db")"
  if [[ "$has_version" != t ]]; then
    _evs_tc_sql_tool "$db" setup-schema -v 0.0 >>"$log" 2>&1 ||
      { tail -n 20 "$log" >&2; evs_die "temporal cluster: setting up the $db schema failed (log $log)"; }
  fi
  _evs_tc_sql_tool "$db" update-schema -d "$versioned" >>"$log" 2>&1 ||
    { tail -n 20 "$log" >&2; evs_die "temporal cluster: upgrading the $db schema failed (log $log)"; }
}

_evs_tc_write_dynamic_config() {
  # As for the dev server (infra/temporal.sh): the transfer queue read on
  # demand rather than 20 times a second, and one partition per task queue.
  # The search attributes' cache is read through, so a workflow started just
  # after provisioning never meets an attribute this host has not seen yet.
  cat >"$1/dynamicconfig.yaml" <<'EOF'
# Generated by infra/cluster/temporal-cluster.sh; edit the script, not this file.
history.transferProcessorMaxPollRPS:
  - value: 1000
matching.numTaskqueueReadPartitions:
  - value: 1
matching.numTaskqueueWritePartitions:
  - value: 1
limit.maxIDLength:
  - value: 255
EOF
}

_evs_tc_write_config() {
  local base="$1" host="$2" addr="$3" dir="$1/$2" service
  mkdir -p "$dir" || evs_die "cannot create $dir"
  {
    cat <<EOF
# Generated by infra/cluster/temporal-cluster.sh for $host; edit the script, not this file.
log:
  stdout: true
  level: ${TEMPORAL_CLUSTER_LOG_LEVEL:-warn}
persistence:
  defaultStore: default
  visibilityStore: visibility
  numHistoryShards: ${TEMPORAL_CLUSTER_HISTORY_SHARDS:-4}
  datastores:
    default:
      sql:
        pluginName: postgres12
        databaseName: temporal
        connectAddr: "$CLUSTER_POSTGRES_ADDR:$CLUSTER_POSTGRES_PORT"
        connectProtocol: tcp
        user: postgres
        password: ""
        maxConns: 20
        maxIdleConns: 20
        maxConnLifetime: 1h
    visibility:
      sql:
        pluginName: postgres12
        databaseName: temporal_visibility
        connectAddr: "$CLUSTER_POSTGRES_ADDR:$CLUSTER_POSTGRES_PORT"
        connectProtocol: tcp
        user: postgres
        password: ""
        maxConns: 5
        maxIdleConns: 5
        maxConnLifetime: 1h
global:
  membership:
    maxJoinDuration: 30s
    broadcastAddress: "$addr"
  metrics:
    prometheus:
      framework: tally
      timerType: histogram
      listenAddress: "$addr:$(_evs_tc_metrics_port)"
# Every process knows every service's ports: a member's address is its
# host's broadcast address with the port its service has here.
services:
EOF
    for service in frontend history matching worker; do
      printf '  %s:\n    rpc:\n      grpcPort: %s\n      membershipPort: %s\n      bindOnIP: "%s"\n' \
        "$service" "$(_evs_tc_grpc_port "$service")" "$(_evs_tc_membership_port "$service")" "$addr"
      [[ "$service" == frontend ]] && printf '      httpPort: %s\n' "$(($(_evs_tc_grpc_port frontend) + 10))"
    done
    cat <<EOF
clusterMetadata:
  enableGlobalNamespace: false
  failoverVersionIncrement: 10
  masterClusterName: evs
  currentClusterName: evs
  clusterInformation:
    evs:
      enabled: true
      initialFailoverVersion: 1
      rpcName: frontend
      rpcAddress: "$TEMPORAL_ADDRESS"
dcRedirectionPolicy:
  policy: noop
archival:
  history:
    state: disabled
  visibility:
    state: disabled
namespaceDefaults:
  archival:
    history:
      state: disabled
    visibility:
      state: disabled
dynamicConfigClient:
  filepath: "$base/dynamicconfig.yaml"
  pollInterval: 10s
EOF
  } >"$dir/config.yaml"
}

# evs_temporal_cluster_host_pid BASE_DIR HOST: prints the pid if it runs.
evs_temporal_cluster_host_pid() {
  local base
  base="$(_evs_tc_base "$1")"
  local EVS_RUN_DIR="$base/run"
  evs_running_pid "$2" "$(_evs_tc_marker "$base" "$2")"
}

_evs_tc_serving() {
  local service="$1" addr="$2"
  if [[ "$service" == frontend ]]; then
    "$(_evs_tc_cli)" operator cluster health --address "$addr:$(_evs_tc_grpc_port frontend)" 2>/dev/null | grep -q SERVING
  else
    evs_port_open "$addr" "$(_evs_tc_grpc_port "$service")"
  fi
}

# _evs_tc_launch BASE HOST: starts one host's service unless it runs.
_evs_tc_launch() {
  local base="$1" host="$2" service addr pid
  read -r _ service addr <<<"$(_evs_tc_entry "$host")"
  local EVS_RUN_DIR="$base/run" EVS_LOG_DIR="$base/logs"
  if pid="$(evs_running_pid "$host" "$(_evs_tc_marker "$base" "$host")")"; then
    return 0
  fi
  _evs_tc_write_config "$base" "$host" "$addr"
  evs_log "$host: starting the $service service on $addr"
  evs_start_bg "$host" "$(_evs_tc_bin temporal-server)" --config-file "$base/$host/config.yaml" \
    --allow-no-auth start --service "$service"
}

_evs_tc_await() {
  local base="$1" host="$2" service addr pid
  read -r _ service addr <<<"$(_evs_tc_entry "$host")"
  local EVS_RUN_DIR="$base/run" EVS_LOG_DIR="$base/logs"
  # The pid file as written, not matched against the command line: just
  # after the start that pid may still be the shell about to exec the
  # server, and a match would fail on a process that is fine. Waiting
  # below fails early if the pid dies.
  pid="$(cat "$(evs_pid_file "$host")" 2>/dev/null)" || evs_die "$host: no pid file; was it started?"
  if ! evs_wait_until "$(_evs_tc_timeout)" "$host" "$pid" _evs_tc_serving "$service" "$addr"; then
    evs_tail_log "$host"
    evs_die "$host did not come up; log $(evs_log_file "$host")"
  fi
}

# evs_temporal_cluster_start BASE_DIR: builds the server if needed, sets up
# or upgrades its databases, starts every host that is not running and the
# balancer and the UI, and waits until the frontends answer.
evs_temporal_cluster_start() {
  local base line host
  base="$(_evs_tc_base "$1")"
  bash "$EVS_ROOT/infra/temporal-server.sh" build
  bash "$EVS_ROOT/infra/temporal.sh" install >/dev/null
  mkdir -p "$base/run" "$base/logs"
  _evs_tc_schema "$base" temporal temporal
  _evs_tc_schema "$base" temporal_visibility visibility
  _evs_tc_write_dynamic_config "$base"
  # The first process on a new database writes the cluster's metadata; others
  # starting beside it lose that race and exit. So one first, then the rest
  # together.
  local first="${EVS_TEMPORAL_CLUSTER_HOSTS[0]%% *}"
  _evs_tc_launch "$base" "$first"
  _evs_tc_await "$base" "$first"
  for line in "${EVS_TEMPORAL_CLUSTER_HOSTS[@]:1}"; do _evs_tc_launch "$base" "${line%% *}"; done
  for line in "${EVS_TEMPORAL_CLUSTER_HOSTS[@]:1}"; do _evs_tc_await "$base" "${line%% *}"; done
  local -a frontends
  mapfile -t frontends < <(evs_temporal_cluster_frontends)
  EVS_HAPROXY_MODE=tcp evs_haproxy_start "$base" "$TEMPORAL_ADDRESS" "${frontends[@]}"
  _evs_tc_ui_start "$base"
  evs_log "temporal cluster: serving at $TEMPORAL_ADDRESS (frontends ${frontends[*]})"
}

# evs_temporal_cluster_restart_host BASE_DIR HOST: starts one stopped host again.
evs_temporal_cluster_restart_host() {
  local base
  base="$(_evs_tc_base "$1")"
  _evs_tc_launch "$base" "$2"
  _evs_tc_await "$base" "$2"
  evs_log "$2: serving"
}

# evs_temporal_cluster_kill_host BASE_DIR HOST: kill -9, as a crashed host.
evs_temporal_cluster_kill_host() {
  local pid
  if pid="$(evs_temporal_cluster_host_pid "$1" "$2")"; then
    kill -KILL "$pid"
    evs_log "$2: killed (pid $pid)"
  else
    evs_log "$2: not running"
  fi
}

evs_temporal_cluster_stop() {
  local base i host
  base="$(_evs_tc_base "$1")"
  _evs_tc_ui_stop "$base"
  evs_haproxy_stop "$base"
  local EVS_RUN_DIR="$base/run" EVS_LOG_DIR="$base/logs"
  for ((i = ${#EVS_TEMPORAL_CLUSTER_HOSTS[@]} - 1; i >= 0; i--)); do
    host="${EVS_TEMPORAL_CLUSTER_HOSTS[$i]%% *}"
    evs_stop "$host" "$(_evs_tc_marker "$base" "$host")" 20
  done
}

evs_temporal_cluster_status() {
  local base line host service addr pid
  base="$(_evs_tc_base "$1")"
  for line in "${EVS_TEMPORAL_CLUSTER_HOSTS[@]}"; do
    read -r host service addr <<<"$line"
    if pid="$(evs_temporal_cluster_host_pid "$1" "$host")"; then
      evs_log "$host ($service on $addr): running, pid $pid"
    else
      evs_log "$host ($service on $addr): not running"
    fi
  done
}

# The Web UI server, built from the same module proxy (temporalio/ui-server).
_evs_tc_ui_addr() { local u="${TEMPORAL_UI_URL#http://}"; printf '%s' "${u%%/*}"; }

_evs_tc_ui_start() {
  local base="$1" hostport ip port pid
  hostport="$(_evs_tc_ui_addr)"
  ip="${hostport%:*}" port="${hostport##*:}"
  local EVS_RUN_DIR="$base/run" EVS_LOG_DIR="$base/logs"
  if pid="$(evs_running_pid temporal-ui "--root $base/ui")" && evs_http_ok "$TEMPORAL_UI_URL"; then
    return 0
  fi
  mkdir -p "$base/ui/config"
  cat >"$base/ui/config/cluster.yaml" <<EOF
# Generated by infra/cluster/temporal-cluster.sh; edit the script, not this file.
temporalGrpcAddress: "$TEMPORAL_ADDRESS"
host: "$ip"
port: $port
enableUi: true
defaultNamespace: "$TEMPORAL_NAMESPACE"
cors:
  allowOrigins:
    - "$TEMPORAL_UI_URL"
EOF
  evs_start_bg temporal-ui "$(_evs_tc_bin temporal-ui-server)" --root "$base/ui" --env cluster start
  pid="$EVS_STARTED_PID"
  if ! evs_wait_until "$(_evs_tc_timeout)" temporal-ui "$pid" evs_http_ok "$TEMPORAL_UI_URL"; then
    evs_tail_log temporal-ui
    evs_die "the Temporal Web UI did not come up at $TEMPORAL_UI_URL"
  fi
}

_evs_tc_ui_stop() {
  local EVS_RUN_DIR="$1/run"
  evs_stop temporal-ui "--root $1/ui" 10
}
