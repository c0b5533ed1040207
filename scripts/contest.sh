#!/usr/bin/env bash
# The contest natively on this machine, as compose.yaml runs it, in one command:
#   two payment-processor emulators (outside the budget, free ports)
#   ledger, router              unix sockets in a temporary directory (as compose's volume)
#   edge1, edge2                TCP on free ports, behind the load balancer (HAProxy or nginx)
#   load balancer               127.0.0.1:--port (9999 by default; 0 picks a free one)
#   rinha-load                  the k6 test shape, timeline, audit and score
#   Prometheus (--prometheus)   outside the budget, scraping every service's /metrics once a
#                               second (router, ledger and HAProxy on free 127.0.0.1 ports, the
#                               edges on their HTTP port), with the dashboard
# Each budget service runs inside its own cgroup v1 group (cpu quota, memory + swap limit) with
# the limits read from compose.yaml by compose-limits, from its first instruction on. At the end
# cgroup-resources writes OUT/resources.json from the groups' counters, rinha-report draws
# OUT/report.html and prints the score, resources and machine tables, and everything is stopped
# and removed, also on Ctrl-C, SIGTERM or a service dying.
#
#   scripts/contest.sh [--test=final|preview] [--timeline=final|preview|reverse|both-fail|none]
#                      [--duration_s=N] [--max_vus=N] [--backend=ours|null] [--lb=haproxy|nginx]
#                      [--port=9999] [--out=DIR] [--build-dir=build] [--no-build]
#                      [--compose=compose.yaml] [--ready_timeout_s=30] [--stop_timeout_s=10]
#                      [--load_timeout_s=N]  (default: the test's duration + 120 s)
#                      [--router_flag=--name=value ...]  extra router flags, for tuning runs
#                      [--journal=on|off]  the edges' and router's crash-safety journals (on,
#                                 as compose.yaml runs them; off: for cost comparisons)
#                      [--fault=SERVICE@AT_S[+DOWN_S]]  kill SERVICE (router, ledger, edge1,
#                                 edge2, lb) AT_S seconds into the load and start it again, in its
#                                 group, DOWN_S seconds later (default 1); OUT/fault.json has the
#                                 times. Implies --check.
#                      [--fault_signal=KILL|TERM]  how it is killed (default KILL: a crash)
#                      [--fault_again_s=S]  once the killed service is back, kill it again S
#                                 seconds later (in the middle of its recovery) and start it
#                                 again DOWN_S later; OUT/fault.json's ready_at_s is the last
#                      [--check]  after the load, wait until the system is quiet and check every
#                                 payment's fate (rinha-check: lost, paid twice, unrecorded);
#                                 a failed check fails the run. OUT/check.json.
#                      [--probe]  also run stall-probe (outside the budget): how late a thread
#                                 sleeping 1 ms wakes up, per second, to tell the machine's own
#                                 stalls from ours (OUT/probe.json, a line in the summary
#                                 and a chart in report.html)
#                      [--prometheus]  also run Prometheus (outside the budget) on 127.0.0.1:
#                                 --prometheus_port, to watch the run: the dashboard at
#                                 /consoles/rinha.html (docs/operations.md); stopped, and its
#                                 data removed, with the rest
#                      [--prometheus_port=9090]  its port (0: a free one); implies --prometheus
# --backend=null replaces the edges with null-responder (no router or ledger): a floor run that
# measures the load generator and the load balancer only.
# Exit status: 0 when the run completed and no service died or hit its memory limit.
# Needs root (cgroups). RINHA_LOAD_CMD runs another load command in rinha-load's place, with
# rinha-load's arguments. RINHA_DEFAULT_FAULT='{"mode":...}' starts the default processor in that
# fault mode (the emulator's --fault; scripts/processor-faults.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD

