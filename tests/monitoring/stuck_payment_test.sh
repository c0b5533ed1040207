#!/usr/bin/env bash
# A payment stuck on purpose, watched as an operator would (issue 20's must-show; the monitoring
# stage of scripts/test.sh). Real processes on free ports: the two emulators, ledger, router (the
# self-audit on, undecided after 2 s, a payment timeout below the default's delay), one edge, and
# Prometheus scraping the edge, the router and the ledger with config/prometheus/prometheus.yml's
# jobs. Then:
#   1. the default holds a payment whose POST timed out at the router and whose lookups answer 503
#      (the emulator's lookups_503 fault), the fallback failing: within seconds Prometheus has
#      rinha_router_undecided_payments at 1 and rinha_audit_mismatched_windows at 1, and the
#      dashboard (headless Chromium) shows both in its legends;
#   2. the fault lifted, the router records the payment: undecided back to 0, the mismatched window
#      cleared, in Prometheus and on the dashboard, and the ledger equals what the default holds.
#   tests/monitoring/stuck_payment_test.sh [BUILD_DIR] [--screenshot=FILE]
# BUILD_DIR defaults to build-test-release. Needs prometheus, Chromium, curl, jq.
set -euo pipefail
cd "$(dirname "$0")/../.."
build_dir=build-test-release
if [[ ${1:-} != --* && -n ${1:-} ]]; then build_dir=$1; shift; fi
screenshot=""
for arg in "$@"; do
  case "$arg" in
    --screenshot=*) screenshot=${arg#*=} ;;
    *) echo "stuck_payment_test: unknown option $arg" >&2; exit 2 ;;
  esac
done
# shellcheck source=scripts/free-port.sh
source scripts/free-port.sh
# shellcheck source=scripts/process-lib.sh
source scripts/process-lib.sh
# shellcheck source=scripts/prometheus.sh
source scripts/prometheus.sh
# shellcheck source=tests/monitoring/prometheus_checks.sh
source tests/monitoring/prometheus_checks.sh

out=$(mktemp -d /tmp/rinha-stuck-payment-test.XXXXXX)
pids=()
passed=0
stop_all() {
  local pid
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  pids=()
}
trap stop_all EXIT
fail() {
  echo "stuck_payment_test: FAIL: $*" >&2
  echo "stuck_payment_test: $passed passed, 1 failed (logs in $out)" >&2
  exit 1
}
pass() { passed=$((passed + 1)); echo "ok: $*"; }
find_chromium || fail "chromium is not installed (scripts/install-deps.sh)"
command -v prometheus >/dev/null || fail "prometheus is not installed (scripts/install-deps.sh)"

# start NAME CMD...: spawn_ready, the process kept for the clean-up; fails the test otherwise.
start() {
  local ready=1
  spawn_ready "$@" || ready=0
  pids+=("$SPAWNED_PID")
  ((ready)) || fail "$1 did not start"
}
admin() { processor_admin "$@" || fail "PUT $2 at :$1 refused"; }  # admin PORT WHAT JSON
held() {  # held PORT: totalRequests the emulator holds
  curl -sf -m 5 -H 'X-Rinha-Token: 123' "http://127.0.0.1:$1/admin/payments-summary" | jq -r .totalRequests
}

processor=$build_dir/processor/payment-processor
start default "$out" "$processor" --listen=127.0.0.1:0 --fee=0.07 --token=123
pd=$(spawned_field port)
start fallback "$out" "$processor" --listen=127.0.0.1:0 --fee=0.10 --token=123
pf=$(spawned_field port)
start ledger "$out" "$build_dir/ledger/ledger" --listen= --unix_socket="$out/ledger.sock" \
  --db_path="$out/ledger.db" --metrics_listen=127.0.0.1:0
ledger_metrics=$(spawned_field metrics_port)
# The OperabilityTest's settings (tests/router/router_integration_test.cc): a POST to a default
# delayed 900 ms times out at 500 ms (ambiguous), undecided after 2 s, audit windows of 1 s closed
# 1.5 s ago, and a long insert window so that the payment stays pinned to the default.
start router "$out" "$build_dir/router/router" --listen= --unix_socket="$out/router.sock" \
  --ledger="unix:$out/ledger.sock" --journal_dir="$out/router-journal" \
  --metrics_listen=127.0.0.1:0 --processor_default_url="http://127.0.0.1:$pd" \
  --processor_fallback_url="http://127.0.0.1:$pf" --payment_timeout_ms=500 \
  --undecided_after_ms=2000 --audit_admin_token=123 --audit_window_ms=1000 \
  --audit_settle_ms=1500 --ambiguity_settle_ms=60000
router_metrics=$(spawned_field metrics_port)
start edge "$out" "$build_dir/edge/edge" --listen=127.0.0.1:0 --router="unix:$out/router.sock" \
  --ledger="unix:$out/ledger.sock" --journal_dir="$out/edge-journal"
edge=$(spawned_field port)

prom_port=$(free_port)
url=http://127.0.0.1:$prom_port
prometheus_config "$out/prometheus.yml" "127.0.0.1:$edge" "" "127.0.0.1:$router_metrics" \
  "127.0.0.1:$ledger_metrics" ""
