#!/usr/bin/env bash
# `npm test`: installs node_modules if missing, builds, runs every Vitest
# project (extra arguments go to vitest, e.g. --project unit), and stops the
# test stack at the end whatever happened, keeping vitest's exit code.
#   SKIP_BUILD=1              do not build first
#   EVS_TEST_STACK=external   use an already-running test stack; start/stop nothing
#   EVS_TEST_KEEP_STACK=1     leave the test stack running afterwards
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
EVS_LOG_TAG=test
export EVS_ENV=test
cd "$EVS_ROOT"

stop_test_stack() {
  local rc=$?
  trap - EXIT INT TERM
  if [[ "${EVS_TEST_STACK:-}" != external && "${EVS_TEST_KEEP_STACK:-0}" != 1 ]]; then
    bash infra/down.sh >/dev/null 2>&1 || evs_log "stopping the test stack failed; try: EVS_ENV=test npm stop"
  fi
  exit "$rc"
}
trap stop_test_stack EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

evs_ensure_node_modules
if [[ "${SKIP_BUILD:-0}" != 1 ]]; then
  npm run --silent build
fi
export SKIP_BUILD=1
npx --no-install vitest run "$@"
