# Shell functions shared by scripts/docker-contest.sh and tests/docker/compose_stack_test.sh
# (sourced, not run): free host ports, readiness waits, compose-file checks, and the stand-in load
# (a few hundred curl POSTs, used when rinha-load is not built or RINHA_LOADGEN=standin).
# shellcheck shell=bash

dlog() { echo "[${DLOG_TAG:-docker}] $*" >&2; }

# shellcheck source=scripts/free-port.sh
source "$(dirname "${BASH_SOURCE[0]}")/free-port.sh"

now_ms() { date +%s%3N; }
iso_ms() { date -u -d "@$(($1 / 1000)).$(printf %03d $(($1 % 1000)))" +%Y-%m-%dT%H:%M:%S.%3NZ; }

# wait_http URL TIMEOUT_S: until GET URL answers < 400 (the contest runner's readiness rule).
wait_http() {
  local url=$1 deadline=$(($(date +%s) + $2)) code
  while (($(date +%s) < deadline)); do
    code=$(curl -s -o /dev/null -m 2 -w '%{http_code}' "$url" 2>/dev/null) || code=000
    ((code > 0 && code < 400)) && return 0
    sleep 0.2
  done
  return 1
}

# json_num JSON PATH: a number from flat or one-level nested JSON, PATH like "default.totalRequests"
# or "totalFee". Enough for the summaries here; not a JSON parser.
json_num() {
  local json=$1 path=$2 obj key
  if [[ $path == *.* ]]; then
    obj=${path%%.*} key=${path#*.}
    json=$(grep -o "\"$obj\"[[:space:]]*:[[:space:]]*{[^}]*}" <<<"$json")
  else
    key=$path
  fi
  grep -o "\"$key\"[[:space:]]*:[[:space:]]*-\?[0-9][0-9.eE+-]*" <<<"$json" | head -n1 | sed 's/.*:[[:space:]]*//'
}

# compose_limits FILE: "service cpus memory_mb" per service from deploy.resources.limits, merge
# keys resolved (via `docker-compose config`, which also validates the file).
compose_limits() {
  local file=$1
  docker-compose -f "$file" config 2>/dev/null | awk '
    /^services:/ { in_s = 1; next }
    /^[^ ]/ { in_s = 0 }
    in_s && /^  [A-Za-z0-9_.-]+:$/ { svc = $1; sub(":", "", svc); cpus[svc] = ""; mem[svc] = "" }
    in_s && /^ +cpus:/ { v = $2; gsub("[\"'\'']", "", v); cpus[svc] = v }
    in_s && /^ +memory:/ { v = $2; gsub("[\"'\'']", "", v); mem[svc] = v }
    END { for (s in cpus) print s, cpus[s], mem[s] }' | sort
}

# to_mib "30M" | "30MB" | "31457280" | "1G": MiB (Compose's "MB" means MiB).
to_mib() {
  local v=${1^^}
  v=${v%B}
  case "$v" in
    *K) echo $((${v%K} / 1024)) ;;
    *M) echo "${v%M}" ;;
    *G) echo $((${v%G} * 1024)) ;;
    *) echo $((v / 1048576)) ;;
  esac
}

