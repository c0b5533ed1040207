#!/usr/bin/env bash
# The README's "run it" command. Installs dependencies, builds, then
#   scripts/run.sh [OPTIONS]   runs the whole contest natively (scripts/contest.sh --test=final:
#                              emulators, our stack under compose.yaml's limits, the k6 test
#                              shape, audit and score) and prints the score; OPTIONS go to
#                              scripts/contest.sh (e.g. --test=preview, --lb=nginx, --port=0)
#   scripts/run.sh --serve     runs the system in the foreground until Ctrl-C, for your own traffic:
#     two payment-processor emulators  :8001 (default, fee 0.07) and :8002 (fallback, fee 0.10)
#     ledger, router                   over unix sockets in a temporary directory
#     two edges behind HAProxy         http://localhost:9999
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh
if [ "${1:-}" != --serve ]; then
  exec bash scripts/contest.sh --build-dir=build --test=final "$@"
fi
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build --target ledger router edge payment-processor

state=$(mktemp -d /tmp/rinha-run.XXXXXX)
pids=()
stop() {
  trap '' INT TERM  # a second signal must not cut the clean-up short
  trap - EXIT
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$state"
}
trap stop EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Starts a service in the background and waits for its readiness line on stdout.
start() {
  local name=$1 ready=$2; shift 2
  "$@" >"$state/$name.out" 2>"$state/$name.err" &
  pids+=($!)
  for _ in $(seq 1 200); do
    grep -q "$ready" "$state/$name.out" 2>/dev/null && return 0
    kill -0 "${pids[-1]}" 2>/dev/null || break
    sleep 0.05
  done
  echo "$name did not start:" >&2; cat "$state/$name.err" >&2; exit 1
}

start default "listening" build/processor/payment-processor --listen=127.0.0.1:8001 --fee=0.07 --token=123
start fallback "listening" build/processor/payment-processor --listen=127.0.0.1:8002 --fee=0.10 --token=123
start ledger "listening" build/ledger/ledger --listen=127.0.0.1:50052 \
  --unix_socket="$state/ledger.sock" --db_path="$state/ledger.db"
start router "listening" build/router/router --listen=127.0.0.1:50051 \
  --unix_socket="$state/router.sock" --ledger="unix:$state/ledger.sock" \
  --processor_default_url=http://127.0.0.1:8001 --processor_fallback_url=http://127.0.0.1:8002 \
  --journal_dir="$state/router-journal"
for i in 1 2; do
  start edge$i "listening" build/edge/edge --listen=127.0.0.1:900$i \
    --router="unix:$state/router.sock" --ledger="unix:$state/ledger.sock" \
    --journal_dir="$state/edge$i-journal"
done
LB_BIND=127.0.0.1:9999 EDGE1_ADDR=127.0.0.1:9001 EDGE2_ADDR=127.0.0.1:9002 \
  haproxy -q -db -f config/haproxy.cfg &
pids+=($!)

cat <<MSG
Running (state in $state). Ctrl-C stops everything.
  curl -s -XPOST localhost:9999/payments -H 'Content-Type: application/json' \\
       -d '{"correlationId":"'\$(cat /proc/sys/kernel/random/uuid)'","amount":19.90}' -w '%{http_code}\n'
  curl -s localhost:9999/payments-summary
  curl -s -H 'X-Rinha-Token: 123' localhost:8001/admin/payments-summary
  gRPC with reflection: ledger 127.0.0.1:50052, router 127.0.0.1:50051
MSG
wait -n "${pids[@]}"
echo "a service exited; stopping" >&2
