#!/usr/bin/env bash
# Installs everything needed to build, test and run the project on a fresh Debian 12 machine.
# Idempotent: skips apt when every package is already installed.
set -euo pipefail

packages=(
  build-essential cmake pkg-config ninja-build git ca-certificates curl
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler
  libabsl-dev libcpp-httplib-dev libsqlite3-dev sqlite3
  libgtest-dev libgmock-dev libbenchmark-dev
  clang-14 libclang-rt-14-dev clang-format-14 clang-tidy-14  # fuzzers; scripts/lint.sh
  python3-grpcio python3-grpc-tools
  haproxy wrk procps iproute2
  nginx jq gettext-base  # scripts/contest.sh: --lb=nginx, envsubst for its config, result checks
  chromium  # headless render tests: the run report (tests/contest/report), the dashboard
  prometheus  # --prometheus of scripts/run.sh --serve and scripts/contest.sh; tests/monitoring
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if ((${#missing[@]})); then
  sudo_cmd=""
  [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
