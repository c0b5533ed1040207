# Checks against a running Prometheus and its dashboard (sourced, not run): by
# tests/monitoring/monitoring_test.sh (native) and tests/docker/compose_stack_test.sh (the
# `monitoring` profile). Needs curl and jq; the dashboard checks need Chromium.
# shellcheck shell=bash

# prom_query URL PROMQL: one line per series of the instant query's result, "{labels} value";
# status 1 when Prometheus does not answer or refuses the query.
prom_query() {
  curl -sf -m 5 -G "$1/api/v1/query" --data-urlencode "query=$2" |
    jq -er 'select(.status == "success") | .data.result[] | "\(.metric | tojson) \(.value[1])"'
}

# prom_holds URL PROMQL: true when the query (a filter such as `sum(x) > 0`) returns a series.
prom_holds() {
  local result
  result=$(prom_query "$1" "$2" 2>/dev/null) || return 1
  [ -n "$result" ]
}

# prom_targets URL: one line per active target, "job instance health".
prom_targets() {
  curl -sf -m 5 "$1/api/v1/targets?state=active" |
    jq -er '.data.activeTargets[] | "\(.labels.job) \(.labels.instance) \(.health)"' | sort
}

# prom_all_up URL WANT: true when exactly the WANT targets ("job instance" lines, sorted) are
# active and every one of them is up.
prom_all_up() {
  local got
  got=$(prom_targets "$1" 2>/dev/null) || return 1
  [ "$got" = "$(sed 's/$/ up/' <<<"$2")" ]
}

# The targets config/prometheus/prometheus.yml names, as prom_targets prints them.
prom_stack_targets=$'edge edge1\nedge edge2\nhaproxy lb\nledger ledger\nrouter router'

# find_chromium: sets chromium to the browser's path; status 1 without one.
find_chromium() {
  chromium=$(command -v chromium || command -v chromium-browser || true)
  [ -n "$chromium" ]
}

# dashboard_browse URL PROFILE_DIR [CHROMIUM_FLAGS...]: headless Chromium on URL with 8 s of
# virtual time (the page's refreshes run; virtual time waits for their fetches), e.g. --dump-dom
# or --screenshot=FILE. No network beyond URL's host, nothing of Chromium's own.
dashboard_browse() {
  local url=$1 profile=$2
  shift 2
  timeout 120 "$chromium" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync \
    --disable-extensions --user-data-dir="$profile" --virtual-time-budget=8000 \
    --window-size=1600,1400 "$@" "$url" 2>>"$profile.log"
}

# body_attribute DOM NAME: the value of NAME on the dumped page's <body>, or "(absent)".
body_attribute() {
  local value
  value=$(grep -o "<body[^>]*" <<<"$1" | grep -o " $2=\"[^\"]*\"" | head -n1 | cut -d'"' -f2)
  echo "${value:-(absent)}"
}

# panel_states DOM: "panel-ID state" per panel of the dumped dashboard.
panel_states() {
  grep -oE '<section class="panel" id="panel-[^"]*" data-state="[a-z]*"' <<<"$1" |
    sed -E 's/.*id="([^"]*)" data-state="([a-z]*)"/\1 \2/'
}
