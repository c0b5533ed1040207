#!/usr/bin/env bash
# The stack watched natively, for CI (scripts/test.sh's `monitoring` stage): a 30 s contest run
# through scripts/contest.sh --prometheus on free ports and, while its load runs,
#   Prometheus's API   every target (both edges, router, ledger, HAProxy) up, and the key series
#                      moving: the edges' requests and the router's settlements increasing, the
#                      ledger's rows and HAProxy's client sessions above zero;
#   the dashboard      in headless Chromium: every panel drawn (<body data-ready="true">), a panel
#                      for a series that does not exist noticed as empty, and a screenshot;
# then the run ends cleanly and Prometheus is gone with the rest.
#   tests/monitoring/monitoring_test.sh [BUILD_DIR] [--screenshot=FILE] [CONTEST_OPTION...]
# BUILD_DIR defaults to build-test-release; the screenshot goes to OUT/dashboard.png (kept only
# on failure) unless --screenshot names a file; other options go to scripts/contest.sh (e.g.
# --duration_s=120 for a longer run). Needs root (the contest's cgroups) and Chromium.
set -euo pipefail
cd "$(dirname "$0")/../.."
build_dir=build-test-release
if [[ ${1:-} != --* && -n ${1:-} ]]; then build_dir=$1; shift; fi
screenshot="" contest_args=()
for arg in "$@"; do
  case "$arg" in
    --screenshot=*) screenshot=${arg#*=} ;;
    *) contest_args+=("$arg") ;;
  esac
done
# shellcheck source=scripts/free-port.sh
source scripts/free-port.sh
# shellcheck source=tests/monitoring/prometheus_checks.sh
source tests/monitoring/prometheus_checks.sh

out=$(mktemp -d /tmp/rinha-monitoring-test.XXXXXX)
passed=0
runner=""
fail() {
  echo "monitoring_test: FAIL: $*" >&2
  echo "monitoring_test: 0 passed, 1 failed (run in $out)" >&2
  [ -z "$runner" ] || kill -TERM "$runner" 2>/dev/null || true
  [ -z "$runner" ] || wait "$runner" 2>/dev/null || true
  exit 1
}
pass() { passed=$((passed + 1)); echo "ok: $*"; }
find_chromium || fail "chromium is not installed (scripts/install-deps.sh)"

prom_port=$(free_port)
url=http://127.0.0.1:$prom_port
# The self-audit on (the emulators' token), so that its panel has a series (off in the contest).
bash scripts/contest.sh --build-dir="$build_dir" --test=final --duration_s=30 --max_vus=60 \
  --port=0 --prometheus_port="$prom_port" --out="$out/run" --router_flag=--audit_admin_token=123 \
  ${contest_args[@]+"${contest_args[@]}"} >"$out/contest.log" 2>&1 &
runner=$!
running() { kill -0 "$runner" 2>/dev/null; }

# Prometheus comes up once the stack is ready (the build may come first).
deadline=$(($(date +%s) + 600))
until curl -sf -m 1 -o /dev/null "$url/-/ready"; do
  running || { tail -n 30 "$out/contest.log" >&2; fail "the run ended before Prometheus was ready"; }
  (($(date +%s) < deadline)) || fail "Prometheus not ready on $url after 600 s"
  sleep 0.5
done
t_ready=$(date +%s)

# ---- Prometheus's API, under the load ------------------------------------------------------------
# Each condition must hold before the load ends (30 s); checked again until then.
declare -A conditions=(
  ["the edges' requests increase"]='sum(increase(rinha_edge_http_requests_total[10s])) > 0'
  ["POST /payments answered 2xx at both edges"]='count(sum by (instance) (rinha_edge_http_requests_total{route="/payments",status=~"2.."})) == 2'
  ["the router's settlements increase"]='sum(increase(rinha_router_settled_total[10s])) > 0'
  ["the ledger holds rows"]='sum(rinha_ledger_rows) > 0'
  ["HAProxy has client sessions"]='max_over_time(haproxy_frontend_current_sessions{proxy="api"}[30s]) > 0'
  ["the edges' POST /payments latency histogram fills"]='sum(rinha_edge_http_request_duration_seconds_count{route="/payments"}) > 0'
  ["the self-audit runs"]='rinha_audit_enabled == 1'
)
# A check that cannot fail is worth nothing: a series that does not exist must not hold.
prom_holds "$url" 'sum(rinha_no_such_series) > 0' && fail "prom_holds accepts a series that does not exist"
prom_query "$url" 'sum(' >/dev/null 2>&1 && fail "prom_query accepts an invalid query"