# ---- stand-in load: a few hundred POSTs through the LB and an end-of-run audit ------------------
# standin_load LB_URL DEFAULT_URL FALLBACK_URL TOKEN OUT_DIR [COUNT]
# Purges, sends COUNT/2 payments with both processors healthy, COUNT/2 more with the default
# failing (so the fallback path through the payment-processor network is used too), restores the
# processors, waits up to 30 s for our summary to match the processors' admin summaries, and writes
# OUT_DIR/standin.env: requests ok failed p99_ms ours_* proc_* inconsistencies lag double score.
standin_load() {
  local lb=$1 def=$2 fb=$3 token=$4 out=$5 count=${6:-400}
  local tok=(-H "X-Rinha-Token: $token") hdr=(-H "X-Rinha-Token: $token" -H 'Content-Type: application/json')
  mkdir -p "$out"
  curl -s -o /dev/null -d "" "$lb/purge-payments" || true
  for p in "$def" "$fb"; do
    curl -fsS -o /dev/null "${tok[@]}" -d "" "$p/admin/purge-payments"
    curl -fsS -o /dev/null "${hdr[@]}" -X PUT -d '{"delay":0}' "$p/admin/configurations/delay"
    curl -fsS -o /dev/null "${hdr[@]}" -X PUT -d '{"failure":false}' "$p/admin/configurations/failure"
  done
  local from_ms to_ms
  from_ms=$(($(now_ms) - 1000))
  : >"$out/codes.txt"
  _standin_batch "$lb" $((count / 2)) "$out"
  curl -fsS -o /dev/null "${hdr[@]}" -X PUT -d '{"failure":true}' "$def/admin/configurations/failure"
  _standin_batch "$lb" $((count - count / 2)) "$out"
  curl -fsS -o /dev/null "${hdr[@]}" -X PUT -d '{"failure":false}' "$def/admin/configurations/failure"

  local requests ok failed p99
  requests=$(wc -l <"$out/codes.txt")
  ok=$(awk '$1 == 200 || $1 == 201 || $1 == 202 || $1 == 204' "$out/codes.txt" | wc -l)
  failed=$((requests - ok))
  p99=$(awk '$1 ~ /^20[0124]$/ { print $2 * 1000 }' "$out/codes.txt" | sort -n |
    awk '{ v[NR] = $1 } END { if (NR == 0) { print 0; exit } i = int(NR * 0.99 + 0.999999); if (i > NR) i = NR; printf "%.2f", v[i] }')

  # The audit: same window for both sides, as the contest's audit asks it (inclusive bounds).
  local ours dsum fsum od of pd pf deadline
  deadline=$(($(date +%s) + 30))
  while :; do
    to_ms=$(now_ms)
    local q="from=$(iso_ms "$from_ms")&to=$(iso_ms "$to_ms")"
    ours=$(curl -fsS -m 2 "$lb/payments-summary?$q" || echo '{}')
    dsum=$(curl -fsS -m 2 "${tok[@]}" "$def/admin/payments-summary?$q" || echo '{}')
    fsum=$(curl -fsS -m 2 "${tok[@]}" "$fb/admin/payments-summary?$q" || echo '{}')
    od=$(json_num "$ours" default.totalRequests) of=$(json_num "$ours" fallback.totalRequests)
    pd=$(json_num "$dsum" totalRequests) pf=$(json_num "$fsum" totalRequests)
    [[ -n $od && -n $of && -n $pd && -n $pf ]] && ((od == pd && of == pf && pd + pf >= ok)) && break
    (($(date +%s) >= deadline)) && break
    sleep 0.5
  done
  local incons lag double
  incons=$(( ${od:-0} - ${pd:-0} )); incons=${incons#-}
  local i2=$(( ${of:-0} - ${pf:-0} )); incons=$((incons + ${i2#-}))
  [[ -n $od && -n $pd ]] || incons=$((ok + 1))  # an unreadable summary counts as wrong
  lag=$((ok - ${pd:-0} - ${pf:-0})); ((lag > 0)) || lag=0
  double=$((${pd:-0} + ${pf:-0} - ok)); ((double > 0)) || double=0
  local gross fees score
  gross=$(awk -v a="$(json_num "$dsum" totalAmount)" -v b="$(json_num "$fsum" totalAmount)" 'BEGIN{printf "%.2f", a + b}')
  fees=$(awk -v a="$(json_num "$dsum" totalFee)" -v b="$(json_num "$fsum" totalFee)" 'BEGIN{printf "%.2f", a + b}')
  score=$(awk -v g="$gross" -v f="$fees" -v p="$p99" -v i="$incons" 'BEGIN {
    bonus = (11 - p) * 0.02; if (bonus < 0) bonus = 0; bonus = int(bonus * 100 + 0.5) / 100
    fine = (i > 0) ? 0.35 : 0; printf "%.2f", (g - f) * (1 + bonus - fine) }')
  cat >"$out/standin.env" <<ENV
requests=$requests
ok=$ok
failed=$failed
p99_ms=$p99
ours_default=${od:-?}
ours_fallback=${of:-?}
proc_default=${pd:-?}
proc_fallback=${pf:-?}
inconsistencies=$incons
lag=$lag
double=$double
gross=$gross
fees=$fees
score=$score
ENV
}

# One batch of COUNT payments of 20.05, 16 at a time, from one curl process (--parallel).
_standin_batch() {
  local lb=$1 count=$2 out=$3 cfg
  cfg=$(mktemp)
  for ((i = 0; i < count; i++)); do
    printf 'url = "%s/payments"\nheader = "Content-Type: application/json"\n' "$lb"
    printf 'data = "{\\"correlationId\\":\\"%s\\",\\"amount\\":20.05}"\n' "$(cat /proc/sys/kernel/random/uuid)"
    printf 'output = "/dev/null"\nwrite-out = "%%{http_code} %%{time_total}\\n"\nmax-time = 1.5\nnext\n'
  done >"$cfg"
  curl -s -Z --parallel-max 16 -K "$cfg" >>"$out/codes.txt" || true
  rm -f "$cfg"
}
