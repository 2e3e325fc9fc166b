#!/usr/bin/env bash
# Runs one of the built command-line scripts (dist/infra/scripts/<name>.js)
# with the environment the stack's own processes get: EVS_ENV (default dev)
# picks infra/env/<env>.env, variables already set win, DATA_DIR is made
# absolute. So `EVS_ENV=test npm run -s access-keys -- ...` works on the test
# stack's data folder, and a DATA_DIR set by hand still wins.
#   infra/run-script.sh <name> [arguments...]
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
EVS_LOG_TAG=run-script
evs_load_env
name="${1:?usage: infra/run-script.sh <script name> [arguments...]}"
shift
script="$EVS_ROOT/dist/infra/scripts/$name.js"
[[ -f "$script" ]] || evs_die "$script not found: run npm run build first"
exec node "$script" "$@"
