#!/usr/bin/env bash
# Docker Swarm test of swarm/stack.yaml, on the stacks scripts/swarm.sh brought up (run it through
# `scripts/swarm.sh test`, which brings them up and down). Under the contest's load (rinha-load
# from the host through the load balancer's published port, the final test with the `faults`
# timeline: default slow, then both failing, then default failing), three scenarios, each its own
# run:
#   scale      the edges scaled 2 -> 4 mid-load (HAProxy finds the new tasks through Swarm's DNS),
#              then back to 2 (the retired tasks drain: their journal volumes end empty);
#   router     one router shard's container SIGKILLed (docker kill) while default is slow: Swarm
#              starts a new task on the same journal volume, which recovers its own journal;
#   ledger     one shard's ledger container killed the same way.
# After each run, once quiet, rinha-check (in a container on the stack's overlay network, with
# every shard's ledger and router) checks every payment answered 2xx: held by exactly one processor,
# once, and recorded by its shard's ledger; and our GET /payments-summary through the load balancer
# equals the processors' admin summaries. "Time to recover": from the event until the load
# balancer had every edge up (scale), or until GET /payments/{id} of an id of the killed shard
# answered 404 (its router and ledger both answer) rather than 503. Last, every processor's
# GET /admin/health-calls: all shards together never made more than one health call in one of its
# 5 s windows, none queued or refused. Prints the table; exits 1 on any failure.
# Environment: LB_HOST_PORT, PROCESSOR_DEFAULT_HOST_PORT, PROCESSOR_FALLBACK_HOST_PORT (as up
# used them), SWARM_STACK (rinha), SWARM_LOAD_S (60: seconds per run), SWARM_MAX_VUS (603, the
# final test's),
# RINHA_IMAGE; rinha-load and rinha-check: RINHA_LOAD_BIN's, else from build-test-release/,
# build-swarm/, build/ or build-loadgen/ (built there when missing).
set -euo pipefail
cd "$(dirname "$0")/../.."
# shellcheck source=scripts/docker-lib.sh
source scripts/docker-lib.sh
DLOG_TAG=swarm-test

stack=${SWARM_STACK:-rinha}
load_s=${SWARM_LOAD_S:-60}
max_vus=${SWARM_MAX_VUS:-603}
image=${RINHA_IMAGE:-rinha-backend-2025:local}
lb=http://127.0.0.1:${LB_HOST_PORT:?}
def=http://127.0.0.1:${PROCESSOR_DEFAULT_HOST_PORT:?}
fb=http://127.0.0.1:${PROCESSOR_FALLBACK_HOST_PORT:?}
shards=2
failures=0
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }
out=$(mktemp -d /tmp/rinha-swarm-test.XXXXXX)
t_start=$(date +%s)

find_loadgen build-test-release build-swarm build
loadgen=$(realpath "$loadgen") checker=$(realpath "$checker")

