#!/usr/bin/env bash
# Capacity of the system with 1 and with 2 router shards, each shard (its router and its ledger)
# in one cgroup v1 group under the same fixed CPU quota, as if each had a small host of its own:
# what a second shard adds, on a machine that has only two cores for everything. Native processes
# (Docker's overlay network and proxies would cost CPU of their own and blur the quota): two
# emulators (delay 0), K ledgers and K routers (--health_slot=i --health_slots=K), two edges
# listing every shard, HAProxy (config/haproxy.cfg), and an open-loop client (edge_load_bench) at
# a fixed rate against HAProxy. Only the shards are limited: the rest must not be the bottleneck
# (the script prints every process's CPU per request, and CONTROL=1 runs the highest rate with the
# shards unlimited).
#
# Capacity: the highest rate (req/s) at which a DURATION s run passes: every request answered 2xx,
# the client's p99 at most 5 ms, and every accepted payment in the ledgers (GET /payments-summary,
# the sum of every shard's) within SETTLE_S of the load's end (so the shards kept up, within
# SETTLE_S / DURATION). Found by bisection between K * LOW and K * HIGH to STEP_PCT %. RUNS rounds,
# each measuring 1 and 2 shards (alternating which goes first); medians and the ratio.
#
#   bench/router/shard_capacity.sh [BUILD_DIR]      (root: cgroups; BUILD_DIR default build)
# Env: QUOTA_US=2000 (per 100 ms period: 0.02 CPU per shard), RUNS=3, DURATION=20, SETTLE_S=2,
#      LOW=350, HIGH=900 (per shard), STEP_PCT=4, CONNS=32, CONTROL=1, SHARDS="1 2"
# Why 0.02 CPU: a shard turned out to cost ~30-40 us of CPU per payment, so at 0.1 CPU one shard
# settled 2,850 req/s, where the rest of this 2-core machine (client, HAProxy, edges, emulators)
# already pushed p99 past 5 ms: that would have measured the machine, not the shards.
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD=${1:-build}
QUOTA_US=${QUOTA_US:-2000}
RUNS=${RUNS:-3}
DURATION=${DURATION:-20}
SETTLE_S=${SETTLE_S:-2}
LOW=${LOW:-350}
HIGH=${HIGH:-900}
STEP_PCT=${STEP_PCT:-4}
CONNS=${CONNS:-32}
CONTROL=${CONTROL:-1}
SHARDS=${SHARDS:-"1 2"}
[ "$(id -u)" -eq 0 ] || { echo "shard_capacity.sh: needs root for the cgroups" >&2; exit 2; }
# shellcheck source=scripts/free-port.sh
source scripts/free-port.sh
# shellcheck source=scripts/process-lib.sh
source scripts/process-lib.sh

