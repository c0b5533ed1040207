# Shell functions shared by scripts/docker-contest.sh and tests/docker/compose_stack_test.sh
# (sourced, not run): free host ports, readiness waits, compose-file checks, and the load
# generator (rinha-load and rinha-check, built natively when missing).
# shellcheck shell=bash

dlog() { echo "[${DLOG_TAG:-docker}] $*" >&2; }

# shellcheck source=scripts/free-port.sh
source "$(dirname "${BASH_SOURCE[0]}")/free-port.sh"

now_ms() { date +%s%3N; }

# wait_http URL TIMEOUT_S: until GET URL answers < 400 (the contest runner's readiness rule).
wait_http() {
  local url=$1 deadline=$(($(date +%s) + $2)) code
  while (($(date +%s) < deadline)); do
    code=$(curl -s -o /dev/null -m 2 -w '%{http_code}' "$url" 2>/dev/null) || code=000
    ((code > 0 && code < 400)) && return 0
    sleep 0.2
  done
  return 1
}

# json_num JSON PATH: a number from flat or one-level nested JSON, PATH like "default.totalRequests"
# or "totalFee". Enough for the summaries here; not a JSON parser.
json_num() {
  local json=$1 path=$2 obj key
  if [[ $path == *.* ]]; then
    obj=${path%%.*} key=${path#*.}
    json=$(grep -o "\"$obj\"[[:space:]]*:[[:space:]]*{[^}]*}" <<<"$json")
  else
    key=$path
  fi
  grep -o "\"$key\"[[:space:]]*:[[:space:]]*-\?[0-9][0-9.eE+-]*" <<<"$json" | head -n1 | sed 's/.*:[[:space:]]*//'
}

# compose_limits FILE: "service cpus memory_mb" per service from deploy.resources.limits, merge
# keys resolved (via `docker-compose config`, which also validates the file). Services with
# `profiles:` are left out: a plain `docker compose up` (the contest) does not start them.
compose_limits() {
  local file=$1
  docker-compose -f "$file" config 2>/dev/null | awk '
    /^services:/ { in_s = 1; next }
    /^[^ ]/ { in_s = 0 }
    in_s && /^  [A-Za-z0-9_.-]+:$/ { svc = $1; sub(":", "", svc); cpus[svc] = ""; mem[svc] = "" }
    in_s && /^    profiles:/ { profiled[svc] = 1 }
    in_s && /^ +cpus:/ { v = $2; gsub("[\"'\'']", "", v); cpus[svc] = v }
    in_s && /^ +memory:/ { v = $2; gsub("[\"'\'']", "", v); mem[svc] = v }
    END { for (s in cpus) if (!(s in profiled)) print s, cpus[s], mem[s] }' | sort
}

# to_mib "30M" | "30MB" | "31457280" | "1G": MiB (Compose's "MB" means MiB).
to_mib() {
  local v=${1^^}
  v=${v%B}
  case "$v" in
    *K) echo $((${v%K} / 1024)) ;;
    *M) echo "${v%M}" ;;
    *G) echo $((${v%G} * 1024)) ;;
    *) echo $((v / 1048576)) ;;
  esac
}

# find_loadgen [BUILD_DIR...]: sets loadgen and checker to a built rinha-load and the rinha-check
# beside it: $RINHA_LOAD_BIN's, else the first BUILD_DIR (or build-loadgen/) that has both, else
# both built natively in build-loadgen/ (its own build tree, tests and benchmarks off: only what
# they link).
find_loadgen() {
  local dir
  loadgen=${RINHA_LOAD_BIN:-} checker=$(dirname "${RINHA_LOAD_BIN:-.}")/rinha-check
  [[ -x $loadgen && -x $checker ]] && return 0
  for dir in "$@" build-loadgen; do
    loadgen=$dir/contest/load/rinha-load checker=$dir/contest/load/rinha-check
    [[ -x $loadgen && -x $checker ]] && return 0
  done
  dlog "building rinha-load and rinha-check natively in build-loadgen/"
  bash scripts/install-deps.sh
  cmake -S . -B build-loadgen -G Ninja -DCMAKE_BUILD_TYPE=Release -DRINHA_BUILD_TESTS=OFF \
    -DRINHA_BUILD_BENCHMARKS=OFF >/dev/null
  cmake --build build-loadgen -j 2 --target rinha-load rinha-check
  loadgen=build-loadgen/contest/load/rinha-load checker=build-loadgen/contest/load/rinha-check
}
