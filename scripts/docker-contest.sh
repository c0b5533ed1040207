#!/usr/bin/env bash
# The contest in Docker, in one command, on a fresh Debian 12 machine (as root):
#   1. scripts/docker-setup.sh: Debian's docker.io + docker-compose, dockerd, local base image;
#   2. the processors' compose (compose.processors.yaml: emulators in the official shape, network
#      payment-processor), then ours (compose.yaml), both built here;
#   3. waits until GET /payments-summary on the load balancer answers < 400 (the contest's rule);
#   4. a short contest load from the host through the load balancer, and the score;
#   5. tears down containers, networks and volumes of both projects (images with
#      --remove-images) and the dockerd it started — also on failure and Ctrl-C.
#
#   scripts/docker-contest.sh [--duration_s=N] [--max_vus=N] [--test=final|preview]
#                             [--timeline=NAME] [--out=DIR] [--remove-images] [--keep-running]
#                             [--fault=SERVICE@AT_S] [--check]
# --fault crashes a container (router, ledger, edge1, edge2, lb) AT_S seconds into the load:
#   SIGKILL to its process from the host, as the OOM killer or a segfault would end it, and
#   compose's restart policy brings it back. (`docker kill` would not do: Docker marks a killed
#   container as stopped by the user, and no restart policy restarts it.) Implies --check: once the load is
#   over and the stack quiet, rinha-check compares every payment's fate (lost, paid twice,
#   unrecorded) through the published ports; OUT/check.json, OUT/fault.json.
# Environment: LB_HOST_PORT (9999), PROCESSOR_DEFAULT_HOST_PORT (8001),
#   PROCESSOR_FALLBACK_HOST_PORT (8002), ROUTER_GRPC_HOST_PORT (50051), LEDGER_GRPC_HOST_PORT
#   (50052); RINHA_LOAD_BIN (a built rinha-load, rinha-check beside it; default: built natively in
#   build-loadgen/ when missing).
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/docker-lib.sh
source scripts/docker-lib.sh
DLOG_TAG=docker-contest

duration_s=60 max_vus=150 test=final timeline="" out="" remove_images=0 keep_running=0 fault="" check=0
for arg in "$@"; do
  case "$arg" in
    --duration_s=*) duration_s=${arg#*=} ;;
    --max_vus=*) max_vus=${arg#*=} ;;
    --test=*) test=${arg#*=} ;;
    --timeline=*) timeline=${arg#*=} ;;
    --fault=*) fault=${arg#*=}; check=1 ;;
    --check) check=1 ;;
    --out=*) out=${arg#*=} ;;
    --remove-images) remove_images=1 ;;
    --keep-running) keep_running=1 ;;
    -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d'; exit 0 ;;
    *) echo "unknown argument: $arg (see --help)" >&2; exit 2 ;;
  esac
done
fault_service="" fault_at_s=""
if [[ -n $fault ]]; then
  [[ $fault =~ ^(router|ledger|edge1|edge2|lb)@([0-9]+(\.[0-9]+)?)$ ]] ||
    { echo "--fault=SERVICE@AT_S (router|ledger|edge1|edge2|lb)" >&2; exit 2; }
  fault_service=${BASH_REMATCH[1]} fault_at_s=${BASH_REMATCH[2]}
fi
out=${out:-$(mktemp -d /tmp/rinha-docker-contest.XXXXXX)}
mkdir -p "$out"

export LB_HOST_PORT=${LB_HOST_PORT:-9999}
export PROCESSOR_DEFAULT_HOST_PORT=${PROCESSOR_DEFAULT_HOST_PORT:-8001}
export PROCESSOR_FALLBACK_HOST_PORT=${PROCESSOR_FALLBACK_HOST_PORT:-8002}
export ROUTER_GRPC_HOST_PORT=${ROUTER_GRPC_HOST_PORT:-50051}
export LEDGER_GRPC_HOST_PORT=${LEDGER_GRPC_HOST_PORT:-50052}
backend=rinha-backend processors=rinha-processors

