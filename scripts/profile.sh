#!/usr/bin/env bash
# Profiles a running stack with perf: where each service's CPU goes, as flame graphs and tables.
#
#   scripts/profile.sh [--label=NAME] [--seconds=25] [--frequency=499]
#                      [--call_graph=dwarf|dwarf,BYTES|fp] [--out_dir=docs/flame]
#                      [--work_dir=/tmp/profile-LABEL] [--min_pct=0.1]
#                      [--services=haproxy,edge,router,ledger] [--match=STRING]
#                      [--load_log=FILE --at_s=S]
#   scripts/profile.sh --self-test      scripts/flamegraph.py's own test
#
# Finds the processes by name (pgrep -x: haproxy, edge (both), router, ledger; exactly one
# stack, e.g. under scripts/contest.sh; --match keeps only those whose executable, working
# directory or command line contains STRING, such as the tree the run was started from), then
# for --seconds at once (with --load_log, from S seconds after FILE, scripts/contest.sh's output,
# shows the load starting: its "[contest HH:MM:SS] load:" line; rinha-load's own first line comes
# only with its first report, 10 s later):
#   perf record -F FREQ --call-graph dwarf -p <every service's pid>   (one perf for all)
#   perf stat per service: task-clock, context switches, migrations, page faults, syscalls
# and reads the edges' rinha_edge_http_requests_total for POST /payments (202) before and after,
# so that CPU per payment over the window can be given. Then writes, per service,
#   OUT_DIR/LABEL-SERVICE.svg      the flame graph (scripts/flamegraph.py)
#   WORK_DIR/SERVICE.table.txt     self time by category, kernel time by syscall, per thread,
#                                  top symbols
#   WORK_DIR/SERVICE.stat.txt      the perf stat counters
# and WORK_DIR/summary.txt: the window's payments, each service's CPU ms/s, µs per payment,
# context switches and syscalls per payment, and its category table.
#
# Profiling perturbs what it measures: on a 2-core machine perf's unwinding (dwarf copies 8 KB of
# stack per sample) competes with the services. Read the profiles for where time goes, not for
# scores or latencies. Needs root (perf on other processes, kernel stacks).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
label=profile seconds=25 frequency=499 call_graph=dwarf out_dir=$repo/docs/flame work_dir=""
min_pct=0.1 services=haproxy,edge,router,ledger match="" load_log="" at_s=0 started=""

usage() { awk 'NR > 1 && !/^#/ { exit } NR > 1 { sub(/^# ?/, ""); print }' "$0"; }
for arg in "$@"; do
  case $arg in
    --label=*) label=${arg#*=} ;;
    --seconds=*) seconds=${arg#*=} ;;
    --frequency=*) frequency=${arg#*=} ;;
    --call_graph=*) call_graph=${arg#*=} ;;
    --out_dir=*) out_dir=${arg#*=} ;;
    --work_dir=*) work_dir=${arg#*=} ;;
    --min_pct=*) min_pct=${arg#*=} ;;
    --services=*) services=${arg#*=} ;;
    --match=*) match=${arg#*=} ;;
    --load_log=*) load_log=${arg#*=} ;;
    --at_s=*) at_s=${arg#*=} ;;
    --self-test) exec python3 "$here/flamegraph.py" --self-test ;;
    -h | --help) usage; exit 0 ;;
    *) echo "profile.sh: unknown argument $arg" >&2; usage >&2; exit 2 ;;
  esac
done
[ -n "$work_dir" ] || work_dir=/tmp/profile-$label
# dwarf: perf copies 8 KB of each sample's user stack and unwinds it from the binaries' unwind
# tables (the Release build and Debian's libraries keep no frame pointers, so fp stops at the
# first frame); a deeper stack is cut there and its root shows as [unknown] (dwarf,16384 joins
# it, at twice the data).
case $call_graph in
  dwarf) cg=(--call-graph "dwarf,8192") ;;
  dwarf,[0-9]* | fp) cg=(--call-graph "$call_graph") ;;
  *) echo "profile.sh: --call_graph is dwarf, dwarf,BYTES or fp" >&2; exit 2 ;;
esac
command -v perf >/dev/null || { echo "profile.sh: perf is not installed" >&2; exit 1; }
mkdir -p "$out_dir" "$work_dir"

if [ -n "$load_log" ]; then
  echo "[profile] $label: waiting for the load to start ($load_log), then ${at_s}s" >&2
  until grep -qE '^\[contest [0-9:]+\] load: ' "$load_log" 2>/dev/null; do sleep 0.2; done
  started=$(date +%s%N)
  sleep "$(awk -v s="$started" -v a="$at_s" -v n="$(date +%s%N)" \
    'BEGIN { w = a - (n - s) / 1e9; printf "%.1f", (w > 0 ? w : 0) }')"
fi

# The processes: every pid of each service name; the edges become edge1, edge2 in the tables'
# fold but share one flame graph ("edge").
declare -A pids_of
all_pids=() service_args=()
IFS=, read -r -a wanted <<<"$services"
for svc in "${wanted[@]}"; do
  found=()
  for p in $(pgrep -x "$svc" || true); do
    if [ -n "$match" ]; then
      what="$(readlink "/proc/$p/exe" "/proc/$p/cwd" 2>/dev/null) $(tr '\0' ' ' \
        <"/proc/$p/cmdline" 2>/dev/null)" || true
      [[ $what == *"$match"* ]] || continue
    fi
    found+=("$p")
  done
  if [ "${#found[@]}" -eq 0 ]; then
    echo "profile.sh: no running $svc" >&2; exit 1
  fi
  expected=1; [ "$svc" = edge ] && expected=2
  if [ "${#found[@]}" -ne "$expected" ]; then
    echo "profile.sh: ${#found[@]} processes named $svc (expected $expected): is more than" \
      "one stack running? (--match)" >&2; exit 1
  fi
  pids_of[$svc]="${found[*]}"
  for p in "${found[@]}"; do all_pids+=("$p"); service_args+=(--service="$p=$svc"); done
