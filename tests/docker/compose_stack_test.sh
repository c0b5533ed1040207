#!/usr/bin/env bash
# Docker test of compose.yaml, the stack the contest runs: the file is valid for docker-compose
# 1.29 and within the contest's rules (limits <= 1.5 CPU / 350 MB, no host network, privileged or
# replicas); the stack comes up next to the processors' compose under unique project names and
# free host ports; every container runs with its limits (docker inspect and its own cgroup files),
# as uid 10001, healthy, only the router on the payment-processor network; a short load gives
# 0 inconsistencies and lag 0; the router crashed under load (SIGKILL from the host) comes back
# by its restart policy and loses or double-pays nothing; edge1 recreated with a new address is
# found by the load balancer without a restart; the `monitoring` profile, which the plain `up`
# does not start, adds a Prometheus that finds every service's /metrics up; `down -v` leaves no
# container, network or volume behind.
# rinha-load and rinha-check: RINHA_LOAD_BIN's, else from build-test-release/, build/ or
# build-loadgen/, else built natively in build-loadgen/.
set -euo pipefail
cd "$(dirname "$0")/../.."
# shellcheck source=scripts/docker-lib.sh
source scripts/docker-lib.sh
# shellcheck source=tests/monitoring/prometheus_checks.sh
source tests/monitoring/prometheus_checks.sh
DLOG_TAG=compose-stack-test

passed=0
fail() { echo "FAIL: $*" >&2; exit 1; }
pass() { passed=$((passed + 1)); echo "ok: $*"; }

bash scripts/docker-setup.sh
find_loadgen build-test-release build

# ---- the file itself -----------------------------------------------------------------------------
docker-compose -f compose.yaml config -q || fail "compose.yaml does not validate under docker-compose $(docker-compose version --short)"
config=$(docker-compose -f compose.yaml config)
limits=$(compose_limits compose.yaml)
echo "$limits" | sed 's/^/  limits: /'
check_sums() {  # stdin: "service cpus memory"; fails on a missing limit or a sum over the budget
  awk '
    $2 == "" || $3 == "" { print "no limit for " $1; bad = 1 }
    { cpu += $2; m = $3; sub(/[Mm][Bb]?$/, "", m); mem += m }
    END { printf "  total: %.2f CPU, %d MB\n", cpu, mem
          if (cpu > 1.5 + 1e-9) { print "CPU total over 1.5"; bad = 1 }
          if (mem > 350) { print "memory total over 350 MB"; bad = 1 }
          exit bad }'
}
echo "$limits" | check_sums || fail "compose.yaml limits"
# The check must be able to fail: the same file with one limit raised is rejected.
sed 's/cpus: "0.15"/cpus: "0.5"/' compose.yaml >/tmp/compose-over-$$.yaml
if compose_limits /tmp/compose-over-$$.yaml | check_sums >/dev/null; then
  rm -f /tmp/compose-over-$$.yaml; fail "limit check accepts 1.85 CPU"
fi
rm -f /tmp/compose-over-$$.yaml
pass "limits within 1.5 CPU / 350 MB (and a raised limit is caught)"
grep -Eq 'network_mode: *"?host|privileged: *true|replicas:' <<<"$config" &&
  fail "host networking, privileged or replicas in compose.yaml"
[[ $(grep -c '^  edge[0-9]*:$' <<<"$config") -ge 2 ]] || fail "fewer than two edges"
grep -q '9999' <<<"$config" || fail "no port 9999"
pass "no host network / privileged / replicas; two edges; port 9999"

# ---- the stack -----------------------------------------------------------------------------------
if docker network inspect payment-processor >/dev/null 2>&1; then
  fail "network payment-processor exists already (another processors compose is running)"
