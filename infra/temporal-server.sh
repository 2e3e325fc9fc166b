#!/usr/bin/env bash
# The Temporal server proper (frontend, history, matching and worker
# services on PostgreSQL), as the cluster topology runs it; npm start and the
# fault suite keep the CLI's dev server (infra/temporal.sh).
#   infra/temporal-server.sh build   build temporal-server, temporal-sql-tool
#                                    and the Web UI server into
#                                    .tools/temporal-server/<version>, once
#   infra/temporal-server.sh dir     print that folder (built or not)
# Nothing here is downloaded from a release page: everything is compiled from
# the Go module proxy, which is what this machine and CI can reach.
#   TEMPORAL_SERVER_VERSION (default below), TEMPORAL_UI_SERVER_VERSION
#   GOTOOLCHAIN: the server's go.mod asks for a newer Go than Debian's, and
#   the go command fetches this one from the module proxy itself.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
EVS_LOG_TAG=temporal-server

export GOTOOLCHAIN="${GOTOOLCHAIN_FOR_TEMPORAL:-go1.27.3}"
SERVER_VERSION="${TEMPORAL_SERVER_VERSION:-v1.32.2}"
UI_VERSION="${TEMPORAL_UI_SERVER_VERSION:-v2.58.1}"
UI_API_VERSION="${TEMPORAL_UI_API_VERSION:-v1.64.3}"
TOOLS="$EVS_ROOT/.tools/temporal-server"
OUT="$TOOLS/$SERVER_VERSION"
BUILD="$TOOLS/build"

built() {
  [[ -x "$OUT/bin/temporal-server" && -x "$OUT/bin/temporal-sql-tool" && -x "$OUT/bin/temporal-ui-server" &&
    -d "$OUT/schema/postgresql/v12" && -f "$OUT/ui-version" && "$(<"$OUT/ui-version")" == "$UI_VERSION" ]]
}

# build_in MODULE BINARY PACKAGE@VERSION [MODULE@VERSION...]: go get the
# package (which records every module it imports) and any pins in the
# scratch module MODULE, then build it.
build_in() {
  local dir="$BUILD/$1" binary="$2" pkg="${3%@*}"
  shift 2
  mkdir -p "$dir"
  cd "$dir"
  [[ -f go.mod ]] || go mod init "evs.local/temporal-$(basename "$dir")-build"
  go get "$@"
  go build -trimpath -o "$OUT/bin/$binary" "$pkg"
}

build() {
  if built; then
    return 0
  fi
  command -v go >/dev/null ||
    evs_die "no go command: the Temporal server is built from source; install Go 1.22 or newer (Debian: apt-get install golang), which fetches $GOTOOLCHAIN itself"
  mkdir -p "$BUILD" "$OUT/bin"
  if ! go version >/dev/null 2>"$TOOLS/toolchain.err"; then
    cat "$TOOLS/toolchain.err" >&2
    evs_die "the go command could not get the $GOTOOLCHAIN toolchain from the module proxy (GOPROXY=$(GOTOOLCHAIN=local go env GOPROXY)); the Temporal server $SERVER_VERSION needs it"
  fi
  rm -f "$TOOLS/toolchain.err"
  evs_log "building Temporal server $SERVER_VERSION and UI server $UI_VERSION with $(go version | cut -d' ' -f3) (about 4 minutes on 2 cores the first time; go's caches make the next build quick)"
  local started=$SECONDS
  (
    # A module of its own for each, so that the server is built with exactly
    # the dependencies its release pins, whatever the UI server's need.
    build_in server temporal-server "go.temporal.io/server/cmd/server@$SERVER_VERSION"
    build_in server temporal-sql-tool "go.temporal.io/server/cmd/tools/sql@$SERVER_VERSION"
    # The UI server's release names go.temporal.io/api v1.64.0, which the
    # module proxy refuses (403); v1.64.3, a patch release of it, is served.
    build_in ui temporal-ui-server "github.com/temporalio/ui-server/v2/cmd/server@$UI_VERSION" "go.temporal.io/api@$UI_API_VERSION"
  ) >"$TOOLS/build.log" 2>&1 || {
    tail -n 30 "$TOOLS/build.log" >&2
    evs_die "building the Temporal server failed (full output: $TOOLS/build.log); is the Go module proxy ($(GOTOOLCHAIN=local go env GOPROXY)) reachable?"
  }
  # The schemas and the versions they upgrade through come with the module.
  local module
  module="$(cd "$BUILD/server" && go list -m -f '{{.Dir}}' go.temporal.io/server)"
  rm -rf "$OUT/schema"
  mkdir -p "$OUT/schema"
  cp -R "$module/schema/postgresql" "$OUT/schema/"
  chmod -R u+w "$OUT/schema"
  printf '%s\n' "$UI_VERSION" >"$OUT/ui-version"
  evs_log "built in $((SECONDS - started)) s: $OUT"
}

case "${1:-}" in
  build) build ;;
  dir) printf '%s\n' "$OUT" ;;
  *) echo "usage: $0 {build|dir}" >&2; exit 2 ;;
esac
