#!/usr/bin/env bash
# Contest runs of several variants, alternated round by round, then one table of all of them
# (bench/contest/table.py) and the medians per variant.
#
#   bench/contest/alternate.sh --rounds=3 --out=DIR VARIANT [VARIANT ...]
#     VARIANT = LABEL|TREE|BUILD_DIR|CONTEST ARGS...
#       LABEL       a name for the table (letters, digits, -, _)
#       TREE        the source tree whose scripts/contest.sh and config/ run it
#       BUILD_DIR   its binaries (absolute, or relative to TREE)
#       ARGS        more arguments for scripts/contest.sh (e.g. --test=final
#                   --router_flag=--default_wait_ms=0); --no-build --port=0 --out are added
#
# Round r runs the variants starting at the r-th, so that each variant runs first, middle and
# last once in three rounds: a machine that drifts over the session does not favour one. Before
# each run it waits (up to --quiet_wait_s, 180 s) for the 1-minute load average to fall below
# --quiet_load (1.0), as the dated tables in docs/results.md were measured.
set -euo pipefail

rounds=3 out="" quiet_load=1.0 quiet_wait_s=180
variants=()
for arg in "$@"; do
  case "$arg" in
    --rounds=*) rounds=${arg#*=} ;;
    --out=*) out=${arg#*=} ;;
    --quiet_load=*) quiet_load=${arg#*=} ;;
    --quiet_wait_s=*) quiet_wait_s=${arg#*=} ;;
    -h | --help)
      sed -n '2,18p' "$0"
      exit 0
      ;;
    --*)
      echo "alternate.sh: unknown option $arg" >&2
      exit 2
      ;;
    *) variants+=("$arg") ;;
  esac
done
if [ -z "$out" ] || [ "${#variants[@]}" -eq 0 ]; then
  sed -n '2,18p' "$0" >&2
  exit 2
fi
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$out"

wait_quiet() {
  local waited=0
  while awk -v limit="$quiet_load" '{ exit !($1 >= limit) }' /proc/loadavg; do
    if [ "$waited" -ge "$quiet_wait_s" ]; then
      echo "alternate.sh: load average still $(cut -d' ' -f1 /proc/loadavg) after ${waited} s; running anyway" >&2
      return
    fi
    sleep 5
    waited=$((waited + 5))
  done
}

runs=()
n=${#variants[@]}
for ((r = 1; r <= rounds; r++)); do
  for ((k = 0; k < n; k++)); do
    v=${variants[$(((r - 1 + k) % n))]}
    IFS='|' read -r label tree build_dir rest <<<"$v"
    read -r -a extra <<<"${rest:-}"
    dir="$out/$label-$r"
    wait_quiet
    echo "alternate.sh: round $r: $label ($(date -u +%H:%M:%S), load $(cut -d' ' -f1 /proc/loadavg))"
    if (cd "$tree" && bash scripts/contest.sh --no-build --build-dir="$build_dir" --port=0 \
      --out="$dir" "${extra[@]}") >"$dir.log" 2>&1; then
      runs+=("$label-$r=$dir")
    else
      echo "alternate.sh: $label round $r failed: see $dir.log" >&2
      runs+=("$label-$r=$dir")
    fi
  done
done

python3 "$here/table.py" "${runs[@]}" | tee "$out/table.tsv"
# Medians per variant, column by column (the numeric ones).
python3 - "$out/table.tsv" <<'EOF'
import statistics
import sys

rows = [line.rstrip("\n").split("\t") for line in open(sys.argv[1])]
header, rows = rows[0], rows[1:]
by = {}
for row in rows:
    if len(row) != len(header):
        continue
    by.setdefault(row[0].rsplit("-", 1)[0], []).append(row)
print("\nmedians")
print("\t".join(header))
for label, group in by.items():
    out = [f"{label} (n={len(group)})"]
    for i in range(1, len(header)):
        try:
            out.append(f"{statistics.median(float(r[i]) for r in group):g}")
        except ValueError:
            out.append("n/a")
    print("\t".join(out))
EOF