fi
id=$$
pproject=rinha-stack-test-proc-$id bproject=rinha-stack-test-$id
export PROCESSOR_DEFAULT_HOST_PORT=$(free_port)
export PROCESSOR_FALLBACK_HOST_PORT=$(free_port)
export LB_HOST_PORT=$(free_port) ROUTER_GRPC_HOST_PORT=$(free_port) LEDGER_GRPC_HOST_PORT=$(free_port)
PROMETHEUS_HOST_PORT=$(free_port)
export PROMETHEUS_HOST_PORT
pc() { docker-compose -f compose.processors.yaml -p "$pproject" "$@"; }
bc() { docker-compose -f compose.yaml -p "$bproject" "$@"; }
log=/tmp/$bproject.log
cleanup() {
  # With the profile: its Prometheus, when the test started it, goes too.
  bc --profile monitoring down -v --remove-orphans --timeout 5 >>"$log" 2>&1 || true
  pc down -v --remove-orphans --timeout 5 >>"$log" 2>&1 || true
}
trap cleanup EXIT

# The two images every service uses, and the monitoring profile's Prometheus (one apt layer).
bc --profile monitoring build lb ledger prometheus >"$log" 2>&1 || { tail -40 "$log"; fail "build"; }
pc up -d >>"$log" 2>&1 || { tail -20 "$log"; fail "processors up"; }
t_up=$(date +%s.%N)
bc up -d >>"$log" 2>&1 || { tail -30 "$log"; bc logs --tail=20; fail "compose up"; }
lb=http://127.0.0.1:$LB_HOST_PORT
wait_http "$lb/payments-summary" 90 || { bc ps; bc logs --tail=20; fail "LB not ready"; }
echo "  up -> ready in $(awk -v a="$t_up" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b - a}') s"
pass "stack up, GET /payments-summary < 400 on :$LB_HOST_PORT"
# What the contest runs, `up` without a profile, starts exactly the budgeted services.
started=$(docker ps -a --filter "label=com.docker.compose.project=$bproject" \
  --format '{{.Label "com.docker.compose.service"}}' | sort | paste -sd' ')
[[ $started == "edge1 edge2 lb ledger router" ]] || fail "plain up started: $started"
pass "plain up starts lb, edge1, edge2, router, ledger only (no Prometheus)"

# Every container with a health check healthy (router, ledger; lb and edges have none).
deadline=$(($(date +%s) + 60))
until [[ -z $(bc ps -q | xargs docker inspect --format '{{with index .State "Health"}}{{.Status}}{{end}}' | grep -v -e '^healthy$' -e '^$') ]]; do
  (($(date +%s) < deadline)) || { bc ps; fail "not every container healthy after 60 s"; }
  sleep 1
done

# Limits as the engine and the kernel see them, per service.
while read -r svc cpus mem; do
  c=$(bc ps -q "$svc")
  [[ -n $c ]] || fail "no container for $svc"
  read -r nano bytes priv netmode user health < <(docker inspect --format \
    '{{.HostConfig.NanoCpus}} {{.HostConfig.Memory}} {{.HostConfig.Privileged}} {{.HostConfig.NetworkMode}} {{.Config.User}} {{with index .State "Health"}}{{.Status}}{{else}}none{{end}}' "$c")
  want_nano=$(awk -v c="$cpus" 'BEGIN{printf "%.0f", c * 1e9}')
  want_bytes=$(($(to_mib "$mem") * 1048576))
  [[ $nano == "$want_nano" ]] || fail "$svc NanoCpus $nano, want $want_nano"
  [[ $bytes == "$want_bytes" ]] || fail "$svc Memory $bytes, want $want_bytes"
  [[ $priv == false ]] || fail "$svc privileged"
  [[ $netmode != host ]] || fail "$svc host network"
  case "$svc" in
    router | ledger) [[ $health == healthy ]] || fail "$svc health: $health" ;;
    *) [[ $health == none ]] || fail "$svc has a Docker health check (it throttles the latency path)" ;;
  esac
  cg=$(docker exec "$c" bash -c '
    if [ -f /sys/fs/cgroup/cpu.max ]; then read q p </sys/fs/cgroup/cpu.max; m=$(cat /sys/fs/cgroup/memory.max)
    else q=$(cat /sys/fs/cgroup/cpu/cpu.cfs_quota_us); p=$(cat /sys/fs/cgroup/cpu/cpu.cfs_period_us)
         m=$(cat /sys/fs/cgroup/memory/memory.limit_in_bytes); fi
    echo "$q $p $m $(id -u)"')
  read -r quota period mlimit uid <<<"$cg"
  got_cpus=$(awk -v q="$quota" -v p="$period" 'BEGIN{printf "%.3f", q / p}')
  [[ $got_cpus == $(awk -v c="$cpus" 'BEGIN{printf "%.3f", c}') ]] || fail "$svc cgroup CPU $quota/$period, want $cpus"
  [[ $mlimit == "$want_bytes" ]] || fail "$svc cgroup memory $mlimit, want $want_bytes"
  [[ $uid == 10001 ]] || fail "$svc runs as uid $uid (user '$user'), want 10001"
  echo "  $svc: cpus $cpus (cfs $quota/$period) memory $mlimit uid $uid $health"
done <<<"$limits"
pass "every container: limits in docker inspect and its cgroup, uid 10001, healthy"

members=$(docker network inspect payment-processor --format '{{range .Containers}}{{.Name}} {{end}}')
for name in $members; do
  case "$name" in
    "${bproject}_router_1" | "${pproject}"_*) ;;
    *) fail "$name joined payment-processor" ;;
  esac
