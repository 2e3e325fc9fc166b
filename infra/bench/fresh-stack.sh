#!/usr/bin/env bash
# The bench stack stopped, its data folder deleted, and started again, for
# `npm run bench -- --open-loop --fresh-stacks` (infra/bench.sh names this
# script to run-bench in BENCH_FRESH_STACK, with the apps to leave out in
# BENCH_SKIP_APPS). Temporal's database, Kafka's log and the SQLite stores
# start empty; a store on PostgreSQL keeps its database.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
EVS_LOG_TAG=bench
export EVS_ENV=bench SKIP_BUILD=1
# Before anything is stopped: without it the stack would come back with other apps.
: "${BENCH_SKIP_APPS?is set by infra/bench.sh, which runs the benchmark that calls this}"
cd "$EVS_ROOT"
bash infra/down.sh --reset >/dev/null
EVS_SKIP_APPS="$BENCH_SKIP_APPS" bash infra/up.sh >/dev/null