# The shard of a correlation id, as common/shard.h computes it: FNV-1a 64 of the canonical text,
# mod K (bash's 64-bit arithmetic wraps like uint64_t; the mod is taken as unsigned).
fnv1a64() {
  local s=$1 h=$((0xcbf29ce484222325)) i c
  for ((i = 0; i < ${#s}; i++)); do
    printf -v c '%d' "'${s:i:1}"
    h=$(((h ^ c) * 0x100000001b3))
  done
  echo "$h"
}
shard_of() {
  local h
  h=$(fnv1a64 "$1")
  echo $(((((h >> 1) & 0x7FFFFFFFFFFFFFFF) % $2 * 2 + (h & 1)) % $2))
}
# common/shard_test.cc's pinned id: the two implementations agree.
[[ $(shard_of 4a7901b8-7d26-4d9d-aa19-4dc1c7cf60b3 2) == 1 &&
  $(printf '%x' "$(fnv1a64 foobar)") == 85944171f73967e8 ]] || { echo "FAIL: shard_of" >&2; exit 1; }

# A fresh id of shard $1: GET /payments/{it} is 404 once that shard's router and ledger answer.
probe_id() {
  local id
  while :; do
    id=$(cat /proc/sys/kernel/random/uuid)
    [[ $(shard_of "$id" "$shards") == "$1" ]] && { echo "$id"; return; }
  done
}
status_code() { curl -s -o /dev/null -m 2 -w '%{http_code}' "$lb/payments/$1" 2>/dev/null || echo 000; }

# The running container of a service's task.
container_of() {
  docker ps -q --filter "label=com.docker.swarm.service.name=${stack}_$1" --filter status=running |
    head -n1
}

# How many edge servers HAProxy has up (its exporter, inside the lb container).
edges_up() {
  local lbc
  lbc=$(container_of lb)
  [[ -n $lbc ]] || { echo 0; return; }
  docker exec "$lbc" bash -c 'exec 3<>/dev/tcp/127.0.0.1/8405
    printf "GET /metrics HTTP/1.0\r\n\r\n" >&3; cat <&3' 2>/dev/null |
    grep -cE '^haproxy_server_status\{proxy="edges",server="[^"]+",state="UP"\} 1' || true
}

now_s() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now_s)" 'BEGIN { printf "%.1f", b - a }'; }
# Sleeps until AT_S seconds into the run whose load began at the wall-clock ms in $1/started.
sleep_until_load_s() {
  local dir=$1 at=$2
  until [[ -s $dir/started ]]; do sleep 0.05; done
  sleep "$(awk -v s="$(cat "$dir/started")" -v a="$at" -v n="$(now_ms)" \
    'BEGIN { w = (s + a * 1000 - n) / 1000; printf "%.3f", (w > 0 ? w : 0) }')"
}

# rinha-check inside a container on the stack's overlay network (where every shard's ledger and
# router, the load balancer and the processors have their names) and on payment-processor; the
# binary is the host's build, which the runtime image's libraries serve (both Debian 12).
check_run() {
  local dir=$1 cid
  cid=$(docker create --user 0 --network "${stack}_default" \
    -v "$(dirname "$checker"):/rinha-bin:ro" -v "$dir:$dir" "$image" \
    /rinha-bin/rinha-check --run_dir="$dir" \
    --ledger=ledger-0:50052,ledger-1:50052 --router=router-0:50051,router-1:50051 \
    --default_processor=http://payment-processor-default:8080 \
    --fallback_processor=http://payment-processor-fallback:8080 --target=http://lb:9999 \
    --quiet_timeout_s=120)
  docker network connect payment-processor "$cid"
  docker start -a "$cid" >"$dir/check.out" 2>"$dir/check.err" || true
  docker rm -f "$cid" >/dev/null 2>&1 || true
  [[ -s $dir/check.json ]]
}

rows=()
# row SCENARIO DIR RECOVER: a line of the table from DIR/check.json.
row() {
  local j exact
  j=$(cat "$2/check.json")
  exact=$(grep -o '"exact":[a-z]*' <<<"$j" | cut -d: -f2)
  rows+=("$(printf '%-34s %13s %5s %10s %13s %s' "$1" \
    "$(json_num "$j" answered_2xx)/$(json_num "$j" requests)" \
    "$(json_num "$j" lost)" "$(json_num "$j" paid_twice)" \
    "$([[ $exact == true ]] && echo yes || echo NO)" "$3")")
}

# run_load DIR: rinha-load in the background (pid in $load_pid).
run_load() {
  mkdir -p "$1"
  "$loadgen" --target="$lb" --default_processor="$def" --fallback_processor="$fb" \
    --admin_token=123 --test=final --timeline=faults --duration_s="$load_s" --max_vus="$max_vus" \
    --quiet --out="$1" --requests_out="$1/requests.log" --started_file="$1/started" \
    >"$1/load.out" 2>&1 &
  load_pid=$!
}

# finish SCENARIO DIR RECOVER: waits for the load, checks the run, adds its row.
finish() {
  local name=$1 dir=$2 recover=$3
  wait "$load_pid" || fail "$name: rinha-load exit $? ($(tail -3 "$dir/load.out"))"
  if ! check_run "$dir"; then
    fail "$name: rinha-check wrote nothing: $(tail -5 "$dir/check.err")"
    rows+=("$(printf '%-34s %s' "$name" "(no check)")")
    return
  fi
  row "$name" "$dir" "$recover"
  local j
  j=$(cat "$dir/check.json")
  grep -q '"exact":true' <<<"$j" ||
    fail "$name: not exact: $(head -c 600 "$dir/check.out") $(head -5 "$dir/check.err")"
  [[ $(json_num "$j" answered_2xx) -gt 0 ]] || fail "$name: no payment accepted"
}

# ---- scale: 2 -> 4 -> 2 edges mid-load -----------------------------------------------------------
dir=$out/scale
run_load "$dir"
sleep_until_load_s "$dir" $((load_s / 5))
[[ $(edges_up) == 2 ]] || fail "scale: HAProxy had $(edges_up) edges up before scaling, not 2"
t=$(now_s)
docker service scale -d "${stack}_edge=4" >/dev/null
deadline=$(($(date +%s) + 60))
until [[ $(edges_up) == 4 ]]; do
  (($(date +%s) < deadline)) || { fail "scale: HAProxy never had 4 edges up"; break; }
  sleep 0.2
done
up4=$(since "$t")
dlog "scale: 4 edges up in HAProxy after $up4 s"
sleep_until_load_s "$dir" $((load_s * 3 / 5))
t=$(now_s)
docker service scale -d "${stack}_edge=2" >/dev/null
deadline=$(($(date +%s) + 60))
until [[ $(edges_up) == 2 && $(docker service ls --filter "name=${stack}_edge" --format '{{.Replicas}}') == 2/2 &&
  -z $(docker ps -q --filter "label=com.docker.swarm.service.name=${stack}_edge" --filter status=exited) &&
  $(docker ps -q --filter "label=com.docker.swarm.service.name=${stack}_edge" | wc -l) == 2 ]]; do
  (($(date +%s) < deadline)) || { fail "scale: not back to 2 edges"; break; }
  sleep 0.2
done
down2=$(since "$t")
dlog "scale: back to 2 edges after $down2 s"
finish "edges 2 -> 4 -> 2 (scale)" "$dir" "4 up in ${up4} s, 2 in ${down2} s"
# The retired slots drained before they stopped: nothing left in their journals.
for slot in 3 4; do
  vol=${stack}_edge-journal-$slot
  docker volume inspect "$vol" >/dev/null 2>&1 || { fail "scale: no volume $vol (templated names?)"; continue; }
  left=$(docker run --rm -v "$vol:/j:ro" --entrypoint bash "$image" -c 'ls /j | grep -c "\.seg$" || true')
  [[ $left == 0 ]] || fail "scale: $vol holds $left journal segments after its task was retired"
done

# ---- a router shard SIGKILLed --------------------------------------------------------------------
# shard_kill SERVICE SHARD SCENARIO: kills SERVICE's container a third into the load (default
# slow: hundreds of payments in flight), then times until an id of SHARD is answered 404.
shard_kill() {
  local service=$1 shard=$2 name=$3 dir=$out/$1 old id t recover code
  run_load "$dir"
  sleep_until_load_s "$dir" $((load_s / 4))
  old=$(container_of "$service")
  [[ -n $old ]] || { fail "$name: no running $service"; }
  id=$(probe_id "$shard")
  [[ $(status_code "$id") == 404 ]] || fail "$name: shard $shard did not answer before the kill"
  t=$(now_s)
  docker kill -s KILL "$old" >/dev/null
  local deadline=$(($(date +%s) + 90))
  while :; do
    code=$(status_code "$id")
    [[ $code == 404 && -n $(container_of "$service") && $(container_of "$service") != "$old" ]] && break
    (($(date +%s) < deadline)) || { fail "$name: shard $shard not back in 90 s (last $code)"; break; }
    sleep 0.1
  done
  recover="$(since "$t") s"
  dlog "$name: shard $shard answers again after $recover"
  finish "$name" "$dir" "$recover"
}
shard_kill router-1 1 "router-1 SIGKILLed (docker kill)"
[[ $(json_num "$(cat "$out/router-1/check.json" 2>/dev/null)" router_recovered) -gt 0 ]] ||
  fail "router-1: the new task took over nothing from its journal (was it killed with work?)"
shard_kill ledger-1 1 "ledger-1 killed (docker kill)"

# ---- the processors' health budget ---------------------------------------------------------------
health=()
for p in "$def" "$fb"; do
  h=$(curl -sf -m 5 -H 'X-Rinha-Token: 123' "$p/admin/health-calls") || { fail "no /admin/health-calls at $p"; continue; }
  health+=("$p $h")
  [[ $(json_num "$h" calls) -ge 6 ]] || fail "$p: only $(json_num "$h" calls) health calls (both shards should poll)"
  [[ $(json_num "$h" maxPerWindow) -le 1 ]] || fail "$p: $(json_num "$h" maxPerWindow) health calls within one 5 s window"
  [[ $(json_num "$h" queued) == 0 && $(json_num "$h" rejected) == 0 ]] ||
    fail "$p: health calls queued $(json_num "$h" queued), refused $(json_num "$h" rejected)"
done

echo
printf '%-34s %13s %5s %10s %13s %s\n' scenario "accepted/sent" lost "paid twice" "summary exact" \
  "time to recover"
for r in "${rows[@]}"; do echo "$r"; done
echo
elapsed=$(($(date +%s) - t_start))
for h in "${health[@]}"; do
  echo "health calls, $h (over ${elapsed} s: at most one per 5 s window means <= $((elapsed / 5 + 1)))"
done
if ((failures > 0)); then
  echo "swarm test: $failures failure(s); the runs are in $out"
  exit 1
fi
rm -rf "$out"
echo "swarm test: passed in ${elapsed} s"
