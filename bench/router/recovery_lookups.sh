#!/usr/bin/env bash
# Recovery's lookup rate (issue 19): N payments (default 3000) in flight at a slow default
# (delay 3 s) when the router is SIGKILLed; the restarted router looks each one up at default
# (its journal says it was sent there). Prints the lookups started per second at default, and
# checks that the ledger ends with what default holds. Real processes on free ports; Debian's
# python3-grpcio feeds the router.
#   bench/router/recovery_lookups.sh [N] [BUILD_DIR]
set -euo pipefail
cd "$(dirname "$0")/../.."
N=${1:-3000}; B=${2:-build}; S=$(mktemp -d); repo=$PWD
trap 'kill $(jobs -p) 2>/dev/null; wait 2>/dev/null; rm -rf "$S"' EXIT
# shellcheck source=scripts/free-port.sh
source scripts/free-port.sh
# shellcheck source=scripts/process-lib.sh
source scripts/process-lib.sh
sed 's/^\(\s*\)optional /\1/' proto/payments.proto >"$S/payments.proto"  # grpc_tools' protoc is older
(cd "$S" && /usr/bin/python3 -m grpc_tools.protoc -I. --python_out=. --grpc_python_out=. payments.proto)
pm=$(free_port)
spawn_ready default "$S" "$B/processor/payment-processor" --listen=127.0.0.1:0 --fee=0.07 --token=123 --threads=$((N + 1000))
pd=$(spawned_field port)
spawn_ready fallback "$S" "$B/processor/payment-processor" --listen=127.0.0.1:0 --fee=0.10 --token=123
pf=$(spawned_field port)
processor_admin $pd delay '{"delay":3000}'
processor_admin $pf failure '{"failure":true}'
"$B/ledger/ledger" --listen= --unix_socket="$S/l.sock" --db_path="$S/l.db" --metrics_listen=127.0.0.1:0 >"$S/l.out" 2>"$S/l.err" &
start_router() {
  "$B/router/router" --listen=127.0.0.1:0 --unix_socket="$S/r.sock" --ledger="unix:$S/l.sock" \
    --journal_dir="$S/rj" --metrics_listen=127.0.0.1:$pm --max_in_flight=$((N + 100)) \
    --default_max_latency_ms=100000 --processor_default_url=http://127.0.0.1:$pd \
    --processor_fallback_url=http://127.0.0.1:$pf >"$S/r.out" 2>>"$S/r.err" &
  router_pid=$!
  until grep -q listening "$S/r.out" 2>/dev/null; do sleep 0.01; done
}
python() { PYTHONPATH=$S /usr/bin/python3 "$@"; }
start_router
python - "$S/r.sock" "$N" <<'PY'
import sys, uuid, grpc
import payments_pb2 as pb, payments_pb2_grpc as rpc
stub = rpc.RouterStub(grpc.insecure_channel('unix:' + sys.argv[1]))
n = int(sys.argv[2])
def batches():
    for b in range(0, n, 100):
        yield pb.PaymentBatch(batch_id=b // 100 + 1, payments=[
            pb.Payment(correlation_id=str(uuid.uuid4()), amount_cents=2005) for _ in range(min(100, n - b))])
acks = list(stub.Submit(batches()))
assert all(a.result == pb.ACK_RESULT_TAKEN for a in acks), 'a batch was not taken'
PY
until [ "$(curl -s "localhost:$pm/metrics" | awk '/^rinha_router_processor_in_flight\{processor="default"\}/ {print $2}')" = "$N" ]; do sleep 0.05; done
echo "$N payments in flight at default; SIGKILL the router, start it again 1 s later"
kill -KILL "$router_pid"; sleep 1
start_router
t0=$(date +%s%3N)
while :; do
  m=$(curl -s "localhost:$pm/metrics")
  echo "$(($(date +%s%3N) - t0)) $(awk '/^rinha_router_lookups_total\{processor="default"\}/ {print $2}' <<<"$m") $(awk '/^rinha_router_recovering_payments / {print $2}' <<<"$m")" >>"$S/samples"
  [ "$(awk '/^rinha_router_recovering_payments / {print $2}' <<<"$m")" = 0 ] && break
  sleep 0.1
done
awk '{s = int($1 / 1000); last[s] = $2; if (s > max) max = s} END {p = 0; for (i = 0; i <= max; i++) if (i in last) {printf "second %d: %d lookups at default\n", i, last[i] - p; p = last[i]}}' "$S/samples"
echo "recovered in $(tail -1 "$S/samples" | cut -d' ' -f1) ms"
sleep 2
ledger=$(python -c "
import grpc, payments_pb2 as pb, payments_pb2_grpc as rpc
print(rpc.LedgerStub(grpc.insecure_channel('unix:$S/l.sock')).Summary(pb.SummaryRequest()).default_totals.total_requests)")
echo "default holds $(curl -s -H 'X-Rinha-Token: 123' localhost:$pd/admin/payments-summary | jq .totalRequests), the ledger $ledger"