prometheus_command "$out/prometheus.yml" "$out/prometheus-data" "127.0.0.1:$prom_port"
"${prometheus_cmd[@]}" >"$out/prometheus.log" 2>&1 &
pids+=("$!")
prometheus_wait_ready "$url" 60 "${pids[-1]}" || fail "Prometheus not ready: $(tail -n 3 "$out/prometheus.log")"
want=$'edge edge1\nledger ledger\nrouter router'
deadline=$(($(date +%s) + 30))
until prom_all_up "$url" "$want"; do
  (($(date +%s) < deadline)) || fail "targets not all up: $(prom_targets "$url" | paste -sd';')"
  sleep 0.5
done
pass "Prometheus scrapes edge, router and ledger, all up"

# until_prom PROMQL SECONDS WHAT: waits (bounded) for the query to return a series.
until_prom() {
  local deadline=$(($(date +%s) + $2))
  until prom_holds "$url" "$1"; do
    (($(date +%s) < deadline)) || fail "$3: '$1' did not hold within $2 s"
    sleep 0.5
  done
}
# legend_value DOM PANEL LEGEND: the value shown now in PANEL's legend for the series LEGEND.
legend_value() {
  grep -o "id=\"panel-$2\".*" <<<"$1" | grep -o "</span>$3 <span class=\"value\">[^<]*" | head -n1 |
    sed 's/.*class="value">\([^ ]*\).*/\1/'
}
page=$url/consoles/rinha.html
# dashboard_shows N WHEN: the dashboard's legends show N undecided payments and N mismatched
# audit windows (the page dumped by headless Chromium).
dashboard_shows() {
  local dom undecided mismatched
  dom=$(dashboard_browse "$page?window=60" "$out/chromium" --dump-dom) ||
    fail "chromium --dump-dom failed: $(tail -n 5 "$out/chromium.log")"
  undecided=$(legend_value "$dom" pending undecided) mismatched=$(legend_value "$dom" audit mismatched)
  [[ $undecided == "$1" && $mismatched == "$1" ]] ||
    fail "dashboard $2: undecided '$undecided', mismatched '$mismatched' (want $1 and $1)"
  pass "the dashboard $2: undecided $undecided, mismatched windows $mismatched"
}

# A check that cannot fail is worth nothing: before anything is stuck, nothing is undecided.
until_prom 'sum(rinha_router_undecided_payments) == 0 and on() rinha_audit_enabled == 1' 20 "at start"

# ---- 1. stuck -------------------------------------------------------------------------------------
admin "$pd" delay '{"delay":900}'
admin "$pd" fault '{"mode":"lookups_503"}'
admin "$pf" failure '{"failure":true}'
id=$(cat /proc/sys/kernel/random/uuid)
code=$(curl -s -m 5 -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' \
  "http://127.0.0.1:$edge/payments" -d "{\"correlationId\":\"$id\",\"amount\":19.90}")
[[ $code == 2?? ]] || fail "POST /payments answered $code"
t0=$(date +%s)
until_prom 'sum(rinha_router_undecided_payments) == 1' 30 "the stuck payment"
pass "undecided in Prometheus $(($(date +%s) - t0)) s after the POST" \
  "($(prom_query "$url" 'rinha_router_undecided_payments > 0' | head -n1))"
[[ $(held "$pd") == 1 ]] || fail "the default does not hold the payment"
until_prom 'rinha_audit_mismatched_windows == 1' 30 "the self-audit"
pass "the self-audit reports its window mismatched $(($(date +%s) - t0)) s after the POST"
# The dashboard's window ends at Prometheus's time rounded down to a second, one point a second:
# let the values hold for 3 s (three scrapes) so that its last point has them.
until_prom 'sum(min_over_time(rinha_router_undecided_payments[3s])) == 1
  and on() min_over_time(rinha_audit_mismatched_windows[3s]) == 1' 30 "both holding for 3 s"
dashboard_shows 1 "while stuck"
if [ -n "$screenshot" ]; then
  dashboard_browse "$page?window=60" "$out/chromium" --screenshot="$screenshot" >/dev/null ||
    fail "chromium --screenshot failed"
fi

# ---- 2. cleared -----------------------------------------------------------------------------------
admin "$pd" fault '{"mode":"none"}'
t1=$(date +%s)
until_prom 'sum(rinha_router_undecided_payments) == 0 and on() rinha_router_settled_total{processor="default"} == 1' \
  40 "recording the payment"
until_prom 'rinha_audit_mismatched_windows == 0 and on() rinha_audit_cleared_windows_total == 1' 40 \
  "clearing the window"
pass "recorded and the window cleared $(($(date +%s) - t1)) s after lookups worked again"
until_prom 'sum(max_over_time(rinha_router_undecided_payments[3s])) == 0
  and on() max_over_time(rinha_audit_mismatched_windows[3s]) == 0' 30 "both clear for 3 s"
dashboard_shows 0 "once cleared"
ours=$(curl -sf -m 5 "http://127.0.0.1:$edge/payments-summary" | jq -r .default.totalRequests)
[[ $ours == "$(held "$pd")" && $ours == 1 ]] ||
  fail "the summary says $ours at default, the default holds $(held "$pd")"
pass "our summary equals what the default holds"

stop_all
rm -rf "$out"
echo "stuck payment test: $passed passed, 0 failed"
