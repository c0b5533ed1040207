#!/usr/bin/env bash
# The load command of an attack run: rinha-hostile beside rinha-load, for scripts/contest.sh
# through its RINHA_LOAD_CMD hook (it passes rinha-load's arguments; this script adds nothing to
# contest.sh). The attack comes from the environment:
#   RINHA_ATTACK          rinha-hostile --attack specs, ';'-separated (empty: no attack, a baseline)
#   RINHA_ATTACK_TARGET   lb (default: the load balancer rinha-load is given) or edge1 (the first
#                         edge directly, from EDGE1_ADDR, which contest.sh exports)
#   RINHA_ATTACK_DELAY_S  start the attack this long after the load began (default 0: with the
#                         load's setup, its purge and readiness check included)
#   RINHA_ATTACK_DURATION_S  stop it after this long (default: when the load ends)
#   RINHA_BUILD_DIR       where the binaries are (default build)
# Its counts go to OUT/attack.json and its summary lines to the load's output. A surge's payments
# (valid ones) are appended to the load's --requests_out log, so that rinha-check (--check)
# follows their fate with the load's own.
#
#   RINHA_LOAD_CMD=scripts/hostile-load.sh RINHA_ATTACK='half-open:conns=500' \
#     scripts/contest.sh --timeline=none --duration_s=60 --max_vus=603 --port=0 --check
set -euo pipefail
build=${RINHA_BUILD_DIR:-build}
load=$build/contest/load/rinha-load
hostile=$build/contest/hostile/rinha-hostile
target="" out="" requests_out="" started_file=""
for arg in "$@"; do
  case "$arg" in
    --target=*) target=${arg#*=} ;;
    --out=*) out=${arg#*=} ;;
    --requests_out=*) requests_out=${arg#*=} ;;
    --started_file=*) started_file=${arg#*=} ;;
  esac
done
[ -x "$load" ] || { echo "hostile-load.sh: $load missing" >&2; exit 2; }

hostile_pid=""
if [ -n "${RINHA_ATTACK:-}" ]; then
  [ -x "$hostile" ] || { echo "hostile-load.sh: $hostile missing" >&2; exit 2; }
  case "${RINHA_ATTACK_TARGET:-lb}" in
    lb) attack_target=$target ;;
    edge1) attack_target=${EDGE1_ADDR:?EDGE1_ADDR not set (run through scripts/contest.sh)} ;;
    *) echo "hostile-load.sh: RINHA_ATTACK_TARGET=lb|edge1" >&2; exit 2 ;;
  esac
  attack_args=(--target="$attack_target" --attack="$RINHA_ATTACK")
  [ -n "$out" ] && attack_args+=(--out="$out/attack.json")
  [ -n "$requests_out" ] && attack_args+=(--requests_out="$requests_out.attack")
  [ -n "${RINHA_ATTACK_DURATION_S:-}" ] && attack_args+=(--duration_s="$RINHA_ATTACK_DURATION_S")
  delay=${RINHA_ATTACK_DELAY_S:-0}
  (
    if [ "$delay" != 0 ]; then
      # From the load's start (contest.sh --check passes --started_file), else from now.
      if [ -n "$started_file" ]; then
        until [ -s "$started_file" ]; do sleep 0.05; done
      fi
      sleep "$delay"
    fi
    exec "$hostile" "${attack_args[@]}"
  ) &
  hostile_pid=$!
fi
"$load" "$@" &
load_pid=$!
# contest.sh stops the load command with SIGTERM (its time limit, Ctrl-C): pass it on to both.
trap 'kill -TERM "$load_pid" ${hostile_pid:+"$hostile_pid"} 2>/dev/null || true' TERM INT
rc=0
while true; do
  wait "$load_pid" && rc=0 || rc=$?
  # A trapped signal interrupts wait (status > 128) while the load still runs: wait again.
  kill -0 "$load_pid" 2>/dev/null || break
done
if [ -n "$hostile_pid" ]; then
  kill -TERM "$hostile_pid" 2>/dev/null || true
  hostile_rc=0
  wait "$hostile_pid" || hostile_rc=$?
  # 143: stopped while it waited for RINHA_ATTACK_DELAY_S (the load ended first).
  if ((hostile_rc != 0 && hostile_rc != 143)); then
    echo "hostile-load.sh: rinha-hostile failed (status $hostile_rc)" >&2
    [ "$rc" -ne 0 ] || rc=1
  fi
  if [ -n "$requests_out" ] && [ -f "$requests_out.attack" ]; then
    cat "$requests_out.attack" >>"$requests_out"
    rm -f "$requests_out.attack"
  fi
fi
exit "$rc"
