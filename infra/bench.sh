#!/usr/bin/env bash
# `npm run bench -- [options]`: builds, starts the bench stack (EVS_ENV=bench:
# its own ports and data folder, reset first) without the billing and audit
# consumers (unless --with-consumers), runs infra/bench/run-bench.ts with the
# options (see --help), and stops the stack at the end. TEMPORAL_ADDRESS or
# KAFKA_BROKERS set in the environment mean those servers are used and nothing
# is started for them.
#   --keep-data       do not reset the bench data folder first
#   --keep-stack      leave the bench stack running afterwards
#   --with-consumers  start the billing and audit consumers too, so that
#                     their CPU is measured with the rest of the stack
#   --cluster         drive the cluster topology instead (infra/cluster.sh:
#                     two replicas of each kind behind HAProxy, every store and
#                     Temporal's own services on PostgreSQL, three Kafka
#                     brokers), in a data folder of its own (.data/bench-cluster,
#                     or BENCH_CLUSTER_DATA_DIR); its consumers always run and
#                     are measured beside the total. It uses the cluster's ports:
#                     stop a cluster started by npm run start:cluster first. No
#                     baseline is measured there (the bare workflow's is the
#                     one-replica stack's).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
EVS_LOG_TAG=bench
export EVS_ENV=bench
cd "$EVS_ROOT"

keep_data=0
keep_stack=0
cluster=0
skip_apps=billing,audit
args=()
for arg in "$@"; do
  case "$arg" in
    --keep-data) keep_data=1 ;;
    --keep-stack) keep_stack=1 ;;
    --with-consumers) skip_apps= ;;
    --cluster) cluster=1 ;;
    -h | --help) args=(--help) ;;
    *) args+=("$arg") ;;
  esac
done

evs_ensure_node_modules
if [[ "${SKIP_BUILD:-0}" != 1 ]]; then
  npm run --silent build
fi
export SKIP_BUILD=1
if [[ "${args[*]:-}" == --help ]]; then
  exec node dist/infra/bench/run-bench.js --help
fi
# The read-model run needs no stack.
for arg in ${args[@]+"${args[@]}"}; do
  if [[ "$arg" == --read-model ]]; then
    evs_load_env
    exec node dist/infra/bench/run-bench.js "${args[@]}"
  fi
done

if ((cluster)); then
  for arg in ${args[@]+"${args[@]}"}; do
    [[ "$arg" == --scale* ]] && evs_die "--scale runs on the one-replica stack only (it starts gateways of its own): leave out --cluster"
  done
  export EVS_ENV=cluster
  export DATA_DIR="${BENCH_CLUSTER_DATA_DIR:-$EVS_ROOT/.data/bench-cluster}"
  stop_bench_cluster() {
    local rc=$?
    trap - EXIT INT TERM
    ((keep_stack)) || bash infra/cluster.sh stop >/dev/null 2>&1 || evs_log "stopping the bench cluster failed; try: DATA_DIR=$DATA_DIR npm run stop:cluster"
    exit "$rc"
  }
  ((keep_data)) || bash infra/cluster.sh stop --reset >/dev/null
  evs_load_env
  if evs_port_open "$CLUSTER_API_ADDR" "$CLUSTER_API_PORT" && [[ ! -f "$DATA_DIR/haproxy/haproxy.pid" ]]; then
    evs_die "$CLUSTER_API_ADDR:$CLUSTER_API_PORT is taken: another cluster runs on the ports this one needs (npm run stop:cluster first)"
  fi
  trap stop_bench_cluster EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
  evs_log "starting the cluster topology in $DATA_DIR (logs in $DATA_DIR/logs)"
  bash infra/cluster.sh start >/dev/null
  # The inventory's host address is infra/cluster.sh's host table's.
  export BENCH_TOPOLOGY=cluster BENCH_API_URL="http://$CLUSTER_API_ADDR:$CLUSTER_API_PORT" INVENTORY_URL="http://127.0.0.30:$INVENTORY_PORT"
  node dist/infra/bench/run-bench.js ${args[@]+"${args[@]}"} --no-baseline
  exit 0
fi

stop_bench_stack() {
  local rc=$?
  trap - EXIT INT TERM
  ((keep_stack)) || bash infra/down.sh >/dev/null 2>&1 || evs_log "stopping the bench stack failed; try: EVS_ENV=bench npm stop"
  exit "$rc"
}
if ((!keep_data)); then
  bash infra/down.sh --reset >/dev/null
fi
trap stop_bench_stack EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# The consumers read what the service publishes and are on no call's path; the
# benchmark's own watcher is the consumer it times. --with-consumers starts them,
# for a CPU per transfer that includes what they spend on each event.
EVS_SKIP_APPS="$skip_apps" bash infra/up.sh >/dev/null
evs_load_env
# --fresh-stacks restarts this stack between searches; a server given from
# outside (TEMPORAL_ADDRESS, KAFKA_BROKERS) is not this script's to wipe.
if [[ "$EVS_TEMPORAL_EXTERNAL" == 0 && "$EVS_KAFKA_EXTERNAL" == 0 ]]; then
  export BENCH_FRESH_STACK="$EVS_ROOT/infra/bench/fresh-stack.sh" BENCH_SKIP_APPS="$skip_apps"
fi
node dist/infra/bench/run-bench.js ${args[@]+"${args[@]}"}