unmet=() all_up=0
while :; do
  prom_all_up "$url" "$prom_stack_targets" && all_up=1 || all_up=0
  unmet=()
  for name in "${!conditions[@]}"; do
    prom_holds "$url" "${conditions[$name]}" || unmet+=("$name")
  done
  ((all_up && ${#unmet[@]} == 0)) && break
  running || break
  (($(date +%s) < t_ready + 60)) || break
  sleep 1
done
((all_up)) || fail "targets not all up: $(prom_targets "$url" | tr '\n' ';')"
pass "every target up: $(prom_targets "$url" | awk '{ print $2 }' | paste -sd' ')"
((${#unmet[@]} == 0)) || fail "never held during the run: $(printf '%s; ' "${unmet[@]}")"
pass "${#conditions[@]} key series moved ($(($(date +%s) - t_ready)) s after Prometheus was ready)"
echo "  edge requests: $(prom_query "$url" 'sum(rinha_edge_http_requests_total)' | awk '{ print $2 }')," \
  "settled: $(prom_query "$url" 'sum(rinha_router_settled_total)' | awk '{ print $2 }')," \
  "ledger rows: $(prom_query "$url" 'sum(rinha_ledger_rows)' | awk '{ print $2 }')"

# ---- the dashboard, under the load ---------------------------------------------------------------
running || fail "the load ended before the dashboard could be checked (a slow machine?)"
profile=$out/chromium
page=$url/consoles/rinha.html
dom=$(dashboard_browse "$page" "$profile" --dump-dom) || fail "chromium --dump-dom failed: $(tail -n 5 "$profile.log")"
panels=$(body_attribute "$dom" data-panels) drawn=$(body_attribute "$dom" data-drawn)
panel_states "$dom" | sed 's/^/  /'
[[ $(body_attribute "$dom" data-ready) == true && $panels -ge 10 && $drawn == "$panels" ]] ||
  fail "dashboard: $drawn of $panels panels drawn; $(panel_states "$dom" | grep -v ' drawn$' | paste -sd';')"
pass "dashboard: all $panels panels drawn ($(body_attribute "$dom" data-refreshes) refreshes)"
# The page's check must see a panel without data: one more panel, for a series nobody exports.
dom=$(dashboard_browse "$page?add=rinha_no_such_series" "$profile" --dump-dom) || fail "chromium failed"
[[ $(body_attribute "$dom" data-ready) == false &&
  $(body_attribute "$dom" data-drawn) == "$panels" &&
  $(body_attribute "$dom" data-panels) == $((panels + 1)) &&
  $(panel_states "$dom" | grep -c '^panel-added-0 empty$') == 1 ]] ||
  fail "dashboard with a missing series: ready $(body_attribute "$dom" data-ready), drawn $(body_attribute "$dom" data-drawn) of $(body_attribute "$dom" data-panels)"
grep -q '>no data<' <<<"$dom" || fail "the empty panel does not say 'no data'"
pass "dashboard: a panel without data is noticed ('no data', data-ready=false)"
shot=${screenshot:-$out/dashboard.png}
dashboard_browse "$page?window=60" "$profile" --screenshot="$shot" >/dev/null ||
  fail "chromium --screenshot failed"
[[ -s $shot ]] || fail "no screenshot at $shot"
pass "screenshot under load: $shot ($(stat -c %s "$shot") bytes)"

# ---- the run ends, and Prometheus with it --------------------------------------------------------
rc=0
wait "$runner" || rc=$?
runner_pid=$runner runner=""
[ "$rc" = 0 ] || { tail -n 30 "$out/contest.log" >&2; fail "scripts/contest.sh exited with $rc"; }
grep -q "prometheus on $url" "$out/contest.log" || fail "the run did not print Prometheus's address"
grep -q "/consoles/rinha.html" "$out/contest.log" || fail "the run did not print the dashboard's URL"
read -r _ prom_pid < <(grep '^prometheus ' "$out/run/pids.txt") || fail "no prometheus in pids.txt"
if grep -qs "rinha-contest-$runner_pid" "/proc/$prom_pid/cgroup"; then fail "prometheus (pid $prom_pid) still runs"; fi
curl -sf -m 1 -o /dev/null "$url/-/ready" && fail "Prometheus still answers on $url"
pass "the run ended (status 0) and stopped Prometheus"

[ -n "$screenshot" ] || rm -rf "$out"
echo "monitoring test: $passed passed, 0 failed"
