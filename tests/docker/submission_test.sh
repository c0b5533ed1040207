#!/usr/bin/env bash
# Test of scripts/submission.sh: the generated docker-compose.yml validates, builds nothing, uses
# exactly the image names given, publishes 9999, and has the same services, commands, health
# checks and limits as compose.yaml, less the services with profiles (the optional Prometheus);
# info.json has the contest's fields. Needs docker-compose only (no engine).
set -euo pipefail
cd "$(dirname "$0")/../.."
# shellcheck source=scripts/docker-lib.sh
source scripts/docker-lib.sh

fail() { echo "FAIL: $*" >&2; exit 1; }
command -v docker-compose >/dev/null || bash scripts/docker-setup.sh
out=$(mktemp -d /tmp/rinha-submission-test.XXXX)
trap 'rm -rf "$out"' EXIT
image=ghcr.io/example/rinha-backend-2025:test lb_image=ghcr.io/example/rinha-backend-2025-lb:test

bash scripts/submission.sh "$out" "$image" "$lb_image" >/dev/null
for f in docker-compose.yml info.json README.md; do [[ -s $out/$f ]] || fail "missing $f"; done
if bash scripts/submission.sh "$out/x" rinha-backend-2025:local "$lb_image" 2>/dev/null; then
  fail "accepted a local image name"
fi

sub=$(docker-compose -f "$out/docker-compose.yml" config) || fail "docker-compose.yml does not validate"
# `config` lists every service, those with profiles too: compose.yaml's less those.
without_profiled() {
  awk 'function flush() { if (!drop) printf "%s", block; block = ""; drop = 0 }
       /^services:/ { print; in_s = 1; next }
       in_s && /^[^ ]/ { flush(); in_s = 0 }
       in_s && /^  [A-Za-z0-9_.-]+:$/ { flush() }
       in_s && /^    profiles:/ { drop = 1 }
       in_s { block = block $0 "\n"; next }
       { print } END { flush() }'
}
ours=$(docker-compose -f compose.yaml config | without_profiled)
grep -q '^  prometheus:$' <<<"$ours" && fail "compose.yaml's prometheus is not left out of the comparison"
grep -Eq '^  prometheus:$|profiles:' <<<"$sub" && fail "the submission has a service with profiles"
grep -q 'build:' <<<"$sub" && fail "build section in the submission"
grep -q '\${' "$out/docker-compose.yml" && fail "variable left in the submission"
images=$(grep -E '^ +image:' <<<"$sub" | awk '{print $2}' | tr -d "\"'" | sort -u | tr '\n' ' ')
[[ $images == "$image $lb_image " || $images == "$lb_image $image " ]] || fail "images: $images"
grep -Eq "published: \"?9999\"?|- \"?9999:9999\"?|9999:9999" <<<"$sub" || fail "port 9999 not published"

# Same services and limits.
[[ $(compose_limits "$out/docker-compose.yml") == "$(compose_limits compose.yaml)" ]] ||
  fail "limits differ: $(compose_limits "$out/docker-compose.yml" | tr '\n' ';') vs $(compose_limits compose.yaml | tr '\n' ';')"
# Same everything else, once builds, images and host ports are set aside.
normalize() {
  awk '/^ +build:/ { match($0, /^ */); ind = RLENGTH; skip = 1; next }
       skip && match($0, /^ */) && RLENGTH > ind { next }
       { skip = 0 } /^ +image:/ { next } /published|target: 5005|127\.0\.0\.1/ { next } { print }'
}
diff <(normalize <<<"$ours" | grep -v -E '^ +(- )?(mode: ingress|protocol: tcp|host_ip:|ports:)') \
  <(normalize <<<"$sub" | grep -v -E '^ +(- )?(mode: ingress|protocol: tcp|host_ip:|ports:)') ||
  fail "submission differs from compose.yaml beyond images, builds and host ports"

info=$(cat "$out/info.json")
for key in name social source-code-repo langs storages messaging load-balancers; do
  grep -q "\"$key\":" <<<"$info" || fail "info.json lacks $key"
done
if command -v /usr/bin/python3 >/dev/null; then
  /usr/bin/python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$out/info.json" ||
    fail "info.json is not JSON"
fi
echo "submission test: 1 passed, 0 failed"
