#!/usr/bin/env bash
# Edge latency benchmark (closing-note figures). One edge in its own cgroup v1 limited to
# CPU_QUOTA (default 0.3 CPU), its router replaced by an acknowledging stand-in, and a do-nothing
# responder (cpp-httplib tuned like the edge: the floor) in another cgroup with the same quota.
# An open-loop client at RATE req/s over CONNS keep-alive connections for DURATION s, RUNS times
# against each, alternating edge and floor so that both see the same machine; then the medians
# and the edge's p99 over the floor's. Then, unless SWEEP=0, a rate sweep against the edge (one
# run per rate) for the max sustained rate.
#
#   bench/edge/run_edge_bench.sh [BUILD_DIR]      (root: writes /sys/fs/cgroup/cpu)
# Env: RUNS=3 RATE=600 DURATION=20 CONNS=32 CPU_QUOTA=30000 SWEEP="1000 1500 2000 3000 4000"
#      EDGE_FLAGS="--batch_window_ms=20" (extra edge flags; "--journal_dir=" runs it without its journal)
set -euo pipefail

BUILD=${1:-/work/main/build-edge}
RUNS=${RUNS:-3}
RATE=${RATE:-600}
DURATION=${DURATION:-20}
CONNS=${CONNS:-32}
CPU_QUOTA=${CPU_QUOTA:-30000}
SWEEP=${SWEEP:-"1000 1500 2000 3000 4000"}

CG=/sys/fs/cgroup/cpu/rinha_edge_bench_$$
CG_FLOOR=/sys/fs/cgroup/cpu/rinha_edge_bench_floor_$$
TMP=$(mktemp -d)
PIDS=()

cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  for g in "$CG" "$CG_FLOOR"; do [ -d "$g" ] && rmdir "$g" 2>/dev/null || true; done
  rm -rf "$TMP"
}
trap cleanup EXIT

for g in "$CG" "$CG_FLOOR"; do
  mkdir "$g"
  echo 100000 > "$g/cpu.cfs_period_us"
  echo "$CPU_QUOTA" > "$g/cpu.cfs_quota_us"
done

# start NAME CMD... : runs CMD in the background, waits for its "listening" line, sets PID/PORT.
start() {
  local name=$1; shift
  "$@" > "$TMP/$name.out" 2> "$TMP/$name.err" &
  PID=$!
  PIDS+=("$PID")
  for _ in $(seq 1 200); do
    if grep -q "listening" "$TMP/$name.out" 2>/dev/null; then break; fi
    sleep 0.05
  done
  PORT=$(sed -n 's/.*port=\([0-9]*\).*/\1/p' "$TMP/$name.out" | head -1)
}

stop() { kill "$1"; wait "$1" 2>/dev/null || true; }

load() {  # load LABEL PORT PID RATE DURATION
  "$BUILD/bench/edge/edge_load_bench" --label="$1" --port="$2" --pid="$3" --rate="$4" \
    --duration_s="$5" --connections="$CONNS" --max_connections="$CONNS"
}

echo "# $(date -u +%FT%TZ) cpu quota ${CPU_QUOTA}/100000, rate $RATE, ${DURATION}s, $CONNS connections${EDGE_FLAGS:+, edge $EDGE_FLAGS}"
start router "$BUILD/bench/edge/edge_bench_peer" --router_socket="$TMP/router.sock"
ROUTER_PID=$PID

start edge "$BUILD/edge/edge" --listen=127.0.0.1:0 --router="unix:$TMP/router.sock" \
  --ledger="unix:$TMP/no-ledger.sock" --threads="$CONNS" --journal_dir="$TMP/edge-journal" \
  ${EDGE_FLAGS:-}
EDGE_PID=$PID
EDGE_PORT=$PORT
echo "$EDGE_PID" > "$CG/cgroup.procs"
start floor "$BUILD/bench/edge/edge_bench_peer" --http_port=0 --threads="$CONNS"
FLOOR_PID=$PID
FLOOR_PORT=$PORT
echo "$FLOOR_PID" > "$CG_FLOOR/cgroup.procs"
for i in $(seq 1 "$RUNS"); do
  load "edge#$i" "$EDGE_PORT" "$EDGE_PID" "$RATE" "$DURATION" | tee -a "$TMP/edge.txt"
  load "floor#$i" "$FLOOR_PORT" "$FLOOR_PID" "$RATE" "$DURATION" | tee -a "$TMP/floor.txt"
done
stop "$FLOOR_PID"
# median FILE FIELD: the median of "FIELD <number>" over the runs' lines.
median() {
  sed -n "s/.*$2 \([0-9.]*\).*/\1/p" "$1" | sort -g |
    awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
ep99=$(median "$TMP/edge.txt" p99) fp99=$(median "$TMP/floor.txt" p99)
echo "# medians of $RUNS: p50 edge $(median "$TMP/edge.txt" p50) floor $(median "$TMP/floor.txt" p50) ms;" \
  "p99 edge $ep99 floor $fp99 ms (edge adds $(awk -v e="$ep99" -v f="$fp99" 'BEGIN { printf "%.3f", e - f }') ms);" \
  "CPU/req edge $(median "$TMP/edge.txt" "=") floor $(median "$TMP/floor.txt" "=") us"

if [ "$SWEEP" != 0 ]; then
  for rate in $SWEEP; do load "edge-sweep" "$EDGE_PORT" "$EDGE_PID" "$rate" 10; done
fi
echo "# cgroup throttling: $(tr '\n' ' ' < "$CG/cpu.stat")"
stop "$EDGE_PID"
stop "$ROUTER_PID"
