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
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
EVS_LOG_TAG=bench
export EVS_ENV=bench
cd "$EVS_ROOT"

keep_data=0
keep_stack=0
skip_apps=billing,audit
args=()
for arg in "$@"; do
  case "$arg" in
    --keep-data) keep_data=1 ;;
    --keep-stack) keep_stack=1 ;;
    --with-consumers) skip_apps= ;;
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
node dist/infra/bench/run-bench.js ${args[@]+"${args[@]}"}
