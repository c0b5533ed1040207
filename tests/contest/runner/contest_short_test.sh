#!/usr/bin/env bash
# End-to-end check of the native contest runner for CI: a reduced run (30 s, 60 VUs, the final
# timeline scaled to it) through scripts/contest.sh on a free port, then from its
# final-results.json: no inconsistency, no lag, no failed POST; the stall probe's record; and
# nothing left behind (no process it started, no cgroup).
#   tests/contest/runner/contest_short_test.sh [BUILD_DIR]   (default build-test-release)
# Extra arguments after BUILD_DIR go to scripts/contest.sh (e.g. --lb=nginx).
set -euo pipefail
cd "$(dirname "$0")/../../.."
build_dir=${1:-build-test-release}
shift || true

out=$(mktemp -d /tmp/rinha-contest-test.XXXXXX)
fail() { echo "contest_short_test: FAIL: $*" >&2; exit 1; }

rc=0
bash scripts/contest.sh --build-dir="$build_dir" --test=final --duration_s=30 --max_vus=60 \
  --port=0 --probe --out="$out" "$@" &
runner=$!
wait "$runner" || rc=$?

[ "$rc" = 0 ] || fail "scripts/contest.sh exited with $rc (logs in $out/logs)"
results=$out/final-results.json
[ -s "$results" ] || fail "no $results"
jq -e . "$results" >/dev/null || fail "$results is not JSON"
check() {  # check JQ_EXPRESSION DESCRIPTION
  jq -e "$1" "$results" >/dev/null || fail "$2: $(jq -c "$3" "$results")"
}
check '.multa.composicao.num_inconsistencias == 0' "inconsistencies" '.multa'
check '.lag.lag == 0' "lag" '.lag'
check '.pagamentos_solicitados.qtd_falha == 0' "failed POSTs" '.pagamentos_solicitados'
check '.pagamentos_solicitados.qtd_sucesso > 0' "no successful POST" '.pagamentos_solicitados'
# The stall probe ran through the load: a wake-up per ~ms for ~30 s, bucketed by second.
jq -e '.summary.samples > 1000 and (.seconds | length) >= 25 and
  ([.seconds[].samples] | add) == .summary.samples' "$out/probe.json" >/dev/null ||
  fail "probe.json: $(jq -c .summary "$out/probe.json" 2>/dev/null || echo missing)"
jq -e '[.services[].name] | contains(["lb", "edge1", "edge2", "router", "ledger"])' \
  "$out/resources.json" >/dev/null || fail "resources.json lacks a service"

# Nothing left behind: every process the runner started is gone, and so are its cgroups.
[ -s "$out/pids.txt" ] || fail "no $out/pids.txt"
while read -r name pid; do
  # A pid still in the runner's group is one it started (a reused pid would not be there).
  if grep -qs "rinha-contest-$runner" "/proc/$pid/cgroup"; then fail "$name (pid $pid) still runs"; fi
done <"$out/pids.txt"
left=$(find /sys/fs/cgroup/cpu /sys/fs/cgroup/cpuacct /sys/fs/cgroup/memory -maxdepth 6 -type d \
  -name "rinha-contest-$runner" 2>/dev/null || true)
[ -z "$left" ] || fail "cgroups left behind: $left"

jq -c '{score, inconsistencies: .multa.composicao.num_inconsistencias, lag: .lag.lag,
  ok: .pagamentos_solicitados.qtd_sucesso, p99: .p99.valor}' "$results"
rm -rf "$out"
echo "contest_short_test: PASS"
