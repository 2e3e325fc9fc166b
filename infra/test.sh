#!/usr/bin/env bash
# `npm test`: installs node_modules if missing, builds, runs the unit, stores
# and integration projects, then the end-to-end files (and the heavy ones that
# run once) with every store on PostgreSQL (DATABASE_URL), then the cluster
# topology's tests, and stops the test stacks at the end whatever happened. It
# ends with one line adding up the passes; the exit code is non-zero if any
# pass failed. Extra arguments run one vitest pass with them instead
# (e.g. --project unit).
#   SKIP_BUILD=1              do not build first
#   EVS_TEST_STACK=external   use an already-running test stack; start/stop nothing
#                             but a test PostgreSQL cluster that is not running
#   EVS_TEST_KEEP_STACK=1     leave the test stack running afterwards
#   EVS_TEST_DATABASE_URL     use that PostgreSQL database; otherwise a throwaway
#                             cluster in $DATA_DIR-postgres (port TEST_POSTGRES_PORT,
#                             default 15432) is started and this variable points
#                             at its database evs_test
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/postgres.sh"
EVS_LOG_TAG=test
export EVS_ENV=test
cd "$EVS_ROOT"

# The PostgreSQL folder this run is responsible for stopping; empty when the
# database is the user's or the cluster was already running beside an
# external stack.
test_pg_dir=""