done
grep -q "${bproject}_router_1" <<<"$members" || fail "router not on payment-processor"
for host in payment-processor-default payment-processor-fallback; do
  docker exec "$(bc ps -q router)" bash -c "exec 3<>/dev/tcp/$host/8080" ||
    fail "router cannot reach $host:8080"
done
owner=$(docker exec "$(bc ps -q ledger)" stat -c '%u %U' /var/lib/rinha/ledger.db /run/rinha/ledger.sock /run/rinha/router.sock | sort -u)
[[ $owner == "10001 rinha" ]] || fail "volume files owned by: $owner"
pass "only the router joins payment-processor; volume files owned by 10001"

# gRPC with reflection on the 127.0.0.1 ports (what grpcurl uses): a raw v1alpha
# ServerReflectionInfo list_services call with Debian's python3-grpcio, no generated stubs.
reflect() {
  /usr/bin/python3 - "$1" <<'PY'
import sys, grpc
ch = grpc.insecure_channel(sys.argv[1])
call = ch.stream_stream("/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo",
                        request_serializer=lambda b: b, response_deserializer=lambda b: b)
for answer in call(iter([b"\x3a\x00"]), timeout=5):  # field 7 list_services = ""
    sys.stdout.write(answer.decode("latin-1"))
    break
PY
}
if /usr/bin/python3 -c 'import grpc' 2>/dev/null; then
  reflect "127.0.0.1:$ROUTER_GRPC_HOST_PORT" | grep -q 'rinha.v1.Router' || fail "no reflection on the router's host port"
  reflect "127.0.0.1:$LEDGER_GRPC_HOST_PORT" | grep -q 'rinha.v1.Ledger' || fail "no reflection on the ledger's host port"
  for port in "$ROUTER_GRPC_HOST_PORT" "$LEDGER_GRPC_HOST_PORT"; do
    ss -Hltn "sport = :$port" | grep -qv '127.0.0.1:' && fail "gRPC port $port published beyond 127.0.0.1"
  done
  pass "router and ledger answer gRPC reflection on 127.0.0.1 only"
fi

# ---- a short load ----------------------------------------------------------------------------------
# No instability timeline: squeezed into 20 s its stages are shorter than the processors' 5 s
# health window, and payments still inside a 5 s fallback delay at the end would read as lag; this
# test is about the Docker plumbing (the crash run below uses a timeline).
out=$(mktemp -d /tmp/$bproject.XXXX)
def=http://127.0.0.1:$PROCESSOR_DEFAULT_HOST_PORT fb=http://127.0.0.1:$PROCESSOR_FALLBACK_HOST_PORT
"$loadgen" --target="$lb" --default_processor="$def" --fallback_processor="$fb" --admin_token=123 \
  --test=preview --timeline=none --duration_s=20 --max_vus=60 --router_stats="127.0.0.1:$ROUTER_GRPC_HOST_PORT" \
  --out="$out" --quiet || fail "rinha-load exit $?"
results=$(cat "$out/final-results.json")
incons=$(json_num "$results" num_inconsistencias) lag=$(json_num "$results" lag)
echo "  rinha-load: score $(json_num "$results" score), inconsistencies $incons, lag $lag"
[[ $incons == 0 ]] || fail "inconsistencies: $incons"
[[ $lag == 0 ]] || fail "lag: $lag"
pass "short load: 0 inconsistencies, lag 0"

