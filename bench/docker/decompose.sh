#!/usr/bin/env bash
# Where Docker's latency goes. Runs the same contest load (rinha-load, the final test shape and
# timeline scaled to --duration_s) against the stack natively (scripts/contest.sh: cgroups with
# compose.yaml's limits) and in Docker variants, alternated round by round so that all see the
# same machine, and prints the POST p50/p99 of each run and the median per mode and load.
#
#   bench/docker/decompose.sh [--vus=150,600] [--duration_s=60] [--rounds=3]
#                             [--modes=native,published,inside,loopback,noquota,noproxy]
#                             [--out=DIR] [--build-dir=build]
# Modes:
#   native     scripts/contest.sh, no Docker
#   published  compose.yaml; the load from the host through the published port 9999
#   inside     compose.yaml; the load from a container on the stack's network (no published
#              port, no docker-proxy, no host NAT)
#   loopback   as inside, with both edges in the load balancer's network namespace: HAProxy ->
#              edges over loopback instead of the bridge (cpp-httplib 0.11 cannot listen on a
#              unix socket, so this stands for "not over the bridge")
#   noquota    as published, with every CPU quota and memory limit lifted (is it throttling?)
#   noproxy    as published, with dockerd restarted with --userland-proxy=false (measurement
#              only: the contest host's daemon is not ours to configure)
# Needs root, Docker (scripts/docker-setup.sh), built images, and rinha-load in --build-dir.
# Writes DIR/runs.tsv (mode, vus, round, p50_ms, p99_ms, ok, failed) and DIR/summary.tsv.
set -euo pipefail
cd "$(dirname "$0")/../.."
repo=$PWD
# shellcheck source=scripts/docker-lib.sh
source scripts/docker-lib.sh
DLOG_TAG=decompose

