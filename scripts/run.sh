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
#     metrics (GET /metrics)           edges :9001 :9002, router :9101, ledger :9102, HAProxy :8405
#     self-audit                       on (the emulators' token 123: docs/operations.md)
#   scripts/run.sh --serve --prometheus [--prometheus_port=9090]
#                              the same, with a Prometheus scraping them every second and the
#                              dashboard: http://localhost:9090/consoles/rinha.html
#                              (--prometheus_port=0: a free port; scripts/contest.sh takes
#                              the same two options)
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh
if [ "${1:-}" != --serve ]; then
  exec bash scripts/contest.sh --build-dir=build --test=final "$@"
fi
shift
prometheus=0 prometheus_port=9090
for arg in "$@"; do
  case "$arg" in
    --prometheus) prometheus=1 ;;
    --prometheus_port=*) prometheus_port=${arg#*=}; prometheus=1 ;;
    *) echo "run.sh --serve: unknown option $arg (--prometheus, --prometheus_port=N)" >&2; exit 2 ;;
  esac
done
[[ $prometheus_port =~ ^[0-9]+$ ]] || { echo "run.sh: --prometheus_port=N" >&2; exit 2; }
# shellcheck source=scripts/free-port.sh
source scripts/free-port.sh
# shellcheck source=scripts/prometheus.sh
source scripts/prometheus.sh
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
  --unix_socket="$state/ledger.sock" --db_path="$state/ledger.db" --metrics_listen=127.0.0.1:9102
start router "listening" build/router/router --listen=127.0.0.1:50051 \
  --unix_socket="$state/router.sock" --ledger="unix:$state/ledger.sock" \
  --metrics_listen=127.0.0.1:9101 --audit_admin_token=123 \
  --processor_default_url=http://127.0.0.1:8001 --processor_fallback_url=http://127.0.0.1:8002 \
  --journal_dir="$state/router-journal"
for i in 1 2; do
  start edge$i "listening" build/edge/edge --listen=127.0.0.1:900$i \
    --router="unix:$state/router.sock" --ledger="unix:$state/ledger.sock" \
    --journal_dir="$state/edge$i-journal"
done
LB_BIND=127.0.0.1:9999 LB_METRICS_BIND=127.0.0.1:8405 EDGE1_ADDR=127.0.0.1:9001 \
  EDGE2_ADDR=127.0.0.1:9002 haproxy -q -db -f config/haproxy.cfg &
pids+=($!)
if ((prometheus)); then
  ((prometheus_port)) || prometheus_port=$(free_port)
  prometheus_config "$state/prometheus.yml" 127.0.0.1:9001 127.0.0.1:9002 127.0.0.1:9101 \
    127.0.0.1:9102 127.0.0.1:8405
  prometheus_command "$state/prometheus.yml" "$state/prometheus" "127.0.0.1:$prometheus_port"
  "${prometheus_cmd[@]}" >"$state/prometheus.out" 2>"$state/prometheus.err" &
  pids+=($!)
  prometheus_wait_ready "http://127.0.0.1:$prometheus_port" 30 "${pids[-1]}" ||
    { echo "prometheus did not start:" >&2; cat "$state/prometheus.err" >&2; exit 1; }
fi

cat <<MSG
Running (state in $state). Ctrl-C stops everything.
  curl -s -XPOST localhost:9999/payments -H 'Content-Type: application/json' \\
       -d '{"correlationId":"'\$(cat /proc/sys/kernel/random/uuid)'","amount":19.90}' -w '%{http_code}\n'
  curl -s localhost:9999/payments-summary
  curl -s -H 'X-Rinha-Token: 123' localhost:8001/admin/payments-summary
  gRPC with reflection: ledger 127.0.0.1:50052, router 127.0.0.1:50051
  metrics: curl -s localhost:9001/metrics (edge2 :9002, router :9101, ledger :9102, HAProxy :8405)
MSG
((prometheus)) && prometheus_banner "http://localhost:$prometheus_port"
wait -n "${pids[@]}"
echo "a service exited; stopping" >&2
