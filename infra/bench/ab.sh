#!/usr/bin/env bash
# An A/B benchmark: the open-loop benchmark run on two builds or settings of
# the stack, taking turns (A B, B A, A B, ...: a drift of the host weighs on
# both alike), each run on a fresh bench stack; then one table comparing them
# (infra/bench/ab-report.ts). On a shared host a single run moves by a tenth
# from one hour to the next: only runs interleaved like this tell a change of
# a few per cent from the host's drift (docs/performance.md).
#
#   npm run bench:ab -- --a REF --b REF [--a-env K=V]... [--b-env K=V]...
#                       [--pairs N] [--out FILE] [--what TEXT] [-- BENCH ARGS]
#
#   REF         a git revision, built once in its own worktree under
#               .data/ab/trees (sharing this checkout's node_modules and
#               .tools, so its package-lock.json must be this one's), or `.`
#               for this checkout as it is (built unless SKIP_BUILD=1)
#   --a-env     an environment setting for side A's runs (repeatable), e.g.
#               TEMPORAL_DYNAMIC_CONFIG=... or WORKER_MAX_HEAP_MIB=512
#   --pairs     runs of each side (default 3)
#   BENCH ARGS  what each run passes to npm run bench (default: --open-loop
#               --rate 12,12 --step-duration 40 --no-baseline)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
EVS_LOG_TAG=bench-ab
cd "$EVS_ROOT"

ref_a= ref_b= pairs=3 out= what=
env_a=() env_b=() bench_args=()
while (($#)); do
  case "$1" in
    --a) ref_a="$2"; shift 2 ;;
    --b) ref_b="$2"; shift 2 ;;
    --a-env) env_a+=("$2"); shift 2 ;;
    --b-env) env_b+=("$2"); shift 2 ;;
    --pairs) pairs="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    --what) what="$2"; shift 2 ;;
    --) shift; bench_args=("$@"); break ;;
    -h | --help) sed -n '2,20p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) evs_die "unknown option $1 (see --help)" ;;
  esac
done
[[ -n "$ref_a" && -n "$ref_b" ]] || evs_die "--a and --b are required (a git revision, or . for this checkout)"
[[ "$pairs" =~ ^[1-9][0-9]*$ ]] || evs_die "--pairs takes a whole number above 0, not '$pairs'"
((${#bench_args[@]})) || bench_args=(--open-loop --rate 12,12 --step-duration 40 --no-baseline)
for arg in "${bench_args[@]}"; do
  case "$arg" in
    --out* | --keep-stack | --keep-data | --cluster) evs_die "$arg is the A/B's to decide: each run writes its own JSON on a fresh one-replica stack" ;;
  esac
done
for setting in ${env_a[@]+"${env_a[@]}"} ${env_b[@]+"${env_b[@]}"}; do
  [[ "$setting" =~ ^[A-Za-z_][A-Za-z0-9_]*= ]] || evs_die "an environment setting is NAME=VALUE, not '$setting'"
done

evs_ensure_node_modules
run_dir="$EVS_ROOT/.data/ab/$(date -u +%Y%m%dT%H%M%SZ)"
mkdir -p "$run_dir"
out="${out:-$run_dir/ab.json}"

# This checkout's build runs the report, and the side `.` if there is one.
if [[ "${SKIP_BUILD:-0}" != 1 ]]; then
  npm run --silent build >&2 || evs_die "building this checkout failed"
fi

# Prints the directory side REF runs in, building a revision's worktree first when needed.
prepare_tree() {
  local ref="$1" sha tree
  if [[ "$ref" == . ]]; then
    printf '%s' "$EVS_ROOT"
    return
  fi
  sha="$(git rev-parse --verify --quiet "$ref^{commit}")" || evs_die "$ref is not a revision of this repository"
  git diff --quiet "$sha" -- package-lock.json ||
    evs_die "$ref has another package-lock.json than this checkout, whose node_modules it would run on: check it out and compare from there"
  tree="$EVS_ROOT/.data/ab/trees/$sha"
  if [[ ! -f "$tree/dist/infra/bench/run-bench.js" ]]; then
    if [[ ! -d "$tree" ]]; then
      # A tree deleted with .data leaves its registration behind: drop such before adding again.
      git worktree prune
      git worktree add --detach "$tree" "$sha" >&2 || evs_die "git worktree add $tree failed"
    fi
    ln -sfn "$EVS_ROOT/node_modules" "$tree/node_modules"
    mkdir -p "$EVS_ROOT/.tools"
    ln -sfn "$EVS_ROOT/.tools" "$tree/.tools"
    evs_log "building $ref ($sha) in $tree"
    (cd "$tree" && npm run --silent build >&2) || evs_die "building $ref failed"
  fi
  printf '%s' "$tree"
}

dir_a="$(prepare_tree "$ref_a")"
dir_b="$(prepare_tree "$ref_b")"
# `.` is named by the commit it stands on, and whether it has changes beyond it.
describe_ref() {
  if [[ "$1" == . ]]; then
    printf 'checkout at %s%s' "$(git rev-parse --short HEAD)" "$(git diff --quiet HEAD -- || printf ' with changes')"
  else
    printf '%s' "$1"
  fi
}
label_a="$(describe_ref "$ref_a")${env_a[*]+ ${env_a[*]}}"
label_b="$(describe_ref "$ref_b")${env_b[*]+ ${env_b[*]}}"

run_side() {
  local side="$1" pair="$2" dir env_name
  [[ "$side" == a ]] && dir="$dir_a" env_name=env_a || dir="$dir_b" env_name=env_b
  local -n settings="$env_name"
  evs_log "pair $pair of $pairs: $side ($([[ $side == a ]] && echo "$label_a" || echo "$label_b")), log $run_dir/$side-$pair.log"
  (cd "$dir" && env ${settings[@]+"${settings[@]}"} SKIP_BUILD=1 bash infra/bench.sh "${bench_args[@]}" --out "$run_dir/$side-$pair.json") \
    >"$run_dir/$side-$pair.log" 2>&1 || evs_die "the run failed; see $run_dir/$side-$pair.log"
}

for ((pair = 1; pair <= pairs; pair++)); do
  if ((pair % 2 == 1)); then
    run_side a "$pair"
    run_side b "$pair"
  else
    run_side b "$pair"
    run_side a "$pair"
  fi
done

node dist/infra/bench/ab-report.js "$run_dir" "$out" "$label_a" "$label_b" \
  "${what:-A: $label_a; B: $label_b; $pairs pairs taking turns (A B, B A, ...), each run on a fresh stack: npm run bench -- ${bench_args[*]}}"
