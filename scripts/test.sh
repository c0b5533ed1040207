#!/usr/bin/env bash
# The whole test suite: installs dependencies, then
#   lint     scripts/lint.sh: every C++ file as clang-format-14 formats it (fails on a
#            difference), clang-tidy-14's checks (.clang-tidy) over the library sources that do
#            not include gRPC or cpp-httplib, warnings as errors
#   release  builds and runs every GoogleTest suite (RelWithDebInfo)
#   contest  a 30 s contest through scripts/contest.sh on the release build (cgroups, so root):
#            0 inconsistencies, 0 lag, 0 failed POSTs, nothing left behind
#   monitoring  tests/monitoring/monitoring_test.sh: a 30 s contest run with --prometheus; while
#            it runs every Prometheus target is up, the key series move, and the dashboard draws
#            every panel in headless Chromium (and notices one without data); Prometheus stops
#            with the run; then tests/monitoring/stuck_payment_test.sh: a payment stuck on
#            purpose shows as undecided and as a mismatched audit window in Prometheus and on the
#            dashboard within seconds, and both clear once the router can record it
#   faults   scripts/faults.sh --short: eight 30 s contest runs, each with one service killed and
#            restarted mid-load (the router while default is slow, both fail or default fails,
#            and twice in a row; the router with SIGTERM; ledger, edge, HAProxy); fails when
#            a payment answered 2xx is lost, one is paid twice, or the ledger differs
#   hostile  scripts/hostile.sh --short: three 20 s contest runs at the contest's rate, without an
#            attack, then every attack of rinha-hostile at once against the load balancer, then
#            against edge1 directly; fails when more than 50 valid requests fail per run (a 503
#            shed while this VM stalls is the designed answer, a burst of them is not), a payment
#            is lost or paid twice or paid while its client saw a failure, the audit finds an
#            inconsistency, or a service dies or hits its limit
#   asan     the same under ASan + UBSan
#   tsan     the same under TSan
#   fuzz     runs the JSON/money/time fuzzer for a bounded time (clang-14)
#   docker   the Docker tests: images, processors' compose, submission folder, our compose stack
#            under its limits with a short load, its `monitoring` profile's Prometheus scraping
#            every service (starts dockerd itself)
#   swarm    scripts/swarm.sh test: swarm/stack.yaml (the same images, two router shards) on a
#            single-node Docker Swarm, under the contest's load: the edges scaled 2 -> 4 -> 2, a
#            router shard SIGKILLed, a shard's ledger killed; nothing lost or paid twice, the
#            summary exact after each, health calls within the processors' budget (swarm and
#            dockerd left as found)
#   scripts/test.sh               every stage
#   scripts/test.sh release tsan  only those stages
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh

jobs=$(nproc)
variants=("${@:-lint release contest monitoring faults hostile asan tsan fuzz docker swarm}")
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
    lint)
      echo "=== [lint] clang-format and clang-tidy (build-lint)"
      bash scripts/lint.sh --build-dir=build-lint ;;
    release) run_variant release "" RelWithDebInfo ;;
    contest)
      echo "=== [contest] 30 s native contest run (build-test-release)"
      cmake -S . -B build-test-release -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DRINHA_SANITIZE= \
        -DRINHA_BUILD_BENCHMARKS=OFF >/dev/null
      bash tests/contest/runner/contest_short_test.sh build-test-release ;;
    monitoring)
      echo "=== [monitoring] Prometheus and the dashboard over a 30 s native run (build-test-release)"
      cmake -S . -B build-test-release -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DRINHA_SANITIZE= \
        -DRINHA_BUILD_BENCHMARKS=OFF >/dev/null
      bash tests/monitoring/monitoring_test.sh build-test-release
      cmake --build build-test-release -j "$jobs" --target ledger router edge payment-processor
      bash tests/monitoring/stuck_payment_test.sh build-test-release ;;
    faults)
      echo "=== [faults] crash scenarios, short (build-test-release)"
      cmake -S . -B build-test-release -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DRINHA_SANITIZE= \
        -DRINHA_BUILD_BENCHMARKS=OFF >/dev/null
      cmake --build build-test-release -j "$jobs"
      bash scripts/faults.sh --short --no-build --build-dir=build-test-release \
        --out="$(mktemp -d /tmp/rinha-faults.XXXXXX)" ;;
    hostile)
      echo "=== [hostile] attacks beside the valid load, short (build-test-release)"
      cmake -S . -B build-test-release -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DRINHA_SANITIZE= \
        -DRINHA_BUILD_BENCHMARKS=OFF >/dev/null
      cmake --build build-test-release -j "$jobs"
      bash scripts/hostile.sh --short --no-build --build-dir=build-test-release --max_failed=50 \
        --out="$(mktemp -d /tmp/rinha-hostile.XXXXXX)" ;;
    asan) run_variant asan address Debug ;;
    tsan) run_variant tsan thread Debug ;;
    fuzz)
      echo "=== [fuzz] ${RINHA_FUZZ_SECONDS:-60} s"
      bash scripts/fuzz.sh "${RINHA_FUZZ_SECONDS:-60}" ;;
    docker)
      # The processors' compose, the submission generator, then our whole stack under its limits
      # with a short load (rinha-load from build-test-release/ when the release stage built it).
      echo "=== [docker] processors compose, submission, compose stack"
      status=0
      bash tests/docker/processors_compose_test.sh || status=$?
      [ $status != 0 ] || bash tests/docker/submission_test.sh || status=$?
      [ $status != 0 ] || bash tests/docker/compose_stack_test.sh || status=$?
      bash scripts/docker-teardown.sh
      [ $status = 0 ] || exit $status ;;
    swarm)
      # rinha-load and rinha-check from the release build (built here when that stage did not run).
      echo "=== [swarm] our stack on a single-node Docker Swarm, under load (scripts/swarm.sh test)"
      cmake -S . -B build-test-release -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DRINHA_SANITIZE= \
        -DRINHA_BUILD_BENCHMARKS=OFF >/dev/null
      cmake --build build-test-release -j "$jobs" --target rinha-load rinha-check
      RINHA_LOAD_BIN=$PWD/build-test-release/contest/load/rinha-load bash scripts/swarm.sh test ;;
    *) echo "unknown stage: $v (lint | release | contest | monitoring | faults | hostile | asan | tsan | fuzz | docker | swarm)" >&2; exit 2 ;;
  esac
done
echo "=== all test stages passed: ${variants[*]}"