vus_list=150,600 duration_s=60 rounds=3 modes=native,published,inside,loopback,noquota,noproxy
out="" build_dir=build
for arg in "$@"; do
  case "$arg" in
    --vus=*) vus_list=${arg#*=} ;;
    --duration_s=*) duration_s=${arg#*=} ;;
    --rounds=*) rounds=${arg#*=} ;;
    --modes=*) modes=${arg#*=} ;;
    --out=*) out=${arg#*=} ;;
    --build-dir=*) build_dir=${arg#*=} ;;
    -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "decompose.sh: unknown option $arg" >&2; exit 2 ;;
  esac
done
out=${out:-results/docker-decompose-$(date -u +%Y%m%d-%H%M%S)}
mkdir -p "$out"
out=$(cd "$out" && pwd)
load_bin=$repo/$build_dir/contest/load/rinha-load
[[ -x $load_bin ]] || { echo "decompose.sh: $load_bin missing" >&2; exit 2; }
IFS=, read -r -a vus_values <<<"$vus_list"
IFS=, read -r -a mode_values <<<"$modes"

bash scripts/docker-setup.sh >/dev/null
export LB_HOST_PORT=${LB_HOST_PORT:-9999}
export PROCESSOR_DEFAULT_HOST_PORT=${PROCESSOR_DEFAULT_HOST_PORT:-8001}
export PROCESSOR_FALLBACK_HOST_PORT=${PROCESSOR_FALLBACK_HOST_PORT:-8002}
export ROUTER_GRPC_HOST_PORT=${ROUTER_GRPC_HOST_PORT:-50051}
export LEDGER_GRPC_HOST_PORT=${LEDGER_GRPC_HOST_PORT:-50052}
backend=rinha-decompose processors=rinha-decompose-proc
image=${RINHA_IMAGE:-rinha-backend-2025:local}

# Compose overrides for the variants.
# loopback: both edges and HAProxy in edge1's network namespace (edges on 127.0.0.1:8081/8082),
# made from compose.yaml by a few substitutions (compose cannot remove a published port or a
# dependency in an override file).
python3 - "$out/loopback.yaml" <<'PY'
import sys
s = open("compose.yaml").read()
def sub(old, new):
    global s
    assert old in s, old
    s = s.replace(old, new, 1)
sub('EDGE1_ADDR: "edge1:8080"', 'EDGE1_ADDR: "127.0.0.1:8081"')
sub('EDGE2_ADDR: "edge2:8080"', 'EDGE2_ADDR: "127.0.0.1:8082"')
sub('    ports:\n      - "${LB_HOST_PORT:-9999}:9999"\n', '    network_mode: "service:edge1"\n')
sub('"--listen=0.0.0.0:8080"', '"--listen=127.0.0.1:8081"')
sub('  edge2:\n    <<: *edge\n', '  edge2:\n    <<: *edge\n    network_mode: "service:edge1"\n'
    '    command: ["edge", "--listen=127.0.0.1:8082", "--router=unix:/run/rinha/router.sock",\n'
    '              "--ledger=unix:/run/rinha/ledger.sock",\n'
    '              "--journal_dir=/var/lib/rinha/edge-journal"]\n')
open(sys.argv[1], "w").write(s)
PY
cat >"$out/noquota.yaml" <<'YAML'
services:
  lb: {deploy: {resources: {limits: {cpus: "2", memory: "2048MB"}}}}
  edge1: {deploy: {resources: {limits: {cpus: "2", memory: "2048MB"}}}}
  edge2: {deploy: {resources: {limits: {cpus: "2", memory: "2048MB"}}}}
  router: {deploy: {resources: {limits: {cpus: "2", memory: "2048MB"}}}}
  ledger: {deploy: {resources: {limits: {cpus: "2", memory: "2048MB"}}}}
YAML

pc() { docker-compose -f compose.processors.yaml -p "$processors" "$@"; }
# The loopback variant replaces compose.yaml; the others add an override file to it.
bc() {
  if [[ $override == *loopback* ]]; then docker-compose -f "$override" -p "$backend" "$@"
  else docker-compose -f compose.yaml ${override:+-f "$override"} -p "$backend" "$@"; fi
}
override=""
down_all() {
  bc down -v --remove-orphans --timeout 5 >/dev/null 2>&1 || true
  pc down -v --remove-orphans --timeout 5 >/dev/null 2>&1 || true
}
restore_dockerd() {
  if [[ -f $out/.proxy-off ]]; then
    dlog "restoring dockerd with the userland proxy"
    down_all
    bash scripts/docker-teardown.sh >/dev/null 2>&1 || true
    rm -f "$out/.proxy-off"
    bash scripts/docker-setup.sh >/dev/null
  fi
}
trap 'down_all; restore_dockerd' EXIT

# stack_up OVERRIDE: processors + backend (with an optional override file), ready.
stack_up() {
  override=$1
  pc up -d >/dev/null 2>&1 || { dlog "processors up failed"; exit 1; }
  bc up -d >/dev/null 2>&1 || { bc logs --tail=20 >&2; dlog "backend up failed"; exit 1; }
  if [[ -z $override || $override == *noquota* ]]; then
    wait_http "http://127.0.0.1:$LB_HOST_PORT/payments-summary" 120 || { dlog "not ready"; exit 1; }
  fi
}

# run_docker_load WHERE VUS DIR: WHERE = host (published port) or inside (a container on the
# backend's network and payment-processor, running the host's rinha-load from the runtime image,
# which has its libraries).
run_docker_load() {
  local where=$1 vus=$2 dir=$3 target=http://lb:9999
  [[ $override == *loopback* ]] && target=http://edge1:9999
  mkdir -p "$dir"
  if [[ $where == host ]]; then
    "$load_bin" --target="http://127.0.0.1:$LB_HOST_PORT" \
      --default_processor="http://127.0.0.1:$PROCESSOR_DEFAULT_HOST_PORT" \
      --fallback_processor="http://127.0.0.1:$PROCESSOR_FALLBACK_HOST_PORT" --admin_token=123 \
      --test=final --duration_s="$duration_s" --max_vus="$vus" --out="$dir" --quiet
  else
    local name=rinha-decompose-load-$$
    docker create --name "$name" --user 0 --network "${backend}_default" --entrypoint /load/rinha-load \
      -v "$(dirname "$load_bin"):/load:ro" -v "$dir:/out" "$image" \
      --target="$target" --default_processor=http://payment-processor-default:8080 \
      --fallback_processor=http://payment-processor-fallback:8080 --admin_token=123 \
      --test=final --duration_s="$duration_s" --max_vus="$vus" --out=/out --quiet >/dev/null
    docker network connect payment-processor "$name"
    # Inside: wait for the load balancer from the container's side first.
    docker start -a "$name" >/dev/null
    docker rm -f "$name" >/dev/null
  fi
}

record() {  # MODE VUS ROUND DIR
  local run=$4/run.json
  if [[ -s $run ]]; then
    jq -r --arg m "$1" --arg v "$2" --arg r "$3" \
      '[$m, $v, $r, .summary.p50_ms, .summary.p99_ms, .summary.requests - .summary.failed, .summary.failed] | @tsv' "$run" |
      tee -a "$out/runs.tsv"
  else
    printf '%s\t%s\t%s\tFAILED\t-\t-\t-\n' "$1" "$2" "$3" | tee -a "$out/runs.tsv"
  fi
}

printf 'mode\tvus\tround\tp50_ms\tp99_ms\tok\tfailed\n' >"$out/runs.tsv"
for ((round = 1; round <= rounds; round++)); do
  for vus in "${vus_values[@]}"; do
    # Alternate the order of the modes from one round to the next.
    order=("${mode_values[@]}")
    ((round % 2 == 0)) && order=($(printf '%s\n' "${mode_values[@]}" | tac))
    for mode in "${order[@]}"; do
      dir=$out/$mode-$vus-$round
      dlog "round $round, $vus VUs: $mode"
      case $mode in
        native)
          bash scripts/contest.sh --no-build --build-dir="$build_dir" --port=0 \
            --duration_s="$duration_s" --max_vus="$vus" --out="$dir" >"$dir.log" 2>&1 || true ;;
        published | inside)
          down_all; stack_up ""
          run_docker_load "$([[ $mode == published ]] && echo host || echo inside)" "$vus" "$dir" \
            >"$dir.log" 2>&1 || true ;;
        loopback)
          down_all; stack_up "$out/loopback.yaml"
          run_docker_load inside "$vus" "$dir" >"$dir.log" 2>&1 || true ;;
        noquota)
          down_all; stack_up "$out/noquota.yaml"
          run_docker_load host "$vus" "$dir" >"$dir.log" 2>&1 || true ;;
        noproxy)
          down_all
          dlog "restarting dockerd with --userland-proxy=false"
          bash scripts/docker-teardown.sh >/dev/null 2>&1 || true
          nohup dockerd --userland-proxy=false >/var/log/rinha-dockerd.log 2>&1 &
          echo $! >/var/run/rinha-dockerd.pid
          touch "$out/.proxy-off"
          for _ in $(seq 1 120); do docker info >/dev/null 2>&1 && break; sleep 0.5; done
          stack_up ""
          run_docker_load host "$vus" "$dir" >"$dir.log" 2>&1 || true
          restore_dockerd ;;
        *) echo "decompose.sh: unknown mode $mode" >&2; exit 2 ;;
      esac
      record "$mode" "$vus" "$round" "$dir"
    done
  done
done
down_all

# Medians per mode and load.
{
  printf 'mode\tvus\truns\tp50_median_ms\tp99_median_ms\tp99_runs\n'
  tail -n +2 "$out/runs.tsv" | awk -F'\t' '$4 != "FAILED" { k = $1 "\t" $2; p50[k] = p50[k] " " $4; p99[k] = p99[k] " " $5; n[k]++ }
    END { for (k in n) print k "\t" n[k] "\t" p50[k] "\t" p99[k] }' |
    while IFS=$'\t' read -r m v n p50s p99s; do
      med() { tr ' ' '\n' <<<"$1" | grep . | sort -g | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
      printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$m" "$v" "$n" "$(med "$p50s")" "$(med "$p99s")" "$(echo $p99s | tr ' ' '/')"
    done | sort -k2,2n -k1,1
} | tee "$out/summary.tsv" | column -t -s $'\t'
echo "results in $out"