test_name=final timeline="" duration_s="" max_vus="" backend=ours lb=haproxy port=9999
out="" build_dir=build build=1 compose=compose.yaml ready_timeout_s=30 stop_timeout_s=10
load_timeout_s="" probe=0 journal=on fault="" fault_signal=KILL check=0 prometheus=0
prometheus_port=9090
router_extra=()
usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'; }
for arg in "$@"; do
  case "$arg" in
    --test=*) test_name=${arg#*=} ;;
    --timeline=*) timeline=${arg#*=} ;;
    --duration_s=*) duration_s=${arg#*=} ;;
    --max_vus=*) max_vus=${arg#*=} ;;
    --backend=*) backend=${arg#*=} ;;
    --lb=*) lb=${arg#*=} ;;
    --port=*) port=${arg#*=} ;;
    --out=*) out=${arg#*=} ;;
    --build-dir=* | --build_dir=*) build_dir=${arg#*=} ;;
    --no-build | --no_build) build=0 ;;
    --compose=*) compose=${arg#*=} ;;
    --ready_timeout_s=*) ready_timeout_s=${arg#*=} ;;
    --stop_timeout_s=*) stop_timeout_s=${arg#*=} ;;
    --load_timeout_s=*) load_timeout_s=${arg#*=} ;;
    --router_flag=*) router_extra+=("${arg#*=}") ;;
    --probe) probe=1 ;;
    --prometheus) prometheus=1 ;;
    --prometheus_port=*) prometheus_port=${arg#*=}; prometheus=1 ;;
    --journal=*) journal=${arg#*=} ;;
    --fault=*) fault=${arg#*=}; check=1 ;;
    --fault_signal=*) fault_signal=${arg#*=} ;;
    --fault_again_s=*) fault_again_s=${arg#*=} ;;
    --check) check=1 ;;
    -h | --help) usage; exit 0 ;;
    *) echo "contest.sh: unknown option $arg (--help lists them)" >&2; exit 2 ;;
  esac
done
case "$test_name" in final | preview) ;; *) echo "contest.sh: --test=final|preview" >&2; exit 2 ;; esac
case "$journal" in on | off) ;; *) echo "contest.sh: --journal=on|off" >&2; exit 2 ;; esac
case "$fault_signal" in KILL | TERM) ;; *) echo "contest.sh: --fault_signal=KILL|TERM" >&2; exit 2 ;; esac
fault_service="" fault_at_s="" fault_down_s=1
[[ "${fault_again_s:-}" =~ ^([0-9]+(\.[0-9]+)?)?$ ]] ||
  { echo "contest.sh: --fault_again_s=S (seconds)" >&2; exit 2; }
if [ -n "$fault" ]; then
  [[ "$fault" =~ ^(router|ledger|edge1|edge2|lb)@([0-9]+(\.[0-9]+)?)(\+([0-9]+(\.[0-9]+)?))?$ ]] ||
    { echo "contest.sh: --fault=SERVICE@AT_S[+DOWN_S] (router|ledger|edge1|edge2|lb)" >&2; exit 2; }
  fault_service=${BASH_REMATCH[1]} fault_at_s=${BASH_REMATCH[2]} fault_down_s=${BASH_REMATCH[5]:-1}
fi
case "$backend" in ours | null) ;; *) echo "contest.sh: --backend=ours|null" >&2; exit 2 ;; esac
case "$lb" in haproxy | nginx) ;; *) echo "contest.sh: --lb=haproxy|nginx" >&2; exit 2 ;; esac
[[ "$port" =~ ^[0-9]+$ ]] || { echo "contest.sh: --port=N" >&2; exit 2; }
[[ "$prometheus_port" =~ ^[0-9]+$ ]] || { echo "contest.sh: --prometheus_port=N" >&2; exit 2; }
[ "$(id -u)" -eq 0 ] || { echo "contest.sh: needs root for the cgroups" >&2; exit 2; }
command -v "$lb" >/dev/null || { echo "contest.sh: $lb not installed (scripts/install-deps.sh)" >&2; exit 2; }
if ((prometheus)) && ! command -v prometheus >/dev/null; then
  echo "contest.sh: prometheus not installed (scripts/install-deps.sh)" >&2; exit 2
fi

