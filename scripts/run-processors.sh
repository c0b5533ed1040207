#!/usr/bin/env bash
# Starts both payment-processor emulators natively, like the official processors' compose:
#   default  on 127.0.0.1:8001, fee 0.07     fallback on 127.0.0.1:8002, fee 0.10     token 123
# Builds the binary first when needed (CMake in build/). Stays in the foreground; Ctrl-C or
# SIGTERM stops both, and if either one dies the other is stopped too.
#   scripts/run-processors.sh
#   HOST=0.0.0.0 DEFAULT_PORT=8001 FALLBACK_PORT=8002 BUILD_DIR=build scripts/run-processors.sh
set -euo pipefail
cd "$(dirname "$0")/.."

build_dir=${BUILD_DIR:-build}
host=${HOST:-127.0.0.1}
bin=$build_dir/processor/payment-processor

if [[ ! -f $build_dir/build.ninja ]]; then
  cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
fi
cmake --build "$build_dir" --target payment-processor >/dev/null

pids=()
stop_all() {
  trap - INT TERM EXIT
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
}
trap stop_all EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

"$bin" --listen="$host:${DEFAULT_PORT:-8001}" --fee=0.07 --token=123 &
pids+=($!)
"$bin" --listen="$host:${FALLBACK_PORT:-8002}" --fee=0.10 --token=123 &
pids+=($!)
echo "payment processors: default pid ${pids[0]} on :${DEFAULT_PORT:-8001}," \
  "fallback pid ${pids[1]} on :${FALLBACK_PORT:-8002} (Ctrl-C stops both)"

# Returns when either processor exits (or a signal arrives); the EXIT trap stops the other.
status=0
wait -n "${pids[@]}" || status=$?
exit "$status"
