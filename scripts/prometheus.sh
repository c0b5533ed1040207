# Prometheus beside a native run (sourced, not run): scripts/run.sh --serve --prometheus and
# scripts/contest.sh --prometheus. Debian's `prometheus` (scripts/install-deps.sh), scraping every
# service once a second with config/prometheus/prometheus.yml's jobs, its data in the run's
# temporary directory, the dashboard (config/prometheus/consoles/rinha.html) served by it.
# docs/operations.md, "Prometheus and the dashboard".
# shellcheck shell=bash

prometheus_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")/../config/prometheus" && pwd)

# prometheus_config OUT_FILE EDGE1 EDGE2 ROUTER LEDGER LB: writes config/prometheus/prometheus.yml
# with each compose service's target replaced by the host:port given for it. An empty address
# drops that service's targets (LB empty: nginx, which has no exporter; ROUTER and LEDGER empty:
# --backend=null); a job left without targets is dropped too.
prometheus_config() {
  local out=$1 edge1=$2 edge2=$3 router=$4 ledger=$5 lb=$6
  awk -v edge1="$edge1" -v edge2="$edge2" -v router="$router" -v ledger="$ledger" -v lb="$lb" '
    BEGIN { to["edge1:8080"] = edge1; to["edge2:8080"] = edge2; to["router:9101"] = router
            to["ledger:9102"] = ledger; to["lb:8405"] = lb }
    # A job is held back until one of its targets is kept.
    function flush() { if (job != "" && kept) printf "%s", job; job = ""; kept = 0 }
    /^  - job_name:/ { flush(); job = $0 "\n"; next }
    job != "" && /^      - targets:/ {
      match($0, /"[^"]*"/); target = substr($0, RSTART + 1, RLENGTH - 2)
      skip = (target in to) && to[target] == ""
      if (!skip) { if (target in to) sub(/"[^"]*"/, "\"" to[target] "\""); kept = 1; job = job $0 "\n" }
      next
    }
    job != "" && /^        / { if (!skip) job = job $0 "\n"; next }
    job != "" && /^    / { job = job $0 "\n"; next }
    { flush(); print }
    END { flush() }' "$prometheus_dir/prometheus.yml" >"$out"
}

# prometheus_command CONFIG DATA_DIR LISTEN: sets the array prometheus_cmd to the command line.
prometheus_command() {
  prometheus_cmd=(prometheus --config.file="$1" --storage.tsdb.path="$2" --web.listen-address="$3"
    --web.console.templates="$prometheus_dir/consoles"
    --web.console.libraries="$prometheus_dir/console_libraries"
    --storage.tsdb.retention.time=1d --log.level=warn)
}

# prometheus_wait_ready URL TIMEOUT_S PID: until URL/-/ready answers 200; 1 when PID exits first
# or TIMEOUT_S passes.
prometheus_wait_ready() {
  local url=$1 deadline=$(($(date +%s) + $2)) pid=$3
  until [ "$(curl -s -o /dev/null -m 1 -w '%{http_code}' "$url/-/ready" 2>/dev/null)" = 200 ]; do
    kill -0 "$pid" 2>/dev/null || return 1
    (($(date +%s) < deadline)) || return 1
    sleep 0.1
  done
}

# prometheus_banner URL: where a person looks.
prometheus_banner() {
  echo "  dashboard   $1/consoles/rinha.html"
  echo "  Prometheus  $1/classic/graph   (targets: $1/classic/targets)"
}
