#!/usr/bin/env bash
# Hostile clients beside the contest's valid load: one scripts/contest.sh run per scenario
# (--timeline=none --port=0 --check, every service under compose.yaml's limits), the attack run by
# scripts/hostile-load.sh (rinha-hostile) against the load balancer or edge1 directly, then a
# table: valid requests, failures, p99 against the baseline run (no attack), every payment's fate
# from rinha-check (lost, paid twice, paid while its client saw a failure) and the audit's
# inconsistencies.
#
#   scripts/hostile.sh [--short] [--scenarios=NAME,...] [--duration_s=60] [--max_vus=603]
#                      [--out=DIR] [--build-dir=build] [--no-build] [--max_failed=0] [--list]
#
# --short (CI, about 3 minutes): baseline, then every attack at once against the load balancer,
# then every attack at once against edge1, 20 s each. Without it: the baseline, each attack alone
# against each target, and the baseline again (the machine's own drift), 60 s each.
# Fails (exit 1) when a run fails (a service died or hit its memory limit, the check failed), or
# the valid load lost a payment, had one paid twice or paid while its client saw a failure, the
# audit found an inconsistency, or had more than --max_failed failed requests (none by default:
# an attack must cost the valid clients nothing but latency). p99 is reported, not asserted (the
# machine is shared).
set -euo pipefail
cd "$(dirname "$0")/.."

short=0 only="" duration_s="" max_vus=603 out="" build_dir=build build=1 max_failed=0 list=0
for arg in "$@"; do
  case "$arg" in
    --short) short=1 ;;
    --scenarios=*) only=${arg#*=} ;;
    --duration_s=*) duration_s=${arg#*=} ;;
    --max_vus=*) max_vus=${arg#*=} ;;
    --out=*) out=${arg#*=} ;;
    --build-dir=* | --build_dir=*) build_dir=${arg#*=} ;;
    --no-build | --no_build) build=0 ;;
    --max_failed=*) max_failed=${arg#*=} ;;
    --list) list=1 ;;
    -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "hostile.sh: unknown option $arg (--help)" >&2; exit 2 ;;
  esac
done

# name|target|attack (rinha-hostile --attack specs, ';'-separated; empty: no attack)
lb_mix='slow-head:conns=300;slow-body:conns=300;half-open:conns=300;idle:conns=300;big-head:conns=4;big-body:conns=4;invalid:conns=16,rate=1000;reset:rate=200'
edge_mix='slow-head:conns=16;slow-body:conns=16;half-open:conns=16;idle:conns=16;big-head:conns=4;big-body:conns=4;invalid:conns=8,rate=500;reset:rate=100'
if ((short)); then
  scenarios=(
    "baseline|-|"
    "lb-all|lb|$lb_mix"
    "edge1-all|edge1|$edge_mix"
  )
  : "${duration_s:=20}"
else
  scenarios=(
    "baseline|-|"
    "lb-slow-head|lb|slow-head:conns=1000"
    "lb-slow-body|lb|slow-body:conns=1000"
    "lb-half-open|lb|half-open:conns=1000"
    "lb-idle|lb|idle:conns=1000"
    "lb-big-head|lb|big-head:conns=8"
    "lb-big-body|lb|big-body:conns=8"
    "lb-invalid|lb|invalid:conns=32,rate=2000"
    "lb-reset|lb|reset:rate=500"
    "edge1-slow-head|edge1|slow-head:conns=64"
    "edge1-slow-body|edge1|slow-body:conns=64"
    "edge1-half-open|edge1|half-open:conns=64"
    "edge1-idle|edge1|idle:conns=64"
    "edge1-big-head|edge1|big-head:conns=8"
    "edge1-big-body|edge1|big-body:conns=8"
    "edge1-invalid|edge1|invalid:conns=16,rate=1000"
    "edge1-reset|edge1|reset:rate=300"
    "baseline-again|-|"
  )
  : "${duration_s:=60}"
fi
if ((list)); then printf '%s\n' "${scenarios[@]}"; exit 0; fi
if [ -n "$only" ]; then
  picked=()
  for s in "${scenarios[@]}"; do
    name=${s%%|*}
    [[ ",$only," == *",$name,"* || "$name" == baseline ]] && picked+=("$s")
  done
  scenarios=("${picked[@]}")
fi
[ -n "$out" ] || out=results/hostile-$(date -u +%Y%m%d-%H%M%S)
mkdir -p "$out"
out=$(cd "$out" && pwd)