# ---- the monitoring profile ----------------------------------------------------------------------
# Prometheus added beside the running stack: it scrapes every service's /metrics on the compose
# network (edges :8080, router :9101, ledger :9102, HAProxy :8405); all five targets up, the
# short load's figures in it, and the dashboard served (drawn in Chromium by the monitoring stage).
# HAProxy's own series show its connection cap, and at least the descriptors that cap needs: one
# per client connection and a few to the edges (it asks for two per connection; the engine's
# limit may be lower, docs/design.md "Descriptors").
prom=http://127.0.0.1:$PROMETHEUS_HOST_PORT
t_prom=$(date +%s.%N)
bc --profile monitoring up -d --no-deps prometheus >>"$log" 2>&1 || { tail -20 "$log"; fail "monitoring profile up"; }
deadline=$(($(date +%s) + 90))
until prom_all_up "$prom" "$prom_stack_targets"; do
  (($(date +%s) < deadline)) || { bc logs --tail=20 prometheus; fail "Prometheus targets: $(prom_targets "$prom" | tr '\n' ';')"; }
  sleep 1
done
for condition in 'sum(rinha_edge_http_requests_total{route="/payments"}) > 0' \
  'sum(rinha_router_settled_total) > 0' 'sum(rinha_ledger_rows) > 0' \
  'haproxy_frontend_limit_sessions{proxy="api"} == 12000' \
  'haproxy_process_max_fds >= 12050'; do
  prom_holds "$prom" "$condition" || fail "Prometheus: not true: $condition"
done
page=$(curl -sf -m 5 "$prom/consoles/rinha.html") || fail "no dashboard at $prom/consoles/rinha.html"
grep -q 'RinhaDashboard.start' <<<"$page" || fail "the dashboard page lacks its script"
ss -Hltn "sport = :$PROMETHEUS_HOST_PORT" | grep -qv '127.0.0.1:' && fail "Prometheus published beyond 127.0.0.1"
bc --profile monitoring rm -s -f prometheus >>"$log" 2>&1 || fail "remove prometheus"
pass "monitoring profile: Prometheus on 127.0.0.1:$PROMETHEUS_HOST_PORT, all 5 targets up, the load's series there, dashboard served ($(awk -v a="$t_prom" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b - a}') s)"

# ---- a crash under load ------------------------------------------------------------------------------
# The router's process is killed from the host (as the OOM killer would) while default is slow and
# hundreds of payments are in flight; the restart policy brings it back, it takes over its journal,
# and every payment answered 2xx must end up held by exactly one processor and in the ledger.
crash=$(mktemp -d /tmp/$bproject-crash.XXXX)
"$loadgen" --target="$lb" --default_processor="$def" --fallback_processor="$fb" --admin_token=123 \
  --test=final --timeline=faults --duration_s=20 --max_vus=200 --quiet --out="$crash" \
  --requests_out="$crash/requests.log" --started_file="$crash/started" &
load=$!
router=$(bc ps -q router)
restarts=$(docker inspect -f '{{.RestartCount}}' "$router")
for _ in $(seq 1 600); do [[ -s $crash/started ]] && break; sleep 0.05; done
[[ -s $crash/started ]] || fail "the crash run's load did not start"
# The faults timeline: default slow (800 ms) from 1/6 of the run; kill in the middle of it.
sleep 6
kill -KILL "$(docker inspect -f '{{.State.Pid}}' "$router")"
deadline=$(($(date +%s) + 60))
until [[ $(docker inspect -f '{{.RestartCount}} {{.State.Running}}' "$router") == "$((restarts + 1)) true" ]]; do
  (($(date +%s) < deadline)) || fail "router not restarted by its policy after a crash"
  sleep 0.1
done
wait "$load" || fail "rinha-load (crash run) exit $?"
"$checker" --run_dir="$crash" --ledger="127.0.0.1:$LEDGER_GRPC_HOST_PORT" \
  --router="127.0.0.1:$ROUTER_GRPC_HOST_PORT" --default_processor="$def" \
  --fallback_processor="$fb" >"$crash/check.out" 2>&1 || { cat "$crash/check.out"; fail "crash run: payments lost, paid twice or unrecorded"; }
