#!/usr/bin/env bash
# A default processor slower than the router's payment timeout (issue 19): default delay 9.5 s
# against the router's 8 s, the fallback failing, 20 payments through an edge. Prints how long
# until the ledger records all 20 at default, and the router's lookups. Real processes on free
# ports, from a build directory (default build/).
#   bench/router/slow_default.sh [BUILD_DIR]
set -euo pipefail
cd "$(dirname "$0")/../.."
B=${1:-build}; S=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null; wait 2>/dev/null; rm -rf "$S"' EXIT
# shellcheck source=scripts/free-port.sh
source scripts/free-port.sh
# shellcheck source=scripts/process-lib.sh
source scripts/process-lib.sh
pe=$(free_port); pm=$(free_port)
spawn_ready default "$S" "$B/processor/payment-processor" --listen=127.0.0.1:0 --fee=0.07 --token=123
pd=$(spawned_field port)
spawn_ready fallback "$S" "$B/processor/payment-processor" --listen=127.0.0.1:0 --fee=0.10 --token=123
pf=$(spawned_field port)
processor_admin $pd delay '{"delay":9500}'
processor_admin $pf failure '{"failure":true}'
"$B/ledger/ledger" --listen= --unix_socket="$S/l.sock" --db_path="$S/l.db" --metrics_listen=127.0.0.1:0 >"$S/l.out" 2>"$S/l.err" &
"$B/router/router" --listen=127.0.0.1:0 --unix_socket="$S/r.sock" --ledger="unix:$S/l.sock" \
  --journal_dir="$S/rj" --metrics_listen=127.0.0.1:$pm \
  --processor_default_url=http://127.0.0.1:$pd --processor_fallback_url=http://127.0.0.1:$pf >"$S/r.out" 2>"$S/r.err" &
"$B/edge/edge" --listen=127.0.0.1:$pe --router="unix:$S/r.sock" --ledger="unix:$S/l.sock" --journal_dir="$S/ej" >"$S/e.out" 2>"$S/e.err" &
until curl -sf "localhost:$pe/payments-summary" >/dev/null; do sleep 0.1; done
# The router's first health polls say default is slow and the fallback fails.
until curl -s "localhost:$pm/metrics" | grep -q '^rinha_router_processor_polled_delay_seconds{processor="default"} 9.5$'; do sleep 0.2; done
t0=$(date +%s%3N)
for _ in $(seq 1 20); do
  curl -s -o /dev/null localhost:$pe/payments -H 'Content-Type: application/json' \
    -d "{\"correlationId\":\"$(cat /proc/sys/kernel/random/uuid)\",\"amount\":19.90}"
done
n=0
while [ "$n" != 20 ] && [ $(($(date +%s%3N) - t0)) -lt 60000 ]; do
  sleep 0.1; n=$(curl -s "localhost:$pe/payments-summary" | jq .default.totalRequests)
done
echo "recorded $n of 20 at default $(($(date +%s%3N) - t0)) ms after the first POST"
echo "default holds: $(curl -s -H 'X-Rinha-Token: 123' localhost:$pd/admin/payments-summary | jq .totalRequests)"
curl -s "localhost:$pm/metrics" | grep -E '^rinha_router_(lookups_total|unreadable_echoes_total|echo_mismatches_total)'
