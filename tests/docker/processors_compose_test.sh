#!/usr/bin/env bash
# Docker test of compose.processors.yaml: builds the image, starts both emulators on free host
# ports under a unique project name, checks the contest's processor contract through the
# published ports, then tears down and checks that nothing is left behind.
set -euo pipefail
cd "$(dirname "$0")/../.."

fail() { echo "FAIL: $*" >&2; exit 1; }
# shellcheck source=scripts/free-port.sh
source scripts/free-port.sh

bash scripts/docker-setup.sh
project="rinha-proc-test-$$"
export PROCESSOR_DEFAULT_HOST_PORT=$(free_port) PROCESSOR_FALLBACK_HOST_PORT=$(free_port)
compose() { docker-compose -f compose.processors.yaml -p "$project" "$@"; }
cleanup() { compose down -v --remove-orphans >/dev/null 2>&1 || true; }
trap cleanup EXIT

start=$(date +%s.%N)
compose up -d --build >/tmp/$project.log 2>&1 || { cat /tmp/$project.log; fail "compose up"; }

ready() { curl -fsS -o /dev/null "http://127.0.0.1:$1/payments/service-health"; }
for port in $PROCESSOR_DEFAULT_HOST_PORT $PROCESSOR_FALLBACK_HOST_PORT; do
  ok=0
  for _ in $(seq 1 100); do ready "$port" && { ok=1; break; }; sleep 0.2; done
  [ $ok = 1 ] || { compose logs; fail "processor on port $port not ready"; }
done
echo "both processors ready after $(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b-a}') s (build included)"

dp=$PROCESSOR_DEFAULT_HOST_PORT
fp=$PROCESSOR_FALLBACK_HOST_PORT
id=$(cat /proc/sys/kernel/random/uuid)
body="{\"correlationId\":\"$id\",\"amount\":20.05,\"requestedAt\":\"2025-07-15T12:00:00.000Z\"}"
code=$(curl -s -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' -d "$body" "http://127.0.0.1:$dp/payments")
[ "$code" = 200 ] || fail "first payment: HTTP $code"
code=$(curl -s -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' -d "$body" "http://127.0.0.1:$dp/payments")
[ "$code" = 422 ] || fail "duplicate payment: HTTP $code, want 422"
code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$dp/admin/payments-summary")
[ "$code" = 401 ] || fail "summary without token: HTTP $code, want 401"
summary=$(curl -fsS -H 'X-Rinha-Token: 123' "http://127.0.0.1:$dp/admin/payments-summary")
echo "default summary: $summary"
echo "$summary" | grep -q '"totalRequests":1' || fail "default summary count"
echo "$summary" | grep -q '"totalAmount":20.05' || fail "default summary amount"
echo "$summary" | grep -q '"feePerTransaction":0.07' || fail "default fee rate"
fsum=$(curl -fsS -H 'X-Rinha-Token: 123' "http://127.0.0.1:$fp/admin/payments-summary")
echo "fallback summary: $fsum"
echo "$fsum" | grep -q '"totalRequests":0' || fail "fallback holds a payment it never got"
echo "$fsum" | grep -q '"feePerTransaction":0.1' || fail "fallback fee rate"

# The backend reaches them by name on the external `payment-processor` network.
net=$(docker network inspect payment-processor --format '{{range .Containers}}{{.Name}} {{end}}')
echo "$net" | grep -q "${project}_payment-processor-default" || fail "default not on payment-processor network"
code=$(docker run --rm --network payment-processor "${RINHA_IMAGE:-rinha-backend-2025:local}" \
  bash -c 'exec 3<>/dev/tcp/payment-processor-fallback/8080 && echo connected') || true
[ "$code" = connected ] || fail "payment-processor-fallback:8080 not reachable by name on the network"

# Runs as non-root.
uid=$(docker exec "${project}_payment-processor-default_1" id -u)
[ "$uid" = 10001 ] || fail "container runs as uid $uid, want 10001"

cleanup
trap - EXIT
left=$(docker ps -a --filter "label=com.docker.compose.project=$project" -q)
[ -z "$left" ] || fail "containers left behind: $left"
docker network inspect payment-processor >/dev/null 2>&1 && fail "network payment-processor left behind"
echo "processors compose test: 1 passed, 0 failed"
