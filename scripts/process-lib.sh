# Native processes for tests and benchmarks (sourced, not run): start a service and wait for its
# readiness line, read a field of that line, configure an emulator.
# shellcheck shell=bash

# spawn_ready NAME LOG_DIR CMD...: runs CMD in the background (stdout LOG_DIR/NAME.out, stderr
# LOG_DIR/NAME.err) and waits up to 30 s for its "listening" line (every service and the
# emulator print one once ready, with the ports they took). Sets SPAWNED_PID and SPAWNED_LINE;
# status 1, with the reason on stderr, when CMD exits first or is not ready in time.
spawn_ready() {
  local name=$1 dir=$2 deadline=$(($(date +%s) + 30))
  shift 2
  "$@" >"$dir/$name.out" 2>"$dir/$name.err" &
  SPAWNED_PID=$!
  until SPAWNED_LINE=$(grep -m1 "listening" "$dir/$name.out" 2>/dev/null); do
    if ! kill -0 "$SPAWNED_PID" 2>/dev/null; then
      echo "$name exited before it was ready: $(tail -n 3 "$dir/$name.err")" >&2
      return 1
    fi
    (($(date +%s) < deadline)) || { echo "$name not ready within 30 s" >&2; return 1; }
    sleep 0.05
  done
}

# spawned_field NAME: the number after NAME= in SPAWNED_LINE (port, tcp_port, metrics_port).
spawned_field() { sed -n "s/.* $1=\([0-9]*\).*/\1/p" <<<"$SPAWNED_LINE"; }

# processor_admin PORT WHAT JSON: PUT /admin/configurations/WHAT at the emulator on PORT (token
# 123, the emulators' default): delay, failure, fault.
processor_admin() {
  curl -sf -m 5 -o /dev/null -X PUT -H 'X-Rinha-Token: 123' -H 'Content-Type: application/json' \
    "http://127.0.0.1:$1/admin/configurations/$2" -d "$3"
}
