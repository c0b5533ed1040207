#!/usr/bin/env bash
# Keeps docs/configuration.md true.
#   configuration_test.sh REPO_ROOT NAME=BINARY...
# For each binary: the flags its --helpfull lists from the project's own sources (not Abseil's
# built-ins) must each have a row "| `--flag` |" in the section "### `NAME`" of
# docs/configuration.md, and every row there must name a flag the binary has. Then every
# environment variable the scripts, compose files, load balancer configs and Dockerfile read must
# be named in the first column of a row of the "## Environment variables" section (or, for a
# Dockerfile ARG, of "## Build options"). Exits 1 with a list of what is wrong.
set -euo pipefail
root=$1
shift
doc=$root/docs/configuration.md
[ -f "$doc" ] || { echo "missing $doc"; exit 1; }
status=0
problem() { echo "docs/configuration.md: $*"; status=1; }

# The lines of the section whose heading line is exactly $1, up to the next heading of level 1-3.
section() { awk -v h="$1" '$0 == h { on = 1; next } on && /^(#|##|###) / { exit } on' "$doc"; }
# The `NAME`s in the first column of a section's table rows.
first_column_names() { awk -F'|' '/^\|/ { print $2 }' | grep -oE '`[A-Za-z0-9_<>-]+`' | tr -d '`'; }

checked=0
for pair in "$@"; do
  [ -n "$pair" ] || continue  # a binary this build does not have (see tests/docs/CMakeLists.txt)
  name=${pair%%=*} bin=${pair#*=}
  [ -x "$bin" ] || { problem "$name: no binary at $bin"; continue; }
  help=$("$bin" --helpfull 2>&1) || true  # --helpfull exits 1 after printing
  # "  Flags from <file>:" opens a block; the project's blocks are those not under absl/.
  flags=$(awk '/^  Flags from / { own = ($0 !~ /absl\//); next }
               own && /^    --[a-z0-9_]+/ { f = $1; sub(/^--/, "", f); print f }' <<<"$help" |
    sort -u)
  [ -n "$flags" ] || { problem "$name: --helpfull listed no flags of its own"; continue; }
  body=$(section "### \`$name\`")
  [ -n "$body" ] || { problem "no section '### \`$name\`'"; continue; }
  documented=$(grep -oE '^\| `--[a-z0-9_]+`' <<<"$body" | sed 's/^| `--//; s/`$//' | sort -u)
  while read -r f; do
    [ -n "$f" ] && problem "$name: flag --$f has no row"
  done < <(comm -23 <(echo "$flags") <(echo "$documented"))
  while read -r f; do
    [ -n "$f" ] && problem "$name: row for --$f, which the binary does not have"
  done < <(comm -13 <(echo "$flags") <(echo "$documented"))
  checked=$((checked + 1))
done

# Environment variables: ${NAME:-...}, ${NAME:=...}, ${NAME:+...} and ${NAME-...} in scripts and compose files,
# ${NAME} in config/ (the load balancer configs: HAProxy and envsubst), getenv("NAME") in C++.
cd "$root"
shopt -s nullglob
env_names=$( {
  grep -ohE '\$\{[A-Z][A-Z0-9_]*(:-|:=|:\+|-)' scripts/*.sh bench/*/*.sh tests/*/*.sh tests/*/*/*.sh \
    compose*.yaml swarm/*.yaml .ci/run --exclude=configuration_test.sh || true
  grep -rhoE '\$\{[A-Z][A-Z0-9_]*\}' config || true  # config/prometheus/ too
  grep -rhoE --include='*.cc' --include='*.h' 'getenv\("[A-Z][A-Z0-9_]*"\)' \
    common edge router ledger processor contest tests bench || true
} | sed -E 's/^\$\{//; s/(:-|:=|:\+|-|\})$//; s/^getenv\("//; s/"\)$//' | grep -vxE 'PATH|HOME' |
  sort -u)
env_documented=$(section "## Environment variables" | first_column_names | sort -u)
while read -r v; do
  [ -n "$v" ] && problem "environment variable $v (read by $(grep -rlE "\\\$\{$v([:}-]|:-)|\"$v\"" \
    scripts bench tests config compose*.yaml .ci 2>/dev/null | head -3 | paste -sd' ')) has no row"
done < <(comm -23 <(echo "$env_names") <(echo "$env_documented"))
build_args=$(grep -oE '^ARG [A-Z][A-Z0-9_]*' Dockerfile | cut -d' ' -f2 | sort -u)
build_documented=$(section "## Build options" | first_column_names | sort -u)
while read -r v; do
  [ -n "$v" ] && problem "Dockerfile ARG $v has no row in Build options"
done < <(comm -23 <(echo "$build_args") <(echo "$build_documented"))

if ((status == 0)); then
  echo "docs/configuration.md: the flags of $checked binaries and $(wc -w <<<"$env_names")" \
    "environment variables are all documented"
fi
exit $status
