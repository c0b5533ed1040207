#!/usr/bin/env bash
# The whole test suite: installs dependencies, then builds and runs every GoogleTest suite
# in a release build, an ASan+UBSan build and a TSan build.
#   scripts/test.sh             all three builds
#   scripts/test.sh release     only one (release | asan | tsan)
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh

jobs=$(nproc)
variants=("${@:-release asan tsan}")
read -r -a variants <<<"${variants[*]}"

run_variant() {
  local name=$1 sanitize=$2 build_type=$3
  local dir=build-test-$name
  echo "=== [$name] configure + build"
  cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE="$build_type" -DRINHA_SANITIZE="$sanitize" \
    -DRINHA_BUILD_BENCHMARKS=OFF >/dev/null
  cmake --build "$dir" -j "$jobs"
  echo "=== [$name] ctest"
  # Sanitizer runtime options: fail on the first report, keep leaks checked.
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 suppressions=$PWD/tests/tsan.supp" \
    ctest --test-dir "$dir" --output-on-failure -j "$jobs"
}

for v in "${variants[@]}"; do
  case "$v" in
    release) run_variant release "" RelWithDebInfo ;;
    asan) run_variant asan address Debug ;;
    tsan) run_variant tsan thread Debug ;;
    *) echo "unknown variant: $v (release | asan | tsan)" >&2; exit 2 ;;
  esac
done
echo "=== all test variants passed: ${variants[*]}"