stop_test_stack() {
  local rc=$?
  trap - EXIT INT TERM
  if [[ "${EVS_TEST_STACK:-}" != external && "${EVS_TEST_KEEP_STACK:-0}" != 1 ]]; then
    bash infra/down.sh >/dev/null 2>&1 || evs_log "stopping the test stack failed; try: EVS_ENV=test npm stop"
  fi
  if [[ -n "$test_pg_dir" && "${EVS_TEST_KEEP_STACK:-0}" != 1 ]]; then
    (evs_pg_stop "$test_pg_dir") >/dev/null 2>&1 || evs_log "stopping PostgreSQL in $test_pg_dir failed; try: bash infra/postgres.sh stop $test_pg_dir"
  fi
  exit "$rc"
}
trap stop_test_stack EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# The whole suite's cluster pass runs the Temporal server proper, compiled
# from source the first time (about 6 minutes on 2 cores, much of it
# downloads): built from the start, beside npm ci and the first passes, at
# low priority, instead of in front of the cluster pass.
server_build_pid=""
if (($# == 0)); then
  server_build_log="$(mktemp)"
  nice -n 15 bash infra/temporal-server.sh build >"$server_build_log" 2>&1 &
  server_build_pid=$!
fi

evs_ensure_node_modules
if [[ "${SKIP_BUILD:-0}" != 1 ]]; then
  npm run --silent build
fi
export SKIP_BUILD=1

# EVS_TEST_DATABASE_URL set by the user means "use that database", as
# KAFKA_BROKERS does for Kafka. Otherwise the test cluster is started even
# with EVS_TEST_STACK=external (which up.sh's stack does not include), but
# one found already running there is then neither restarted nor stopped.
if [[ -z "${EVS_TEST_DATABASE_URL:-}" ]]; then
  # The test environment is read in a subshell: exported into this shell it
  # would reach vitest and every process the tests start, which today take
  # their settings from infra/env/test.env themselves.
  pg_env="$(evs_load_env && printf '%s\n%s' "$DATA_DIR" "${TEST_POSTGRES_PORT:-15432}")" ||
    evs_die "could not read the test environment"
  # Beside the stack's data folder, not in it: the stack's own `down.sh` (which
  # the integration project's teardown runs) must leave it to the next pass.
  pg_dir="${pg_env%$'\n'*}-postgres"
  pg_port="${pg_env##*$'\n'}"
  if [[ "${EVS_TEST_STACK:-}" != external ]] || ! evs_pg_running "$pg_dir"; then
    test_pg_dir="$pg_dir"
  fi
  EVS_PG_FAST=1 evs_pg_start "$pg_dir" "$pg_port" 127.0.0.1
  evs_pg_create_database 127.0.0.1 "$pg_port" evs_test
  EVS_TEST_DATABASE_URL="$(evs_pg_url 127.0.0.1 "$pg_port" evs_test)"
  export EVS_TEST_DATABASE_URL
fi

if (($# > 0)); then
  npx --no-install vitest run "$@"
  exit
fi

# Each pass's closing line ("tests: N passed, N failed, N skipped") is kept
# and added up at the end, so the last line speaks for the whole suite.
summaries="$(mktemp)"
overall=0


run_pass() {
  local label="$1" rc=0
  shift
  evs_log "pass: $label"
  "$@" 2>&1 | tee >(grep -E '^tests: [0-9]+ passed, [0-9]+ failed, [0-9]+ skipped$' | tail -n1 >>"$summaries") || rc=$?
  ((rc == 0)) || overall=$rc
}

# Each fault once, Kafka's outage 15 s (long enough for every kill inside it);
# `npm run test:faults` alone repeats them twice by default with a 30 s outage,
# and a soak more. When a second pass follows, EVS_TEST_FIRST_PASS=1: the heavy
# files that need to run only once (the API fuzzing, python-openstackclient,
# the consumer processes that rebuild from the start of the topics) wait for
# it, as it has room (test/support/passes.ts). With an external stack there is
# no second pass, and they run here.
second_pass=1
if [[ "${EVS_TEST_STACK:-}" == external ]]; then second_pass=0; fi
run_pass "unit, stores and integration, stores on SQLite" env EVS_FAULT_REPETITIONS="${EVS_FAULT_REPETITIONS:-1}" \
  EVS_FAULT_KAFKA_OUTAGE_SECONDS="${EVS_FAULT_KAFKA_OUTAGE_SECONDS:-15}" EVS_TEST_FIRST_PASS="$second_pass" \
  npx --no-install vitest run --project unit --project stores --project integration
# The same stack with every store in PostgreSQL schemas: its own data folder,
# so nothing of the first pass's SQLite files or Temporal history is reused.
# Here: the end-to-end files, the Huawei SDK's, and the heavy files the first
# pass skipped (the API fuzzing, 60 s here; python-openstackclient; the
# consumer processes). The other OpenStack clients see the same gateway edge
# whatever the stores are and ran in the first pass. The fault-injection file
# (3.5 min even at one repetition) is left to the cluster pass, whose faults
# kill every kind of process over PostgreSQL stores; it runs on PostgreSQL
# alone with EVS_FAULTS_DATABASE_URL (README, "Development").
if ((second_pass)); then
  pg_stack_url="${EVS_TEST_DATABASE_URL%/*}/evs_stack"
  rm -rf "$EVS_ROOT/.data/test-pg"
  psql -q "$EVS_TEST_DATABASE_URL" -c 'DROP DATABASE IF EXISTS evs_stack WITH (FORCE)' -c 'CREATE DATABASE evs_stack' ||
    evs_die "could not create the database evs_stack next to $EVS_TEST_DATABASE_URL"
  run_pass "end to end, stores on PostgreSQL" env DATA_DIR=.data/test-pg DATABASE_URL="$pg_stack_url" \
    EVS_FUZZ_SECONDS="${EVS_FUZZ_SECONDS:-60}" npx --no-install vitest run --project integration \
    test/e2e test/security/api-fuzz.test.ts test/compat/osc.test.ts test/compat/huawei-sdk.test.ts
fi
if ! wait "$server_build_pid"; then
  cat "$server_build_log" >&2
  evs_log "building the Temporal server failed: the cluster pass will say why again"
fi
rm -f "$server_build_log"
run_pass "the cluster topology" npx --no-install vitest run --project cluster
sleep 0.2 # the summary lines' readers finish after their pass
awk '{ p += $2; f += $4; s += $6 } END { printf "\ntests: %d passed, %d failed, %d skipped\n", p, f, s }' "$summaries"
rm -f "$summaries"
exit "$overall"