if ((build)); then
  cmake --build "$build_dir" -j "${RINHA_BUILD_JOBS:-$(nproc)}" --target ledger router edge \
    payment-processor compose-limits null-responder rinha-load rinha-check rinha-hostile >/dev/null
fi
log() { printf '[hostile %s] %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
log "$(uptime | sed 's/.*load average/load average/')"

status=0
rows=()
base_p99=""
for s in "${scenarios[@]}"; do
  IFS='|' read -r name target attack <<<"$s"
  dir=$out/$name
  log "$name: ${attack:-no attack}${attack:+ -> $target}"
  rc=0
  RINHA_LOAD_CMD=scripts/hostile-load.sh RINHA_BUILD_DIR=$build_dir RINHA_ATTACK=$attack \
    RINHA_ATTACK_TARGET=${target/-/lb} \
    scripts/contest.sh --timeline=none --duration_s="$duration_s" --max_vus="$max_vus" \
    --port=0 --check --no-build --build-dir="$build_dir" --out="$dir" >"$dir.log" 2>&1 || rc=$?
  summary=$(jq -c '.summary' "$dir/run.json" 2>/dev/null || echo '{}')
  check=$(cat "$dir/check.json" 2>/dev/null || echo '{}')
  requests=$(jq -r '.requests // "-"' <<<"$summary")
  failed=$(jq -r '.failed // "-"' <<<"$summary")
  p99=$(jq -r '.p99_ms // "-"' <<<"$summary")
  incons=$(jq -r '.inconsistencies // "-"' <<<"$summary")
  lost=$(jq -r '.lost // "-"' <<<"$check")
  twice=$(jq -r '.paid_twice // "-"' <<<"$check")
  paid_failed=$(jq -r '.paid_client_failed // "-"' <<<"$check")
  mem() { jq -r --arg n "$1" '.services[] | select(.name == $n) |
    (.memory_peak_bytes / 1048576 * 10 | round / 10)' "$dir/resources.json" 2>/dev/null || echo -; }
  answers=$(jq -r '[.attacks[].responses | to_entries[] | "\(.key):\(.value)"] |
    group_by(split(":")[0]) | map("\(.[0] | split(":")[0]):\(map(split(":")[1] | tonumber) | add)") |
    join(",")' "$dir/attack.json" 2>/dev/null || echo -)
  verdict=ok
  if ((rc != 0)); then verdict="run failed: $(grep -m1 -E '^\[contest [0-9:]+\] .*(exited|FAILED|failed|memory limit)' "$dir.log" |
    sed 's/^\[contest [0-9:]*\] //' || echo "status $rc")"; fi
  for v in "$lost" "$twice" "$paid_failed"; do
    [ "$v" = 0 ] || [ "$verdict" != ok ] || verdict="payment check failed"
  done
  [ "$incons" = 0 ] || [ "$verdict" != ok ] || verdict="$incons inconsistencies"
  if [ "$failed" = - ] || ((failed > max_failed)); then
    [ "$verdict" = ok ] && verdict="$failed failed > $max_failed"
  fi
  [ "$verdict" = ok ] || status=1
  delta=-
  if [ "$name" = baseline ]; then base_p99=$p99; elif [ -n "$base_p99" ] && [ "$p99" != - ] && [ "$base_p99" != - ]; then
    delta=$(awk -v a="$p99" -v b="$base_p99" 'BEGIN { printf "%+.2f", a - b }')
  fi
  rows+=("| $name | ${attack:+$target} | ${attack:--} | $requests | $failed | $p99 | $delta | $lost | $twice | $paid_failed | $incons | $(mem lb) | $(mem edge1) | ${answers:--} | $verdict |")
  log "$name: $requests valid, $failed failed, p99 $p99 ms, lost $lost, paid twice $twice, paid+failed $paid_failed, inconsistencies $incons: $verdict"
done

{
  echo "Hostile clients beside the valid load ($max_vus VUs, ${duration_s}s ramp, timeline none); $(date -u +%FT%TZ)"
  echo
  echo "| scenario | target | attack | valid requests | failed | p99 ms | vs baseline | lost | paid twice | paid, client failed | inconsistencies | lb MB | edge1 MB | attack answered | verdict |"
  echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"
  printf '%s\n' "${rows[@]}"
} | tee "$out/table.md"
echo "runs in $out"
exit "$status"
