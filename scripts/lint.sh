#!/usr/bin/env bash
# Style and static checks, with Debian's clang-format-14 and clang-tidy-14:
#   clang-format  every C++ file in the repository must be formatted as .clang-format says
#                 (the check fails on any difference; --fix rewrites the files instead)
#   clang-tidy    .clang-tidy's checks, warnings as errors, over the library sources that do not
#                 include gRPC or cpp-httplib (a few seconds each); --all takes every source
#                 (a gRPC translation unit takes ~15 s: about 15 minutes on two cores)
#
#   scripts/lint.sh [--fix] [--all] [--format-only | --tidy-only] [--build-dir=build-lint]
set -euo pipefail
cd "$(dirname "$0")/.."

fix=0 all=0 tidy=1 format=1 build_dir=build-lint
for arg in "$@"; do
  case "$arg" in
    --fix) fix=1 ;;
    --all) all=1 ;;
    --format-only | --format_only) tidy=0 ;;
    --tidy-only | --tidy_only) format=0 ;;
    --build-dir=* | --build_dir=*) build_dir=${arg#*=} ;;
    -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "lint.sh: unknown option $arg (--help lists them)" >&2; exit 2 ;;
  esac
done
for tool in clang-format-14 clang-tidy-14; do
  command -v "$tool" >/dev/null || { echo "$tool not found (scripts/install-deps.sh)" >&2; exit 2; }
done

mapfile -t sources < <(git ls-files '*.cc' '*.h')
if ((!format)); then
  :
elif ((fix)); then
  clang-format-14 -i "${sources[@]}"
  echo "lint: formatted ${#sources[@]} files"
else
  unformatted=()
  for f in "${sources[@]}"; do
    clang-format-14 --dry-run --Werror "$f" >/dev/null 2>&1 || unformatted+=("$f")
  done
  if ((${#unformatted[@]})); then
    echo "lint: ${#unformatted[@]} file(s) differ from clang-format-14 (scripts/lint.sh --fix):" >&2
    for f in "${unformatted[@]}"; do
      echo "--- $f" >&2
      diff -u "$f" <(clang-format-14 "$f") | head -n 20 >&2 || true
    done
    exit 1
  fi
  echo "lint: clang-format: ${#sources[@]} files formatted"
fi
((tidy)) || exit 0

# compile_commands.json for clang-tidy; the generated protobuf code must exist.
cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=Debug -DCMAKE_EXPORT_COMPILE_COMMANDS=ON \
  >/dev/null
cmake --build "$build_dir" --target rinha_proto -j "$(nproc)" >/dev/null
if ((all)); then
  mapfile -t tidy_files < <(git ls-files 'common/*.cc' 'edge/*.cc' 'router/*.cc' 'ledger/*.cc' \
    'processor/*.cc' 'contest/*.cc' | grep -v '_main\.cc$\|/main\.cc$')
else
  # The libraries' sources whose own header and source include neither gRPC nor cpp-httplib.
  tidy_files=()
  while read -r f; do
    h=${f%.cc}.h
    grep -qE 'grpc|payments\.(pb|grpc)|httplib' "$f" ${h:+$([ -f "$h" ] && echo "$h")} && continue
    tidy_files+=("$f")
  done < <(git ls-files 'common/*.cc' 'edge/*.cc' 'router/*.cc' 'ledger/*.cc' 'processor/*.cc' \
    'contest/*.cc' | grep -v '_main\.cc$\|/main\.cc$')
fi
echo "lint: clang-tidy over ${#tidy_files[@]} files"
printf '%s\n' "${tidy_files[@]}" |
  xargs -P "$(nproc)" -n 1 clang-tidy-14 -p "$build_dir" --quiet 2> >(grep -v 'warnings generated' >&2)
echo "lint: clang-tidy clean"
