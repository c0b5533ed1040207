#!/usr/bin/env bash
# Fuzzes the edge's text parsers (JSON object, money, ISO time, UUID) with libFuzzer under
# ASan+UBSan for a bounded time.
#   scripts/fuzz.sh [seconds]     default 60
#   RINHA_FUZZ_KEEP=1 keeps the temporary directory (binary, grown corpus, log) afterwards.
# Builds tests/fuzz/json_money_fuzz.cc with clang++-14 directly (no CMake), seeds a corpus of its
# own in a temporary directory and exits non-zero when the fuzzer reports a crash, a sanitizer
# error, a timeout or a broken invariant; the failing input is then kept and its path printed.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${1:-60}
[[ "$seconds" =~ ^[0-9]+$ ]] || { echo "usage: $0 [seconds]" >&2; exit 2; }
cxx=${RINHA_FUZZ_CXX:-clang++-14}
command -v "$cxx" >/dev/null || { echo "$cxx not found (apt-get install clang-14)" >&2; exit 2; }

work=$(mktemp -d "${TMPDIR:-/tmp}/rinha-fuzz.XXXXXX")
keep_work=${RINHA_FUZZ_KEEP:-0}
cleanup() { if [[ $keep_work == 0 ]]; then rm -rf "$work"; fi; }
trap cleanup EXIT

echo "=== building json_money_fuzz with $cxx"
# Abseil comes from Debian's shared libraries (built with GCC; same libstdc++ ABI).
read -r -a absl_libs <<<"$(pkg-config --libs absl_status absl_statusor absl_strings \
  absl_str_format absl_time)"
"$cxx" -std=c++20 -O1 -g -fno-omit-frame-pointer \
  -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
  -I. tests/fuzz/json_money_fuzz.cc \
  common/json.cc common/money.cc common/iso_time.cc common/uuid.cc \
  "${absl_libs[@]}" -o "$work/json_money_fuzz"

corpus="$work/corpus"
mkdir -p "$corpus" "$work/artifacts"
seed() { printf '%s' "$2" >"$corpus/$1"; }
seed payment '{"correlationId": "4a7901b8-7d26-4d9d-aa19-4dc1c7cf60b3", "amount": 19.90}'
seed payment_exp '{"correlationId":"4A7901B8-7D26-4D9D-AA19-4DC1C7CF60B3","amount":2005e-2}'
seed processor '{"correlationId":"4a7901b8-7d26-4d9d-aa19-4dc1c7cf60b3","amount":20.05,"requestedAt":"2025-07-15T12:34:56.000Z"}'
seed summary '{"default":{"totalRequests":3,"totalAmount":59.70},"fallback":{"totalRequests":0,"totalAmount":0}}'
seed admin '{"totalAmount":1.5E+1,"totalRequests":2,"totalFee":-0.0,"feePerTransaction":0.07}'
seed health '{"failing": false, "minResponseTime": 120}'
seed escapes '{"s":"caf\u00e9 \uD83D\uDE00 \"q\" \\ \/ \b\f\n\r\t","\u0061":"x"}'
seed utf8 "{\"k\":\"$(printf '\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80')\"}"
seed nested '{"a":[1,2.5,{"b":[true,false,null,{}]},"x",[]],"c":{"d":{"e":"f"}}}'
seed times '{"a":"2024-02-29T23:59:59.999999999+23:59","b":"0000-01-01T00:00:00-00:00","c":"9999-12-31t23:59:59z"}'
seed numbers '{"a":0.125,"b":0.135,"c":92233720368547758.07,"d":-92233720368547758.08,"e":1e999999999,"f":0e-5}'
seed dup '{"a":1,"a":2}'
seed deep '{"a":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}'
seed bare_amount '19.995'
seed bare_time '2025-07-15T12:34:56.123456+01:30'
seed bare_uuid '4a7901b8-7d26-4d9d-aa19-4dc1c7cf60b3'

dict="$work/json.dict"
cat >"$dict" <<'DICT'
"{"
"}"
"["
"]"
":"
","
"\""
"\\u"
"\\uD83D\\uDE00"
"\\uDC00"
"true"
"false"
"null"
"-"
"."
"e"
"E+"
"e-"
"0"
"1e999999999"
"\xc3\xa9"
"\xed\xa0\x80"
"\xf4\x90\x80\x80"
"T"
"Z"
"+01:00"
"-00:00"
"2024-02-29T"
"23:59:60"
".999999999"
"\"amount\""
"\"correlationId\""
"\"requestedAt\""
DICT

echo "=== fuzzing for ${seconds}s (corpus and artifacts under $work)"
start=$(date +%s)
set +e
"$work/json_money_fuzz" "$corpus" -dict="$dict" -max_total_time="$seconds" -max_len=4096 \
  -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$work/artifacts/" \
  >"$work/fuzz.log" 2>&1
status=$?
set -e
grep -E '^(stat::|#[0-9]+ +DONE|Done [0-9]+ runs)' "$work/fuzz.log" || true
echo "=== fuzz run took $(( $(date +%s) - start ))s, exit status $status"
if [[ $status != 0 ]]; then
  keep_work=1
  tail -n 60 "$work/fuzz.log" >&2
  echo "=== FAILED: failing input(s) kept in $work/artifacts/ (log: $work/fuzz.log)" >&2
  exit 1
fi
echo "=== fuzz passed"
if [[ $keep_work != 0 ]]; then echo "=== kept $work"; fi