TMP=$(mktemp -d /tmp/rinha-shard-capacity.XXXXXX)
PIDS=()
GROUPS_MADE=()
cleanup() {
  stop_all
  for g in "${GROUPS_MADE[@]}"; do rmdir "$g" 2>/dev/null || true; done
  rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
log() { echo "[shard-capacity] $*" >&2; }

# A cpu + cpuacct group per shard, made before anything runs (not from a subshell, so that the
# clean-up knows them).
for i in 0 1; do
  for c in cpu cpuacct; do
    mkdir "/sys/fs/cgroup/$c/rinha_shard_cap_$$_$i"
    GROUPS_MADE+=("/sys/fs/cgroup/$c/rinha_shard_cap_$$_$i")
  done
done
set_quota() {  # set_quota I QUOTA_US (-1: none)
  local g=/sys/fs/cgroup/cpu/rinha_shard_cap_$$_$1
  echo 100000 >"$g/cpu.cfs_period_us"
  echo "$2" >"$g/cpu.cfs_quota_us"
}
join() {  # join I PID
  local name=rinha_shard_cap_$$_$1
  echo "$2" >"/sys/fs/cgroup/cpu/$name/cgroup.procs"
  echo "$2" >"/sys/fs/cgroup/cpuacct/$name/cgroup.procs"
}

# start NAME CMD...: spawn_ready in $TMP, the process kept for the clean-up; sets PID and PORT.
start() {
  local name=$1 ready=1
  shift
  spawn_ready "$name" "$TMP" "$@" || ready=0
  PID=$SPAWNED_PID
  PIDS+=("$PID")
  ((ready)) || { log "$name did not start"; exit 1; }
  PORT=$(spawned_field port)
}
stop_all() {
  local pid
  for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  PIDS=()
}
cpu_s() {  # cpu_s PID: utime + stime in seconds
  awk -v hz="$(getconf CLK_TCK)" '{ printf "%.2f", ($14 + $15) / hz }' "/proc/$1/stat" 2>/dev/null || echo 0
}

# up K: the whole system with K shards in a fresh directory.
up() {
  local k=$1 i routers="" ledgers="" dir
  dir=$TMP/k$k.$RANDOM
  mkdir -p "$dir"
  start default "$BUILD/processor/payment-processor" --listen=127.0.0.1:0 --fee=0.07 --token=123
  PD=$PORT DEF_PID=$PID
  start fallback "$BUILD/processor/payment-processor" --listen=127.0.0.1:0 --fee=0.10 --token=123
  PF=$PORT FB_PID=$PID
  SHARD_PIDS=()
  for ((i = 0; i < k; i++)); do
    start "ledger$i" "$BUILD/ledger/ledger" --listen= --unix_socket="$dir/ledger$i.sock" \
      --db_path="$dir/ledger$i.db" --metrics_listen=
    join "$i" "$PID"
    SHARD_PIDS+=("$PID")
    start "router$i" "$BUILD/router/router" --listen= --unix_socket="$dir/router$i.sock" \
      --ledger="unix:$dir/ledger$i.sock" --journal_dir="$dir/router$i-journal" --metrics_listen= \
      --processor_default_url="http://127.0.0.1:$PD" --processor_fallback_url="http://127.0.0.1:$PF" \
      --health_slot="$i" --health_slots="$k"
    join "$i" "$PID"
    SHARD_PIDS+=("$PID")
    routers+="${routers:+,}unix:$dir/router$i.sock"
    ledgers+="${ledgers:+,}unix:$dir/ledger$i.sock"
  done
  EDGE_PIDS=()
  EDGE_PORTS=()
  for e in 1 2; do
    start "edge$e" "$BUILD/edge/edge" --listen=127.0.0.1:0 --router="$routers" --ledger="$ledgers" \
      --journal_dir="$dir/edge$e-journal"
    EDGE_PIDS+=("$PID")
    EDGE_PORTS+=("$PORT")
  done
  LB_PORT=$(free_port)
  LB_BIND=127.0.0.1:$LB_PORT LB_METRICS_BIND=127.0.0.1:$(free_port) \
    EDGE1_ADDR=127.0.0.1:${EDGE_PORTS[0]} EDGE2_ADDR=127.0.0.1:${EDGE_PORTS[1]} \
    haproxy -db -f config/haproxy.cfg >"$TMP/lb.out" 2>&1 &
  LB_PID=$!
  PIDS+=("$LB_PID")
  for _ in $(seq 1 100); do
    curl -sf -o /dev/null "http://127.0.0.1:$LB_PORT/payments-summary" && return 0
    sleep 0.1
  done
  log "the stack with $k shards did not answer"
  exit 1
}

settled() {  # requests in every ledger, through the API
  curl -sf -m 2 "http://127.0.0.1:$LB_PORT/payments-summary" |
    jq '.default.totalRequests + .fallback.totalRequests' 2>/dev/null || echo -1
}

# attempt RATE: one run; prints "pass|fail p99 ok settled drain_s" and the CPU line to $TMP/cpu.
attempt() {
  local rate=$1 line ok non2xx errors p99 deadline got t0 before=() after=() names=() pid
  # A run that failed leaves a backlog that keeps settling: wait for it, then purge.
  local last
  last=$(cat "$TMP/last_ok" 2>/dev/null || echo 0)
  for _ in $(seq 1 1200); do
    [[ $(settled) -ge $last ]] && break
    sleep 0.1
  done
  curl -sf -o /dev/null -d '' "http://127.0.0.1:$LB_PORT/purge-payments" ||
    { log "purge failed"; exit 1; }
  curl -sf -o /dev/null -d '' -H 'X-Rinha-Token: 123' "http://127.0.0.1:$PD/admin/purge-payments"
  curl -sf -o /dev/null -d '' -H 'X-Rinha-Token: 123' "http://127.0.0.1:$PF/admin/purge-payments"
  [[ $(settled) == 0 ]] || { log "the ledgers are not empty after a purge"; exit 1; }
  names=(shards edges lb processors)
  before=("$(sum_cpu "${SHARD_PIDS[@]}")" "$(sum_cpu "${EDGE_PIDS[@]}")" "$(cpu_s "$LB_PID")" \
    "$(sum_cpu "$DEF_PID" "$FB_PID")")
  line=$("$BUILD/bench/edge/edge_load_bench" --port="$LB_PORT" --rate="$rate" \
    --duration_s="$DURATION" --connections="$CONNS" --max_connections=$((CONNS * 2)) --label=r)
  t0=$(date +%s.%N)
  ok=$(sed -n 's/.*(2xx \([0-9]*\), other \([0-9]*\)) errors \([0-9]*\).*/\1/p' <<<"$line")
  non2xx=$(sed -n 's/.*(2xx \([0-9]*\), other \([0-9]*\)) errors \([0-9]*\).*/\2/p' <<<"$line")
  errors=$(sed -n 's/.*(2xx \([0-9]*\), other \([0-9]*\)) errors \([0-9]*\).*/\3/p' <<<"$line")
  p99=$(sed -n 's/.* p99 \([0-9.]*\) .*/\1/p' <<<"$line")
  echo "$ok" >"$TMP/last_ok"
  deadline=$(awk -v t="$t0" -v s="$SETTLE_S" 'BEGIN { printf "%.3f", t + s }')
  got=$(settled)
  while [[ $got != "$ok" ]] && awk -v d="$deadline" -v n="$(date +%s.%N)" 'BEGIN { exit !(n < d) }'; do
    sleep 0.05
    got=$(settled)
  done
  local drain
  drain=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }')
  after=("$(sum_cpu "${SHARD_PIDS[@]}")" "$(sum_cpu "${EDGE_PIDS[@]}")" "$(cpu_s "$LB_PID")" \
    "$(sum_cpu "$DEF_PID" "$FB_PID")")
  local cpu="" i
  for i in 0 1 2 3; do
    cpu+=$(awk -v n="${names[$i]}" -v a="${before[$i]}" -v b="${after[$i]}" -v r="$ok" \
      'BEGIN { printf "%s %.0f us/req  ", n, (r > 0 ? (b - a) * 1e6 / r : 0) }')
  done
  echo "$cpu" >"$TMP/cpu"
  local verdict=fail
  if [[ $non2xx == 0 && $errors == 0 && $ok -ge $((rate * DURATION * 99 / 100)) && $got == "$ok" ]] &&
    awk -v p="$p99" 'BEGIN { exit !(p <= 5) }'; then
    verdict=pass
  fi
  echo "$verdict p99=$p99 ok=$ok non2xx=$non2xx errors=$errors settled=$got drain=${drain}s"
}
sum_cpu() {
  local total=0 pid
  for pid in "$@"; do total=$(awk -v t="$total" -v c="$(cpu_s "$pid")" 'BEGIN { print t + c }'); done
  echo "$total"
}

