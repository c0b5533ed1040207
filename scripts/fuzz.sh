#!/usr/bin/env bash
# Fuzzes the system's input handling with libFuzzer under ASan+UBSan, each target for a bounded
# time:
#   json_money_fuzz   the text parsers (JSON object, money, ISO time, UUID) and their writers
#   edge_codec_fuzz   DecodePayment (POST /payments bodies) and ParseSummaryQuery (summary bounds)
#   http1_fuzz        the HTTP/1.1 request head parser (epoll servers) and response parser (the
#                     router reading processors' answers, faulty ones included)
#   scripts/fuzz.sh [seconds] [target...]   per target, default 60 s; default every target
#   RINHA_FUZZ_KEEP=1 keeps the temporary directory (binaries, grown corpus, logs) afterwards.
#   RINHA_FUZZ_UPDATE_CORPUS=1 merges what the run found into tests/fuzz/corpus/ (minimised).
# Builds tests/fuzz/*.cc with clang++-14 directly (no CMake; protoc generates the message code),
# starts from the corpus kept in tests/fuzz/corpus/<corpus>/ plus a few written-in seeds, and
# exits non-zero when a fuzzer reports a crash, a sanitizer error, a timeout or a broken
# invariant; the failing input is then kept and its path printed.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${1:-60}
[[ "$seconds" =~ ^[0-9]+$ ]] || { echo "usage: $0 [seconds] [target...]" >&2; exit 2; }
shift || true
targets=("$@")
((${#targets[@]})) || targets=(json_money_fuzz edge_codec_fuzz http1_fuzz)
cxx=${RINHA_FUZZ_CXX:-clang++-14}
command -v "$cxx" >/dev/null || { echo "$cxx not found (apt-get install clang-14)" >&2; exit 2; }

work=$(mktemp -d "${TMPDIR:-/tmp}/rinha-fuzz.XXXXXX")
keep_work=${RINHA_FUZZ_KEEP:-0}
cleanup() { if [[ $keep_work == 0 ]]; then rm -rf "$work"; fi; }
trap cleanup EXIT

# Abseil and protobuf come from Debian's shared libraries (built with GCC; same libstdc++ ABI).
read -r -a libs <<<"$(pkg-config --libs absl_status absl_statusor absl_strings \
  absl_str_format absl_time protobuf)"
mkdir -p "$work/gen"
protoc --cpp_out="$work/gen" -Iproto proto/payments.proto
common_sources=(common/json.cc common/money.cc common/iso_time.cc common/uuid.cc)
build() {
  local name=$1; shift
  echo "=== building $name with $cxx"
  "$cxx" -std=c++20 -O1 -g -fno-omit-frame-pointer \
    -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
    -I. -I"$work/gen" "tests/fuzz/$name.cc" "${common_sources[@]}" "$@" \
    "${libs[@]}" -o "$work/$name"
}
build json_money_fuzz
build edge_codec_fuzz edge/payment_codec.cc "$work/gen/payments.pb.cc"
build http1_fuzz common/http1_request.cc common/http1_response.cc

# Corpora: the JSON/text targets share one (inputs one grows are seeds for the other), the HTTP
# target has its own. Each starts from the copy kept in the repository.
corpus_of() { case $1 in http1_fuzz) echo http1 ;; *) echo json ;; esac; }
mkdir -p "$work/artifacts"
for c in json http1; do
  mkdir -p "$work/corpus/$c"
  if [[ -d tests/fuzz/corpus/$c ]]; then cp -r tests/fuzz/corpus/$c/. "$work/corpus/$c/"; fi
done
corpus="$work/corpus/json"
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
seed window '2025-07-15T12:34:56.000Z&2025-07-15T12:35:09.999Z'
seed window_open '&2025-07-15T12:35:09'

corpus="$work/corpus/http1"
seed get_summary $'GET /payments-summary?from=2025-07-15T12%3A34%3A56.000Z&to=x HTTP/1.1\r\nHost: a\r\n\r\n'
seed post_payment $'POST /payments HTTP/1.1\r\nHost: a\r\nContent-Type: application/json\r\nContent-Length: 20\r\n\r\n{"correlationId":1}'
seed pipelined $'GET / HTTP/1.1\r\n\r\nGET /b HTTP/1.0\r\nConnection: keep-alive\r\n\r\n'
seed expect $'POST /p HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n'
seed chunked_req $'POST /p HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n'
seed ok_response $'HTTP/1.1 200 OK\r\nContent-Length: 43\r\n\r\n{"message":"payment processed successfully"}'
seed chunked_response $'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nWiki\r\n0\r\n\r\n'
seed close_response $'HTTP/1.0 500 Internal Server Error\r\n\r\nboom'
seed continue_then_ok $'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 422 Unprocessable\r\nContent-Length: 0\r\n\r\n'
seed truncated $'HTTP/1.1 200 OK\r\nContent-Length: 40\r\n\r\n{"message":'
seed too_many $'HTTP/1.1 429 Too Many Requests\r\nRetry-After: 5\r\nContent-Length: 0\r\nConnection: close\r\n\r\n'
corpus="$work/corpus/json"

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
http_dict="$work/http1.dict"
cat >"$http_dict" <<'DICT'
"HTTP/1.1 "
"HTTP/1.0 "
"\x0d\x0a"
"\x0d\x0a\x0d\x0a"
": "
"Content-Length: "
"Transfer-Encoding: chunked"
"Connection: close"
"Connection: keep-alive"
"Expect: 100-continue"
"GET "
"POST "
" /payments"
"?from="
"&to="
"%3A"
"200 OK"
"100 Continue"
"0\x0d\x0a\x0d\x0a"
DICT

failed=0
fuzz() {
  local name=$1
  echo "=== fuzzing $name for ${seconds}s (corpus and artifacts under $work)"
  local start status
  start=$(date +%s)
  set +e
  local corpus_dir=$work/corpus/$(corpus_of "$name") dictionary=$dict
  [[ $name == http1_fuzz ]] && dictionary=$http_dict
  "$work/$name" "$corpus_dir" -dict="$dictionary" -max_total_time="$seconds" -max_len=4096 \
    -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$work/artifacts/" \
    >"$work/$name.log" 2>&1
  status=$?
  set -e
  # Coverage (cov: edges, ft: features) of the corpus it started from, and where it ended.
  grep -E '^#[0-9]+[[:space:]]+INITED' "$work/$name.log" | sed 's/^/start: /' || true
  grep -E '^#[0-9]+[[:space:]].*cov: ' "$work/$name.log" | tail -n 1 | sed 's/^/end:   /' || true
  grep -E '^(stat::|#[0-9]+[[:space:]]+DONE|Done [0-9]+ runs)' "$work/$name.log" || true
  echo "=== $name took $(( $(date +%s) - start ))s, exit status $status"
  if [[ $status != 0 ]]; then
    failed=1
    tail -n 60 "$work/$name.log" >&2
    echo "=== $name FAILED: failing input(s) kept in $work/artifacts/ (log: $work/$name.log)" >&2
  fi
}
for t in "${targets[@]}"; do fuzz "$t"; done
if [[ $failed == 0 && ${RINHA_FUZZ_UPDATE_CORPUS:-0} != 0 ]]; then
  # Keep only inputs that add coverage: merge the grown corpus into the repository's copy.
  for t in "${targets[@]}"; do
    c=$(corpus_of "$t")
    mkdir -p "tests/fuzz/corpus/$c"
    "$work/$t" -merge=1 "tests/fuzz/corpus/$c" "$work/corpus/$c" >"$work/$t.merge.log" 2>&1
    echo "=== tests/fuzz/corpus/$c: $(ls "tests/fuzz/corpus/$c" | wc -l) inputs after merging $t's"
  done
fi
if [[ $failed != 0 ]]; then
  keep_work=1
  exit 1
fi
echo "=== fuzz passed"
if [[ $keep_work != 0 ]]; then echo "=== kept $work"; fi