log() { printf '[contest %s] %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }

# ---------------------------------------------------------------------------------------------
# Build
targets=(ledger router edge payment-processor compose-limits cgroup-resources null-responder
  rinha-load rinha-report)
((probe)) && targets+=(stall-probe)
((check)) && targets+=(rinha-check)
if ((build)); then
  if [ ! -f "$build_dir/CMakeCache.txt" ]; then
    log "configuring $build_dir (Release)"
    cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
  fi
  log "building ${targets[*]}"
  cmake --build "$build_dir" -j "${RINHA_BUILD_JOBS:-$(nproc)}" --target "${targets[@]}" >/dev/null
fi
bin_ledger=$build_dir/ledger/ledger
bin_router=$build_dir/router/router
bin_edge=$build_dir/edge/edge
bin_processor=$build_dir/processor/payment-processor
bin_limits=$build_dir/contest/runner/compose-limits
bin_resources=$build_dir/contest/runner/cgroup-resources
bin_null=$build_dir/contest/runner/null-responder
bin_load=$build_dir/contest/load/rinha-load
bin_report=$build_dir/contest/report/rinha-report
bin_check=$build_dir/contest/load/rinha-check
bin_probe=$build_dir/contest/runner/stall-probe
needed=("$bin_ledger" "$bin_router" "$bin_edge" "$bin_processor" "$bin_limits" "$bin_resources"
  "$bin_null" "$bin_load" "$bin_report")
((probe)) && needed+=("$bin_probe")
((check)) && needed+=("$bin_check")
for b in "${needed[@]}"; do
  [ -x "$b" ] || { echo "contest.sh: $b missing (build it or drop --no-build)" >&2; exit 2; }
done

# ---------------------------------------------------------------------------------------------
# Limits: compose.yaml is the one source of truth.
declare -A cpu_limit mem_limit
limits_text=$("$bin_limits" "$compose") || { echo "contest.sh: limits of $compose rejected" >&2; exit 1; }
while read -r name cpus bytes; do
  cpu_limit[$name]=$cpus
  mem_limit[$name]=$bytes
done <<<"$limits_text"
for s in lb edge1 edge2 router ledger; do
  [ -n "${cpu_limit[$s]:-}" ] || { echo "contest.sh: $compose has no limits for $s" >&2; exit 1; }
done

# ---------------------------------------------------------------------------------------------
# State, clean-up and signals
[ -n "$out" ] || out=results/$(date -u +%Y%m%d-%H%M%S)
mkdir -p "$out/logs"
rm -f "$out/pids.txt"
out=$(cd "$out" && pwd)
state=""               # sockets, ledger database, rendered nginx.conf (made once traps are set)
group=rinha-contest-$$
declare -A pid_of      # service -> pid
cg_dirs=()             # every cgroup directory created (children before parents at removal)
status=0
cleaning=0
watchdog=""            # pid of the load generator's time limit

# The cgroup v1 hierarchies used and where this shell sits in each (the groups nest inside it,
# so limits the session itself runs under still apply). cpu and cpuacct may be one mount.
declare -A cg_base
for controller in cpu cpuacct memory; do
  mount_dir=/sys/fs/cgroup/$controller
  [ -d "$mount_dir" ] || { echo "contest.sh: cgroup v1 $controller not mounted at $mount_dir" >&2; exit 2; }
  own=$(awk -F: -v c="$controller" '{ n = split($2, a, ","); for (i = 1; i <= n; i++) if (a[i] == c) print $3 }' /proc/self/cgroup)
  cg_base[$controller]=$mount_dir${own%/}/$group
done

alive() {  # pid running (not a zombie)
  local stat
  stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
  stat=${stat##*) }
  [ "${stat:0:1}" != Z ]
}

# stop_pids PID...: SIGTERM to all, SIGKILL to those still running after --stop_timeout_s; reaps.
stop_pids() {
  local pid waited=0 running
  for pid in "$@"; do kill -TERM "$pid" 2>/dev/null || true; done
  while true; do
    running=()
    for pid in "$@"; do alive "$pid" && running+=("$pid"); done
    ((${#running[@]} == 0 || waited >= stop_timeout_s * 10)) && break
    sleep 0.1; waited=$((waited + 1))
  done
  for pid in "${running[@]}"; do
    log "pid $pid did not stop in ${stop_timeout_s}s: SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
  done
  for pid in "$@"; do wait "$pid" 2>/dev/null || true; done
}

cleanup() {
  local rc=$?
  # A second signal must not cut the clean-up short, nor a closed stdout (e.g. `| tail` killed
  # with us: SIGPIPE), nor a failing command.
  trap '' INT TERM PIPE
  set +e
  ((cleaning)) && return
  cleaning=1
  [ -z "$watchdog" ] || { kill -TERM "$watchdog" 2>/dev/null; wait "$watchdog" 2>/dev/null; }
  ((status == 0)) && status=$rc
  log "stopping"
  # As compose stops it, dependents first: load, load balancer, edges (together), router,
  # ledger, then the emulators.
  local stage s pids
  for stage in "load probe prometheus" lb "edge1 edge2" router ledger "processor-default processor-fallback"; do
    pids=()
    for s in $stage; do [ -n "${pid_of[$s]:-}" ] && pids+=("${pid_of[$s]}"); done
    ((${#pids[@]})) && stop_pids "${pids[@]}"
  done
  # Anything still inside our groups (e.g. an nginx worker whose master was killed) is ours.
  local dir pid
  for dir in "${cg_dirs[@]}"; do
    [ -f "$dir/cgroup.procs" ] || continue
    while read -r pid; do kill -KILL "$pid" 2>/dev/null || true; done <"$dir/cgroup.procs"
  done
  for ((i = ${#cg_dirs[@]} - 1; i >= 0; i--)); do
    dir=${cg_dirs[i]}
    [ -d "$dir" ] || continue
    for _ in $(seq 1 50); do rmdir "$dir" 2>/dev/null && break; sleep 0.1; done
    [ -d "$dir" ] && { log "could not remove cgroup $dir"; status=1; }
  done
  [ -z "$state" ] || rm -rf "$state"
  log "stopped (exit status $status)"
  exit "$status"
}
trap cleanup EXIT
trap 'status=130; exit 130' INT
trap 'status=143; exit 143' TERM
state=$(mktemp -d /tmp/rinha-contest.XXXXXX)

# make_group NAME [CPU MEMORY_BYTES]: a group in every hierarchy, limited when CPU is given.
make_group() {
  local name=$1 cpus=${2:-} bytes=${3:-} controller dir
  for controller in cpu cpuacct memory; do
    for dir in "${cg_base[$controller]}" "${cg_base[$controller]}/$name"; do
      if [ ! -d "$dir" ]; then mkdir "$dir"; cg_dirs+=("$dir"); fi
    done
  done
  [ -n "$cpus" ] || return 0
  dir=${cg_base[cpu]}/$name
  echo 100000 >"$dir/cpu.cfs_period_us"
  awk -v c="$cpus" 'BEGIN { printf "%d\n", c * 100000 + 0.5 }' >"$dir/cpu.cfs_quota_us"
  dir=${cg_base[memory]}/$name
  echo "$bytes" >"$dir/memory.limit_in_bytes"
  # Memory + swap at the same figure: the service cannot swap its way around the limit.
  if [ -f "$dir/memory.memsw.limit_in_bytes" ]; then echo "$bytes" >"$dir/memory.memsw.limit_in_bytes"; fi
}

# start SERVICE READY_PATTERN COMMAND...: runs COMMAND inside the group SERVICE from its first
# instruction (the subshell joins the groups, then execs), logs in OUT/logs, and waits for the
# readiness line on stdout. Prints nothing; the line stays in $state/SERVICE.ready.
declare -A cmd_of ready_of  # service -> its command (shell-quoted) and readiness pattern
log_suffix=""                # the fault job's restarts log to NAME.restart.out / .err
start() {
  local name=$1 ready=$2; shift 2
  cmd_of[$name]=$(printf '%q ' "$@")
  ready_of[$name]=$ready
  local procs=() controller
  for controller in cpu cpuacct memory; do procs+=("${cg_base[$controller]}/$name/cgroup.procs"); done
  (
    for f in "${procs[@]}"; do echo "$BASHPID" >"$f"; done
    # Own session: a terminal's Ctrl-C reaches only this script, which stops the services in
    # order. (A background child is no process-group leader, so setsid execs without a fork.)
    exec setsid "$@"
  ) >"$out/logs/$name$log_suffix.out" 2>"$out/logs/$name$log_suffix.err" </dev/null &
  pid_of[$name]=$!
  echo "$name ${pid_of[$name]}" >>"$out/pids.txt"  # lets a test check that none is left
  [ -n "$ready" ] || return 0
  local waited=0
  until grep -m1 "$ready" "$out/logs/$name$log_suffix.out" >"$state/$name.ready" 2>/dev/null; do
    if ! alive "${pid_of[$name]}"; then
      log "$name exited before it was ready ($(memory_note "$name")):"; tail -n 20 "$out/logs/$name.err" >&2; status=1; exit 1
    fi
    if ((waited >= ready_timeout_s * 20)); then
      log "$name not ready after ${ready_timeout_s}s:"; tail -n 20 "$out/logs/$name.err" >&2; status=1; exit 1
    fi
    sleep 0.05; waited=$((waited + 1))
  done
}
# "memory limit hit N times, M OOM kills" of a service's group (why it may have died).
memory_note() {
  local dir=${cg_base[memory]}/$1
  echo "memory limit hit $(cat "$dir/memory.failcnt" 2>/dev/null) times," \
    "$(awk '$1 == "oom_kill" { print $2 }' "$dir/memory.oom_control" 2>/dev/null) OOM kills"
}
ready_port() { grep -o "$2=[0-9]*" "$state/$1.ready" | head -1 | cut -d= -f2; }
# The journal directory of a service (--journal=off: none, which the binaries take as "no journal").
journal_dir() { [ "$journal" = on ] && echo "$state/$1-journal"; }

# shellcheck source=scripts/free-port.sh
source "$repo/scripts/free-port.sh"
# shellcheck source=scripts/prometheus.sh
source "$repo/scripts/prometheus.sh"

# ---------------------------------------------------------------------------------------------
# Start, in compose's dependency order.
if [ "$test_name" = final ]; then fees=(0.07 0.10); else fees=(0.05 0.15); fi
make_group processor-default
make_group processor-fallback
start processor-default "listening" "$bin_processor" --listen=127.0.0.1:0 --fee="${fees[0]}" --token=123 \
  ${RINHA_DEFAULT_FAULT:+"--fault=$RINHA_DEFAULT_FAULT"}
start processor-fallback "listening" "$bin_processor" --listen=127.0.0.1:0 --fee="${fees[1]}" --token=123
default_port=$(ready_port processor-default port)
fallback_port=$(ready_port processor-fallback port)
log "processors: default :$default_port (fee ${fees[0]}), fallback :$fallback_port (fee ${fees[1]})"

for s in lb edge1 edge2 router ledger; do make_group "$s" "${cpu_limit[$s]}" "${mem_limit[$s]}"; done
router_port="" router_metrics="" ledger_metrics=""
if [ "$backend" = ours ]; then
  # Metrics on loopback ports picked here (not the binaries' 0.0.0.0 defaults): a restarted
  # service (--fault) gets the same one, and runs side by side do not collide.
  ledger_metrics=127.0.0.1:$(free_port) router_metrics=127.0.0.1:$(free_port)
  start ledger "listening" "$bin_ledger" --listen=127.0.0.1:0 --unix_socket="$state/ledger.sock" \
    --db_path="$state/ledger.db" --metrics_listen="$ledger_metrics"
  start router "listening" "$bin_router" --listen=127.0.0.1:0 --unix_socket="$state/router.sock" \
    --ledger="unix:$state/ledger.sock" --metrics_listen="$router_metrics" \
    --processor_default_url="http://127.0.0.1:$default_port" \
    --processor_fallback_url="http://127.0.0.1:$fallback_port" \
    --journal_dir="$(journal_dir router)" ${router_extra[@]+"${router_extra[@]}"}
  router_port=$(ready_port router tcp_port)
  for e in edge1 edge2; do
    start "$e" "listening" "$bin_edge" --listen=127.0.0.1:0 --router="unix:$state/router.sock" \
      --ledger="unix:$state/ledger.sock" --journal_dir="$(journal_dir "$e")"
  done
else
  for e in edge1 edge2; do start "$e" "listening" "$bin_null" --listen=127.0.0.1:0; done
fi
edge1_port=$(ready_port edge1 port)
edge2_port=$(ready_port edge2 port)

export EDGE1_ADDR=127.0.0.1:$edge1_port EDGE2_ADDR=127.0.0.1:$edge2_port
# start_lb: starts the load balancer on $port and waits for readiness as the official runner
# checks it (GET /payments-summary answers below 400). Returns 1 when the load balancer exits
# first (its log is in OUT/logs/lb.err); exits the script when it is not ready in time.
start_lb() {
  local metrics_port
  metrics_port=$(free_port) || { status=1; exit 1; }
  export LB_BIND=127.0.0.1:$port LB_METRICS_BIND=127.0.0.1:$metrics_port
  target=http://127.0.0.1:$port
  if [ "$lb" = haproxy ]; then
    start lb "" haproxy -db -f "$repo/config/haproxy.cfg"
  else
    mkdir -p "$state/nginx"
    # shellcheck disable=SC2016  # the names are for envsubst, not for this shell
    envsubst '${LB_BIND} ${EDGE1_ADDR} ${EDGE2_ADDR}' <"$repo/config/nginx.conf" >"$state/nginx/nginx.conf"
    start lb "" nginx -p "$state/nginx" -c "$state/nginx/nginx.conf" -e stderr -g 'daemon off;'
  fi
  local waited=0 code
  until code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 3 "$target/payments-summary") &&
    ((code > 0 && code < 400)); do
    alive "${pid_of[lb]}" || return 1
    if ((waited >= ready_timeout_s * 10)); then
      log "$target/payments-summary not ready after ${ready_timeout_s}s"; status=1; exit 1
    fi
    sleep 0.1; waited=$((waited + 1))
  done
}
lb_failed() { log "lb exited:"; tail -n 20 "$out/logs/lb.err" >&2; status=1; exit 1; }
if ((port == 0)); then
  # A picked port can still be taken between the pick and the bind: pick another then.
  for attempt in 1 2 3 4 5; do
    port=$(free_port) || { status=1; exit 1; }
    start_lb && break
    { ((attempt < 5)) && grep -q "in use" "$out/logs/lb.err"; } || lb_failed
    log "lb: port $port was taken before it could bind; picking another"
    wait "${pid_of[lb]}" 2>/dev/null || true
  done
else
  if ss -Htln "sport = :$port" | grep -q .; then
    echo "contest.sh: port $port is taken (--port=0 picks a free one)" >&2; status=1; exit 1
  fi
  start_lb || lb_failed
fi
log "ready: $lb on $target -> edges :$edge1_port :$edge2_port ($backend)${router_port:+, router stats 127.0.0.1:$router_port}"

# ---------------------------------------------------------------------------------------------
# Prometheus, outside the budget: every service's /metrics once a second (null-responder has
# none; nginx no exporter).
if ((prometheus)); then
  lb_metrics=""
  [ "$lb" = haproxy ] && lb_metrics=$LB_METRICS_BIND
  edge_metrics=("127.0.0.1:$edge1_port" "127.0.0.1:$edge2_port")
  [ "$backend" = ours ] || edge_metrics=("" "")
  prometheus_config "$state/prometheus.yml" "${edge_metrics[@]}" "$router_metrics" \
    "$ledger_metrics" "$lb_metrics"
  if ((prometheus_port == 0)); then prometheus_port=$(free_port) || { status=1; exit 1; }; fi
  if ss -Htln "sport = :$prometheus_port" | grep -q .; then
    log "port $prometheus_port is taken (--prometheus_port=0 picks a free one)"; status=1; exit 1
  fi
  prometheus_command "$state/prometheus.yml" "$state/prometheus" "127.0.0.1:$prometheus_port"
  make_group prometheus
  start prometheus "" "${prometheus_cmd[@]}"
  prometheus_url=http://127.0.0.1:$prometheus_port
  if ! prometheus_wait_ready "$prometheus_url" "$ready_timeout_s" "${pid_of[prometheus]}"; then
    log "prometheus not ready:"; tail -n 20 "$out/logs/prometheus.err" >&2; status=1; exit 1
  fi
  log "prometheus on $prometheus_url, scraping every second:"
  prometheus_banner "$prometheus_url" >&2
fi

# ---------------------------------------------------------------------------------------------
# Load
load_args=(--target="$target" --default_processor="http://127.0.0.1:$default_port"
  --fallback_processor="http://127.0.0.1:$fallback_port" --admin_token=123 --test="$test_name"
  --out="$out")
[ -n "$timeline" ] && load_args+=(--timeline="$timeline")
[ -n "$duration_s" ] && load_args+=(--duration_s="$duration_s")
[ -n "$max_vus" ] && load_args+=(--max_vus="$max_vus")
[ -n "$router_port" ] && load_args+=(--router_stats="127.0.0.1:$router_port")
((check)) && load_args+=(--requests_out="$out/requests.log" --started_file="$state/load.started")

if ((probe)); then
  make_group probe
  start probe "listening" "$bin_probe" --out="$out/probe.json"
fi

now_ms() { date +%s%3N; }
# The fault: kills $fault_service at $fault_at_s into the load, starts it again $fault_down_s
# later with the same command (an edge or the router on the same TCP port it had, so that the
# load balancer and the stats poller find it), waits until it is ready, and writes
# OUT/fault.json with the times in seconds since the load began. Runs in the background; the
# main loop below expects that one process to die.
fault_job() {
  local svc=$fault_service started first_killed
  until [ -s "$state/load.started" ]; do sleep 0.02; done
  started=$(cat "$state/load.started")
  sleep "$(awk -v s="$started" -v a="$fault_at_s" -v n="$(now_ms)" \
    'BEGIN { w = (s + a * 1000 - n) / 1000; printf "%.3f", (w > 0 ? w : 0) }')"
  kill_and_restart
  first_killed=$killed
  if [ -n "${fault_again_s:-}" ]; then
    sleep "$fault_again_s"
    kill_and_restart
  fi
  jq -n --arg s "$svc" --arg sig "$fault_signal" --argjson k $((first_killed - started)) \
    --argjson r $((restarted - started)) --argjson y $((ready_ms - started)) \
    --argjson k2 "$([ -n "${fault_again_s:-}" ] && echo $((killed - started)) || echo null)" \
    '{service: $s, signal: $sig, killed_at_s: ($k / 1000), restarted_at_s: ($r / 1000),
      ready_at_s: ($y / 1000), killed_again_at_s: (if $k2 == null then null else $k2 / 1000 end)}' \
    >"$out/fault.json"
}
# One kill of $fault_service and its restart (fault_job's variables: svc, killed, restarted,
# ready_ms).
kill_and_restart() {
  local pid=${pid_of[$svc]}
  killed=$(now_ms)
  echo "[contest] fault: SIG$fault_signal to $svc (pid $pid)" >&2
  kill -"$fault_signal" "$pid" 2>/dev/null || true
  while alive "$pid"; do sleep 0.01; done
  sleep "$fault_down_s"
  local cmd=${cmd_of[$svc]} p
  for p in port tcp_port; do  # same TCP port as before
    local old; old=$(ready_port "$svc" "$p" 2>/dev/null || true)
    [ -n "$old" ] && cmd=${cmd//--listen=127.0.0.1:0/--listen=127.0.0.1:$old}
  done
  restarted=$(now_ms)
  log_suffix=.restart${log_suffix:+2}  # .restart, then .restart2
  eval "start \"$svc\" \"\${ready_of[$svc]}\" $cmd"
  if [ "$svc" = lb ]; then
    until code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 1 "$target/payments-summary") &&
      ((code > 0 && code < 400)); do sleep 0.02; done
  fi
  ready_ms=$(now_ms)
  echo "[contest] fault: $svc back (pid ${pid_of[$svc]}) after $((ready_ms - killed)) ms" >&2
}
load_cmd=${RINHA_LOAD_CMD:-$bin_load}
make_group load
log "load: $load_cmd ${load_args[*]}"
start load "" "$load_cmd" "${load_args[@]}"
if [ -z "$load_timeout_s" ]; then
  if [ -n "$duration_s" ]; then load_timeout_s=$((duration_s + 120));
  elif [ "$test_name" = final ]; then load_timeout_s=420; else load_timeout_s=180; fi
fi
# A load generator that hangs must not hold the machine: SIGTERM it after --load_timeout_s.
(
  sleep "$load_timeout_s" &
  sleeper=$!
  trap 'kill "$sleeper" 2>/dev/null; exit 0' TERM
  wait "$sleeper" || exit 0
  echo "[contest] load generator still running after ${load_timeout_s}s: SIGTERM" >&2
  kill -TERM "${pid_of[load]}" 2>/dev/null
) &
watchdog=$!
# The load generator's progress, live (it flushes each line); ends with the load generator.
tail -n +1 -F --pid="${pid_of[load]}" "$out/logs/load.out" 2>/dev/null &
progress=$!
faulted_pid=""
if [ -n "$fault_service" ]; then
  faulted_pid=${pid_of[$fault_service]}
  fault_job &
  fault_job_pid=$!
fi
load_rc=""
# Until the load ends, any service exiting aborts the run.
while [ -z "$load_rc" ]; do
  rc=0
  wait -n -p done_pid "${pid_of[@]}" 2>/dev/null || rc=$?  # no "Killed" job notices
  [ -n "${done_pid:-}" ] || continue  # interrupted by a signal that has no trap of ours
  if [ "$done_pid" = "$faulted_pid" ]; then
    unset "pid_of[$fault_service]"  # the fault job's restart is stopped with its group
    continue
  elif [ "$done_pid" = "${pid_of[load]}" ]; then
    load_rc=$rc
  else
    for s in "${!pid_of[@]}"; do
      [ "${pid_of[$s]}" = "$done_pid" ] || continue
      log "$s exited (status $rc; $(memory_note "$s")) during the run:"; tail -n 20 "$out/logs/$s.err" >&2
    done
    status=1
    exit 1
  fi
done
wait "$progress" 2>/dev/null || true
((load_rc == 0)) || { log "load generator failed (status $load_rc):"; tail -n 20 "$out/logs/load.err" >&2; status=1; }
if [ -n "$fault_service" ]; then
  wait "$fault_job_pid" || { log "the fault job failed"; status=1; }
  [ -s "$out/fault.json" ] || { log "no $out/fault.json: the fault did not happen"; status=1; }
fi
if ((check)) && [ "$backend" = ours ]; then
  check_args=(--run_dir="$out" --ledger="unix:$state/ledger.sock" --router="127.0.0.1:$router_port"
    --default_processor="http://127.0.0.1:$default_port"
    --fallback_processor="http://127.0.0.1:$fallback_port")
  if [ -s "$out/fault.json" ]; then
    check_args+=(--fault_at_s="$(jq .killed_at_s "$out/fault.json")"
      --ready_at_s="$(jq .ready_at_s "$out/fault.json")")
  fi
  log "check: waiting for quiet, then every payment's fate"
  "$bin_check" "${check_args[@]}" >"$out/logs/check.out" 2>"$out/logs/check.err" ||
    { log "check FAILED:"; cat "$out/logs/check.err" >&2; status=1; }
fi
if ((probe)); then
  stop_pids "${pid_of[probe]}"
  [ -s "$out/probe.json" ] || { log "stall-probe wrote no $out/probe.json"; status=1; }
fi

# ---------------------------------------------------------------------------------------------
# Resources, read while the services still run (a dead one has already failed the run above).
services=""
for s in lb edge1 edge2 router ledger processor-default processor-fallback load; do
  [ -n "${pid_of[$s]:-}" ] && services+=${services:+,}$s
done
# Exit status 3: a limited service hit its memory limit, which fails the run.
hits=$("$bin_resources" --compose="$compose" --cpu="${cg_base[cpu]}" \
  --cpuacct="${cg_base[cpuacct]}" --memory="${cg_base[memory]}" --services="$services" \
  --out="$out/resources.json" 2>&1) || status=1
[ -z "$hits" ] || log "$hits"

# The page and the tables, from the files the run wrote.
report_args=(--resources="$out/resources.json")
if [ -f "$out/final-results.json" ]; then
  report_args+=(--results="$out/final-results.json")
else
  log "no final-results.json"; status=1
fi
if [ -f "$out/run.json" ]; then
  report_args+=(--run="$out/run.json")
  # Not a probe.json left in a reused --out by an earlier run.
  ((probe)) && [ -s "$out/probe.json" ] && report_args+=(--probe="$out/probe.json")
  "$bin_report" "${report_args[@]}" --out="$out/report.html" >/dev/null ||
    log "rinha-report failed (the run itself is unaffected)"
fi
echo
"$bin_report" --tables "${report_args[@]}" || status=1
echo
echo "results in $out"