# capacity K: bisection; sets CAP to the highest passing rate. (Not in a subshell: the processes
# it starts must stay known to the EXIT trap.)
capacity() {
  local k=$1 lo=$((LOW * $1)) hi=$((HIGH * $1)) mid result
  rm -f "$TMP/last_ok"
  up "$k"
  # Warm-up, not counted: connection pools, the ledgers' first transactions, the first health
  # polls. A fresh stack's first run settled half as fast.
  result=$(attempt $((LOW * k / 2)))
  log "K=$k warm-up at $((LOW * k / 2))/s: $result"
  while ((hi * 100 > lo * (100 + STEP_PCT))); do
    mid=$(((lo + hi) / 2))
    result=$(attempt "$mid")
    log "K=$k rate $mid: $result | $(cat "$TMP/cpu")"
    if [[ $result == pass* ]]; then lo=$mid; else hi=$mid; fi
  done
  if ((CONTROL)); then
    for ((i = 0; i < k; i++)); do set_quota "$i" -1; done
    result=$(attempt "$hi")
    log "K=$k control, shards unlimited, rate $hi: $result | $(cat "$TMP/cpu")"
    for ((i = 0; i < k; i++)); do set_quota "$i" "$QUOTA_US"; done
  fi
  stop_all
  CAP=$lo
}

for i in 0 1; do set_quota "$i" "$QUOTA_US"; done
log "$(date -u +%FT%TZ): quota $QUOTA_US us / 100 ms per shard (router + ledger), ${DURATION} s runs," \
  "p99 <= 5 ms, settled within ${SETTLE_S} s; $RUNS rounds of: $SHARDS shards"
declare -A caps
for ((r = 1; r <= RUNS; r++)); do
  order=$SHARDS
  ((r % 2 == 0)) && order=$(tr ' ' '\n' <<<"$SHARDS" | tac | paste -sd' ')
  for k in $order; do
    capacity "$k"
    caps[$k]+="$CAP "
    log "round $r: $k shard(s): capacity $CAP req/s"
  done
done
median() { tr ' ' '\n' <<<"$1" | grep . | sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
echo "shards  capacity req/s (rounds)   median"
for k in $SHARDS; do echo "$k       ${caps[$k]}  $(median "${caps[$k]}")"; done
if [[ -n ${caps[1]:-} && -n ${caps[2]:-} ]]; then
  echo "ratio 2/1: $(awk -v a="$(median "${caps[2]}")" -v b="$(median "${caps[1]}")" 'BEGIN { printf "%.2f", a / b }')"
fi