# The daemon is ours to stop only if nothing answered before we started.
started_dockerd=0
docker info >/dev/null 2>&1 || started_dockerd=1

backend_compose() { docker-compose -f compose.yaml -p "$backend" "$@"; }
processors_compose() { docker-compose -f compose.processors.yaml -p "$processors" "$@"; }

cleanup() {
  local status=$?
  trap '' INT TERM  # a second Ctrl-C must not cut the clean-up short
  trap - EXIT
  if ((keep_running && status == 0)); then
    dlog "left running (--keep-running); stop with: docker-compose -p $backend down -v;" \
      "docker-compose -f compose.processors.yaml -p $processors down -v"
    exit 0
  fi
  if command -v docker-compose >/dev/null 2>&1 && docker info >/dev/null 2>&1; then
    ((status == 0)) || backend_compose logs --tail=30 >"$out/compose-logs.txt" 2>&1 || true
    dlog "tearing down"
    backend_compose down -v --remove-orphans --timeout 5 >/dev/null 2>&1 || true
    processors_compose down -v --remove-orphans --timeout 5 >/dev/null 2>&1 || true
    if ((remove_images)); then
      docker image rm -f "${RINHA_IMAGE:-rinha-backend-2025:local}" \
        "${RINHA_LB_IMAGE:-rinha-backend-2025-lb:local}" >/dev/null 2>&1 || true
    fi
  fi
  ((started_dockerd)) && bash scripts/docker-teardown.sh || true
  ((status == 0)) || dlog "FAILED (exit $status); logs in $out"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

bash scripts/docker-setup.sh

find_loadgen build-loadgen

t0=$(date +%s.%N)
dlog "building images (cached layers are reused)"
# Two images serve every service: build them once (lb, and ledger for the shared runtime image).
backend_compose build lb ledger >"$out/build.log" 2>&1 || { tail -30 "$out/build.log" >&2; exit 1; }
t_built=$(date +%s.%N)

dlog "starting the processors (compose.processors.yaml)"
processors_compose up -d >"$out/processors-up.log" 2>&1 || { cat "$out/processors-up.log" >&2; exit 1; }
for port in "$PROCESSOR_DEFAULT_HOST_PORT" "$PROCESSOR_FALLBACK_HOST_PORT"; do
  ok=0
  for _ in $(seq 1 150); do
    curl -fsS -o /dev/null -H 'X-Rinha-Token: 123' "http://127.0.0.1:$port/admin/payments-summary" \
      2>/dev/null && { ok=1; break; }
    sleep 0.2
  done
  ((ok)) || { dlog "processor on :$port not ready"; exit 1; }
done

dlog "starting the backend (compose.yaml)"
t_up=$(date +%s.%N)
backend_compose up -d >"$out/backend-up.log" 2>&1 || { cat "$out/backend-up.log" >&2; exit 1; }
lb="http://127.0.0.1:$LB_HOST_PORT"
wait_http "$lb/payments-summary" 120 || { dlog "load balancer not ready after 120 s"; exit 1; }
t_ready=$(date +%s.%N)
secs() { awk -v a="$1" -v b="$2" 'BEGIN{printf "%.1f", b - a}'; }
dlog "ready: build $(secs "$t0" "$t_built") s, up -> GET /payments-summary < 400 in $(secs "$t_up" "$t_ready") s"

def="http://127.0.0.1:$PROCESSOR_DEFAULT_HOST_PORT" fb="http://127.0.0.1:$PROCESSOR_FALLBACK_HOST_PORT"

# The fault in Docker: SIGKILL to one container's process AT_S seconds into the load (a crash:
# its restart policy starts it again); waits until it runs again (the lb: until it answers);
# OUT/fault.json has the times in seconds since the load began.
docker_fault_job() {
  local id started killed ready restarts
  id=$(backend_compose ps -q "$fault_service")
  [[ -n $id ]] || { dlog "no container for $fault_service"; return 1; }
  restarts=$(docker inspect -f '{{.RestartCount}}' "$id")
  until [[ -s $out/load.started ]]; do sleep 0.02; done
  started=$(cat "$out/load.started")
  sleep "$(awk -v s="$started" -v a="$fault_at_s" -v n="$(now_ms)" \
    'BEGIN { w = (s + a * 1000 - n) / 1000; printf "%.3f", (w > 0 ? w : 0) }')"
  killed=$(now_ms)
  local pid; pid=$(docker inspect -f '{{.State.Pid}}' "$id")
  dlog "fault: SIGKILL to $fault_service (host pid $pid)"
  kill -KILL "$pid"
  local deadline=$(($(now_ms) + 60000))
  until [[ $(docker inspect -f '{{.RestartCount}} {{.State.Running}}' "$id") == "$((restarts + 1)) true" ]]; do
    (($(now_ms) < deadline)) || { dlog "$fault_service was not restarted by its policy"; return 1; }
    sleep 0.02
  done
  [[ $fault_service != lb ]] || wait_http "$lb/payments-summary" 60 || return 1
  ready=$(now_ms)
  dlog "fault: $fault_service back after $((ready - killed)) ms"
  printf '{"service":"%s","signal":"KILL","killed_at_s":%s,"ready_at_s":%s}\n' "$fault_service" \
    "$(awk -v a="$killed" -v s="$started" 'BEGIN { printf "%.3f", (a - s) / 1000 }')" \
    "$(awk -v a="$ready" -v s="$started" 'BEGIN { printf "%.3f", (a - s) / 1000 }')" >"$out/fault.json"
}
load_extra=()
[[ -n $timeline ]] && load_extra+=(--timeline="$timeline")
((check)) && load_extra+=(--requests_out="$out/requests.log" --started_file="$out/load.started")
rm -f "$out/load.started" "$out/fault.json"
if [[ -n $fault_service ]]; then docker_fault_job & fault_job=$!; fi
dlog "load: $loadgen --test=$test --duration_s=$duration_s --max_vus=$max_vus ${load_extra[*]}"
"$loadgen" --target="$lb" --default_processor="$def" --fallback_processor="$fb" \
  --admin_token=123 --test="$test" --duration_s="$duration_s" --max_vus="$max_vus" \
  --router_stats="127.0.0.1:$ROUTER_GRPC_HOST_PORT" --out="$out" ${load_extra[@]+"${load_extra[@]}"}
if [[ -n $fault_service ]]; then
  wait "$fault_job" || { dlog "the fault job failed"; exit 1; }
fi
if ((check)); then
  check_args=(--run_dir="$out" --ledger="127.0.0.1:$LEDGER_GRPC_HOST_PORT"
    --router="127.0.0.1:$ROUTER_GRPC_HOST_PORT" --default_processor="$def"
    --fallback_processor="$fb")
  if [[ -s $out/fault.json ]]; then
    check_args+=(--fault_at_s="$(json_num "$(cat "$out/fault.json")" killed_at_s)"
      --ready_at_s="$(json_num "$(cat "$out/fault.json")" ready_at_s)")
  fi
  dlog "check: waiting for quiet, then every payment's fate"
  "$checker" "${check_args[@]}" >"$out/check.out" 2>"$out/check.err" ||
    { cat "$out/check.out" "$out/check.err" >&2; dlog "check FAILED"; exit 1; }
  echo "check: $(cat "$out/check.out")"
fi
results=$(cat "$out/final-results.json")
echo "score=$(json_num "$results" score) p99=$(grep -o '"valor"[^,}]*' <<<"$results" | head -n1 | cut -d'"' -f4)" \
  "inconsistencies=$(json_num "$results" num_inconsistencias) lag=$(json_num "$results" lag)"
echo "results: $out/final-results.json, $out/run.json"