done

# The edges' accepted POSTs so far (their own /metrics on their HTTP port).
edge_ports() {
  local p
  for p in ${pids_of[edge]:-}; do
    ss -Htlnp 2>/dev/null | grep "pid=$p," | awk '{print $4}' | sed 's/.*://' | head -n 1
  done
}
accepted() {
  local port sum=0 n
  for port in $(edge_ports); do
    n=$(curl -s -m 2 "http://127.0.0.1:$port/metrics" |
      awk '/^rinha_edge_http_requests_total\{/ && /route="\/payments"/ && /status="202"/ {s+=$2}
           END {printf "%d", s}') || n=0
    sum=$((sum + ${n:-0}))
  done
  echo "$sum"
}

pid_list=$(IFS=,; echo "${all_pids[*]}")
echo "[profile] $label: ${seconds}s of ${services} (pids $pid_list), perf -F $frequency" \
  "--call-graph $call_graph" >&2
before=$(accepted)
start_ns=$(date +%s%N)
stat_pids=()
for svc in "${wanted[@]}"; do
  perf stat -x, -o "$work_dir/$svc.stat.txt" \
    -e task-clock,context-switches,cpu-migrations,page-faults,raw_syscalls:sys_enter \
    -p "$(tr ' ' , <<<"${pids_of[$svc]}")" -- sleep "$seconds" 2>/dev/null &
  stat_pids+=($!)
done
perf record -q -F "$frequency" "${cg[@]}" -o "$work_dir/perf.data" -p "$pid_list" \
  -- sleep "$seconds" 2>"$work_dir/record.err" || {
  echo "profile.sh: perf record failed:" >&2; tail -n 5 "$work_dir/record.err" >&2; exit 1; }
for p in "${stat_pids[@]}"; do wait "$p" || true; done
end_ns=$(date +%s%N)
after=$(accepted)
payments=$((after - before))
window_s=$(awk -v a="$start_ns" -v b="$end_ns" 'BEGIN { printf "%.1f", (b - a) / 1e9 }')
into_load=""
[ -z "$started" ] || into_load=$(awk -v s="$started" -v a="$start_ns" -v b="$end_ns" \
  'BEGIN { printf " (t=%.0f-%.0f s of the load)", (a - s) / 1e9, (b - s) / 1e9 }')
echo "[profile] $label: recorded $(du -h "$work_dir/perf.data" | cut -f1), $payments payments" \
  "accepted in ${window_s}s; folding" >&2

perf script -i "$work_dir/perf.data" -F comm,pid,tid,period,event,ip,sym,dso --no-inline \
  2>"$work_dir/script.err" |
  python3 "$here/flamegraph.py" fold "${service_args[@]}" --out_dir="$work_dir"

summary=$work_dir/summary.txt
{
  echo "profile $label: $(date -u +%FT%TZ), ${window_s}s window$into_load," \
    "$payments payments accepted" \
    "($(awk -v p="$payments" -v w="$window_s" 'BEGIN { printf "%.0f", p / w }')/s)," \
    "perf -F $frequency --call-graph $call_graph"
  echo
  printf '%-8s %10s %12s %12s %12s %12s\n' service "CPU ms/s" "µs/payment" "switches/p" \
    "syscalls/p" "faults/p"
} >"$summary"
for svc in "${wanted[@]}"; do
  stat=$work_dir/$svc.stat.txt
  # perf stat -x, lines: value,unit,event,...
  field() { awk -F, -v e="$1" '$3 == e || $3 ~ "^"e"$" { print $1; exit }' "$stat"; }
  clock=$(field task-clock) switches=$(field context-switches) faults=$(field page-faults)
  syscalls=$(field raw_syscalls:sys_enter)
  awk -v svc="$svc" -v c="${clock:-0}" -v s="${switches:-0}" -v y="${syscalls:-0}" \
    -v f="${faults:-0}" -v p="$payments" -v w="$window_s" 'BEGIN {
      p = (p > 0 ? p : 1)
      printf "%-8s %10.1f %12.1f %12.2f %12.2f %12.3f\n", svc, c / w, c * 1000 / p, s / p, y / p,
        f / p }' >>"$summary"
done
for svc in "${wanted[@]}"; do
  folded=$work_dir/$svc.folded
  [ -s "$folded" ] || { echo "profile.sh: no samples for $svc" >&2; continue; }
  python3 "$here/flamegraph.py" table "$folded" >"$work_dir/$svc.table.txt"
  python3 "$here/flamegraph.py" svg "$folded" --min_pct="$min_pct" \
    --title="$svc, $label: ${window_s}s$into_load, $payments payments ($(date -u +%F))" \
    --out="$out_dir/$label-$svc.svg"
  { echo; echo "== $svc  ($out_dir/$label-$svc.svg, $(du -h "$out_dir/$label-$svc.svg" | cut -f1))"
    awk '/^samples/ { print } /^category/ { on = 1 } on && /^$/ { exit } on { print }' \
      "$work_dir/$svc.table.txt"; } >>"$summary"
done
cat "$summary"
