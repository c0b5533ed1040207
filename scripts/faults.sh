#!/usr/bin/env bash
# Crash a service in the middle of the contest load and check that nothing accepted was lost,
# nothing was paid twice and the ledger holds exactly what the processors hold. Each scenario is
# one scripts/contest.sh run (the `faults` timeline: normal, then a slow default with hundreds
# of payments in flight, then both processors failing, then default failing, then recovery) with
# --fault, checked by
# rinha-check once the system is quiet. Prints one table row per scenario; exits 1 when any
# scenario lost or double-paid a payment, left the ledger different from the processors (a
# payment paid and not recorded, or recorded and not paid), or failed to run. Beside the fate of
# the payments the row says how quickly the ledger caught up: the record lag (how long after a
# processor held a payment the ledger recorded it; p99 and max over every payment) and how long
# after the killed service was back the ledger held every payment the processors held then.
#
#   scripts/faults.sh [--short] [--scenarios=a,b,...] [--out=DIR] [--build-dir=build] [--no-build]
#
# Scenarios (the service is killed with SIGKILL unless said otherwise, and restarted 1 s later):
#   router-slow       the router, while default is slow: hundreds of POSTs in flight, ambiguous
#   router-both-fail  the router, while both processors fail: its queue is full
#   router-default-fail  the router, while default fails (everything goes to the fallback)
#   router-twice      the router while default is slow, and again 2 s after it is back: killed
#                     in the middle of its recovery
#   router-term       the router, SIGTERM (docker stop) while default is slow
#   ledger            the ledger, while default is slow
#   edge              edge1, while default is slow
#   lb                HAProxy, while default is slow (clients in flight see errors)
# --short: 30 s runs with up to 300 virtual users (CI); default 60 s and 600.
# Needs root (cgroups), like scripts/contest.sh.
set -euo pipefail
cd "$(dirname "$0")/.."

short=0 out="" build_dir=build build=1
scenarios=router-slow,router-both-fail,router-default-fail,router-twice,router-term,ledger,edge,lb
for arg in "$@"; do
  case "$arg" in
    --short) short=1 ;;
    --scenarios=*) scenarios=${arg#*=} ;;
    --out=*) out=${arg#*=} ;;
    --build-dir=* | --build_dir=*) build_dir=${arg#*=} ;;
    --no-build | --no_build) build=0 ;;
    -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "faults.sh: unknown option $arg (--help lists them)" >&2; exit 2 ;;
  esac
done
[ -n "$out" ] || out=results/faults-$(date -u +%Y%m%d-%H%M%S)
mkdir -p "$out"

if ((build)); then
  bash scripts/install-deps.sh
  cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
  cmake --build "$build_dir" -j "$(nproc)"
fi

if ((short)); then duration=30 vus=300; else duration=60 vus=600; fi
# The faults timeline (contest/load/timeline.h) scaled to the duration: default slow from 1/6 to
# 5/12 of the run, both failing from 5/12 to 7/12, default failing from 7/12 to 3/4.
slow_at=$(awk -v d="$duration" 'BEGIN { printf "%.1f", d * 0.30 }')
both_at=$(awk -v d="$duration" 'BEGIN { printf "%.1f", d * 0.53 }')
default_fail_at=$(awk -v d="$duration" 'BEGIN { printf "%.1f", d * 0.67 }')

declare -A fault_of signal_of again_of
fault_of[router-slow]=router@$slow_at;      signal_of[router-slow]=KILL
fault_of[router-both-fail]=router@$both_at; signal_of[router-both-fail]=KILL
fault_of[router-default-fail]=router@$default_fail_at; signal_of[router-default-fail]=KILL
fault_of[router-twice]=router@$slow_at;     signal_of[router-twice]=KILL; again_of[router-twice]=2
fault_of[router-term]=router@$slow_at;      signal_of[router-term]=TERM
fault_of[ledger]=ledger@$slow_at;           signal_of[ledger]=KILL
fault_of[edge]=edge1@$slow_at;              signal_of[edge]=KILL
fault_of[lb]=lb@$slow_at;                   signal_of[lb]=KILL

failed=0
rows=()
IFS=, read -r -a list <<<"$scenarios"
for s in "${list[@]}"; do
  [ -n "${fault_of[$s]:-}" ] || { echo "faults.sh: unknown scenario $s" >&2; exit 2; }
  echo "=== $s: ${signal_of[$s]} ${fault_of[$s]} (${duration} s, up to $vus VUs)"
  rc=0
  bash scripts/contest.sh --no-build --build-dir="$build_dir" --port=0 --timeline=faults \
    --duration_s="$duration" --max_vus="$vus" --fault="${fault_of[$s]}+1" \
    --fault_signal="${signal_of[$s]}" ${again_of[$s]:+--fault_again_s=${again_of[$s]}} \
    --out="$out/$s" >"$out/$s.log" 2>&1 || rc=$?
  if [ ! -s "$out/$s/check.json" ]; then
    echo "faults.sh: $s did not complete (exit $rc); last lines of $out/$s.log:" >&2
    tail -n 30 "$out/$s.log" >&2
    failed=1
    rows+=("$s	-	-	-	-	-	-	-	-	-	-	-	-	-	FAILED TO RUN")
    continue
  fi
  ((rc == 0)) || failed=1
  audits=$(jq '.multa.composicao.num_inconsistencias' "$out/$s/final-results.json" 2>/dev/null || echo "?")
  rows+=("$(jq -r --arg s "$s" --arg a "$audits" --argjson rc "$rc" '
    [$s, .answered_2xx, .settled, .lost, .paid_twice, .unrecorded, .paid_client_failed, $a,
     .inconsistencies_after_quiet, "\(.p99_before_ms) / \(.p99_during_ms)",
     "\((.ready_at_s - .fault_at_s) * 1000 | round) ms",
     (if .recorded_after_ready_max_ms == null then "-"
      elif .held_at_ready_unrecorded > 0 then "never (\(.held_at_ready_unrecorded) unrecorded)"
      else (.recorded_after_ready_max_ms / 100 | round) / 10 end),
     (if (.record_lag_samples // 0) == 0 then "-"
      else "\(.record_lag_p99_ms) / \(.record_lag_max_ms)" end),
     "\(.quiet_after_s) s",
     (if .exact and $rc == 0 then "ok" else "FAIL" end)] | @tsv' "$out/$s/check.json")")
done

{
  printf 'scenario\t2xx\tsettled\tlost\tpaid twice\tpaid, not recorded\tpaid, client saw failure\t'
  printf 'inconsistencies (audits)\tafter quiet\tp99 before / during (ms)\tback after\t'
  printf 'caught up after restart (s)\trecord lag p99 / max (ms)\tquiet after\tresult\n'
  printf '%s\n' "${rows[@]}"
} | tee "$out/table.tsv" | column -t -s $'\t'
echo "results in $out"
exit "$failed"