echo "  $(head -c 300 "$crash/check.out")"
owner=$(docker exec "$router" stat -c '%u' /var/lib/rinha/router-journal)
[[ $owner == 10001 ]] || fail "router journal owned by $owner"
pass "router crashed under load (restart policy): nothing lost, nothing paid twice, ledger exact"
rm -rf "$crash"

# ---- an edge recreated at a new address ---------------------------------------------------------------
# The load balancer resolves the edges' names through Docker's DNS (LB_DNS, config/haproxy.cfg):
# edge1 recreated (a new container, usually a new IP) must be found again without restarting it.
# With edge2 stopped, a payment through port 9999 can only be answered by the new edge1.
ip_of() { docker inspect -f '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}' "$(bc ps -q "$1")"; }
lb_id=$(bc ps -q lb)
lb_started=$(docker inspect -f '{{.State.StartedAt}}' "$lb_id")
old_ip=$(ip_of edge1)
edge_image=$(docker inspect -f '{{.Config.Image}}' "$(bc ps -q edge1)")
edge_net=$(docker inspect -f '{{range $k, $v := .NetworkSettings.Networks}}{{$k}} {{end}}' \
  "$(bc ps -q edge1)" | awk '{ print $1 }')
bc rm -s -f edge1 >>"$log" 2>&1 || { tail -20 "$log"; fail "remove edge1"; }
# Docker hands a freed address out again: a placeholder takes edge1's old one, so that the new
# edge1 comes up at another (best effort: without it the test still runs, at the same address).
squatter=$(docker run -d --rm --network "$edge_net" --entrypoint sleep "$edge_image" 300 \
  2>>"$log") || squatter=""
bc up -d --no-deps edge1 >>"$log" 2>&1 || { tail -20 "$log"; fail "recreate edge1"; }
new_ip=$(ip_of edge1)
[[ -z $squatter ]] || docker rm -f "$squatter" >>"$log" 2>&1 || true
bc stop -t 5 edge2 >>"$log" 2>&1 || fail "stop edge2"
pay_through_lb() {
  local id code
  id=$(cat /proc/sys/kernel/random/uuid)
  code=$(curl -s -o /dev/null -m 2 -w '%{http_code}' -H 'Content-Type: application/json' \
    -d "{\"correlationId\":\"$id\",\"amount\":19.90}" "$lb/payments" 2>/dev/null) || code=000
  [[ $code == 2?? ]]
}
deadline=$(($(date +%s) + 30)) t0=$(date +%s.%N)
until pay_through_lb; do
  (($(date +%s) < deadline)) || { bc logs --tail=20 lb; fail "no payment through :$LB_HOST_PORT 30 s after edge1 was recreated ($old_ip -> $new_ip)"; }
  sleep 0.2
done
waited=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b - a}')
[[ $(bc ps -q lb) == "$lb_id" && $(docker inspect -f '{{.State.StartedAt}}' "$lb_id") == "$lb_started" ]] ||
  fail "the load balancer was restarted"
bc start edge2 >>"$log" 2>&1 || fail "start edge2"
if [[ $old_ip == "$new_ip" ]]; then
  echo "  note: the recreated edge1 got its old address $old_ip back (the DNS path was not exercised)"
fi
pass "edge1 recreated ($old_ip -> $new_ip), edge2 stopped: :$LB_HOST_PORT pays through it after ${waited} s, HAProxy not restarted"

# ---- nothing left behind ----------------------------------------------------------------------------
cleanup
trap - EXIT
for project in "$bproject" "$pproject"; do
  left=$(docker ps -aq --filter "label=com.docker.compose.project=$project")
  [[ -z $left ]] || fail "containers left: $left"
  left=$(docker network ls -q --filter "label=com.docker.compose.project=$project")
  [[ -z $left ]] || fail "networks left: $left"
  left=$(docker volume ls -q --filter "label=com.docker.compose.project=$project")
  [[ -z $left ]] || fail "volumes left: $left"
done
docker network inspect payment-processor >/dev/null 2>&1 && fail "network payment-processor left"
pass "down -v leaves no container, network or volume"
rm -rf "$out" "$log"
echo "compose stack test: $passed passed, 0 failed"
