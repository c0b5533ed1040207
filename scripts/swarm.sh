#!/usr/bin/env bash
# Our backend on Docker Swarm on this machine: swarm/stack.yaml (HAProxy, replicated edges, two
# router shards each with its own ledger) next to swarm/processors.yaml (the emulators), from the
# images compose.yaml builds (docs/design.md, "Beyond one host").
#   scripts/swarm.sh up     Docker as scripts/docker-setup.sh makes it usable (dockerd started when
#                           none answers); `docker swarm init` when this engine is in no swarm
#                           (remembered, so that `down` leaves it again); this node labelled with
#                           every shard (rinha-shard-0, rinha-shard-1 = yes); compose.yaml's two
#                           images (built as the docker stage builds them: from the cache when
#                           nothing changed, under a second); both stacks deployed; returns
#                           once every service runs its replicas and GET /payments-summary on the
#                           load balancer answers < 400.
#   scripts/swarm.sh down   both stacks and their volumes removed, the labels taken off, the swarm
#                           left if `up` created it, dockerd stopped if docker-setup started it.
#   scripts/swarm.sh test   up, tests/swarm/swarm_test.sh (the edges scaled 2 -> 4 -> 2, a router
#                           shard SIGKILLed, a shard's ledger killed, each under the contest's load;
#                           nothing lost or paid twice, the summary exact, health calls within the
#                           budget), then down, also when it fails. Free host ports unless given.
# Options: --stack=NAME (rinha), --processors-stack=NAME (rinha-processors), --keep (test: leave
# it up when it passes). Environment: LB_HOST_PORT (9999), PROCESSOR_DEFAULT_HOST_PORT (8001),
# PROCESSOR_FALLBACK_HOST_PORT (8002), RINHA_IMAGE, RINHA_LB_IMAGE; RINHA_LOAD_BIN (test).
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/docker-lib.sh
source scripts/docker-lib.sh
DLOG_TAG=swarm

command=${1:-}
[[ $# -gt 0 ]] && shift
stack=rinha processors=rinha-processors keep=0
for arg in "$@"; do
  case "$arg" in
    --stack=*) stack=${arg#*=} ;;
    --processors-stack=*) processors=${arg#*=} ;;
    --keep) keep=1 ;;
    -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d'; exit 0 ;;
    *) echo "unknown argument: $arg (see --help)" >&2; exit 2 ;;
  esac
done
export RINHA_IMAGE=${RINHA_IMAGE:-rinha-backend-2025:local}
export RINHA_LB_IMAGE=${RINHA_LB_IMAGE:-rinha-backend-2025-lb:local}
# What `up` changed, for `down` to undo: "swarm" when it initialised the swarm.
state=/var/run/rinha-swarm.state
shards=(0 1)

node_id() { docker info --format '{{.Swarm.NodeID}}'; }

up() {
  export LB_HOST_PORT=${LB_HOST_PORT:-9999}
  export PROCESSOR_DEFAULT_HOST_PORT=${PROCESSOR_DEFAULT_HOST_PORT:-8001}
  export PROCESSOR_FALLBACK_HOST_PORT=${PROCESSOR_FALLBACK_HOST_PORT:-8002}
  local t0 swarm_state
  t0=$(date +%s.%N)
  bash scripts/docker-setup.sh >&2
  swarm_state=$(docker info --format '{{.Swarm.LocalNodeState}}')
  if [[ $swarm_state == inactive ]]; then
    dlog "docker swarm init (this engine was in no swarm; down leaves it again)"
    docker swarm init --advertise-addr 127.0.0.1 >/dev/null
    echo swarm >>"$state"
  elif [[ $swarm_state != active ]]; then
    dlog "this engine's swarm is '$swarm_state'"; return 1
  fi
  [[ $(docker info --format '{{.Swarm.ControlAvailable}}') == true ]] ||
    { dlog "this node is not a swarm manager: cannot deploy"; return 1; }
  # Single node: every shard's durable state lives here.
  local labels=()
  for i in "${shards[@]}"; do labels+=(--label-add "rinha-shard-$i=yes"); done
  docker node update "${labels[@]}" "$(node_id)" >/dev/null
  # A bridge network of that name (compose.processors.yaml running) cannot be joined by services.
  if docker network inspect payment-processor >/dev/null 2>&1 &&
    [[ $(docker network inspect -f '{{.Scope}}' payment-processor) != swarm ]]; then
    dlog "a non-swarm network payment-processor exists (compose.processors.yaml is up?)"; return 1
  fi

  # compose.yaml's two images, as the docker stage builds them: every layer comes from the cache
  # when nothing changed (under a second), so an image never lags behind the sources.
  dlog "images (compose.yaml's lb, and ledger for the shared runtime image; cached layers reused)"
  docker-compose -f compose.yaml -p rinha-swarm-build build lb ledger >/tmp/rinha-swarm-build.log 2>&1 ||
    { tail -30 /tmp/rinha-swarm-build.log >&2; return 1; }

  dlog "deploying $processors (swarm/processors.yaml) and $stack (swarm/stack.yaml)"
  docker stack deploy --resolve-image never -c swarm/processors.yaml "$processors" >/dev/null
  docker stack deploy --resolve-image never -c swarm/stack.yaml "$stack" >/dev/null
  wait_converged "$processors" 120 && wait_converged "$stack" 120 ||
    { docker stack ps --no-trunc "$stack" >&2 || true; return 1; }
  wait_http "http://127.0.0.1:$LB_HOST_PORT/payments-summary" 120 ||
    { dlog "GET /payments-summary not < 400 after 120 s"; return 1; }
  dlog "up in $(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b - a}') s: API on" \
    ":$LB_HOST_PORT, processors on :$PROCESSOR_DEFAULT_HOST_PORT, :$PROCESSOR_FALLBACK_HOST_PORT"
}

# wait_converged STACK TIMEOUT_S: until every service of STACK runs as many tasks as it wants.
wait_converged() {
  local deadline=$(($(date +%s) + $2)) line
  while (($(date +%s) < deadline)); do
    line=$(docker stack services --format '{{.Replicas}}' "$1" 2>/dev/null |
      awk -F/ '$1 != $2 || $1 == "" { bad = 1 } END { print (NR > 0 && !bad) ? "ok" : "no" }')
    [[ $line == ok ]] && return 0
    sleep 0.5
  done
  dlog "$1 did not converge in $2 s:"
  docker stack services "$1" >&2 || true
  return 1
}

down() {
  docker info >/dev/null 2>&1 || { rm -f "$state"; return 0; }
  local s
  for s in "$stack" "$processors"; do
    docker stack rm "$s" >/dev/null 2>&1 || true
  done
  # Removal is asynchronous: the containers go first, then the networks; volumes only by hand.
  local deadline=$(($(date +%s) + 60))
  while (($(date +%s) < deadline)); do
    [[ -z $(docker ps -aq --filter "label=com.docker.stack.namespace=$stack") &&
      -z $(docker ps -aq --filter "label=com.docker.stack.namespace=$processors") ]] && break
    sleep 0.5
  done
  docker volume ls -q | grep -E "^${stack}_" | xargs -r docker volume rm >/dev/null 2>&1 || true
  while (($(date +%s) < deadline)); do
    [[ -z $(docker network ls -q --filter "label=com.docker.stack.namespace=$stack") &&
      -z $(docker network ls -q --filter "label=com.docker.stack.namespace=$processors") ]] && break
    sleep 0.5
  done
  if [[ $(docker info --format '{{.Swarm.LocalNodeState}}') == active ]]; then
    local labels=()
    for i in "${shards[@]}"; do labels+=(--label-rm "rinha-shard-$i"); done
    docker node update "${labels[@]}" "$(node_id)" >/dev/null 2>&1 || true
    if grep -qx swarm "$state" 2>/dev/null; then
      dlog "leaving the swarm up created"
      docker swarm leave --force >/dev/null
    fi
  fi
  rm -f "$state"
  bash scripts/docker-teardown.sh >&2 || true
}

case "$command" in
  up) up ;;
  down) down ;;
  test)
    if [[ -z ${LB_HOST_PORT:-} ]]; then
      LB_HOST_PORT=$(free_port) PROCESSOR_DEFAULT_HOST_PORT=$(free_port)
      PROCESSOR_FALLBACK_HOST_PORT=$(free_port)
      export LB_HOST_PORT PROCESSOR_DEFAULT_HOST_PORT PROCESSOR_FALLBACK_HOST_PORT
    fi
    t0=$(date +%s.%N)
    status=0
    up || status=$?
    if ((status == 0)); then
      t_up=$(date +%s.%N)
      SWARM_STACK=$stack bash tests/swarm/swarm_test.sh || status=$?
    fi
    if ((status == 0 && keep)); then
      dlog "left running (--keep); stop with: scripts/swarm.sh down"
    else
      ((status == 0)) || docker stack ps --no-trunc "$stack" 2>/dev/null | tail -20 >&2 || true
      down
    fi
    t_end=$(date +%s.%N)
    dlog "swarm test $( ((status == 0)) && echo passed || echo FAILED): up $(awk -v a="$t0" \
      -v b="${t_up:-$t_end}" 'BEGIN{printf "%.0f", b - a}') s, whole $(awk -v a="$t0" \
      -v b="$t_end" 'BEGIN{printf "%.0f", b - a}') s"
    exit $status ;;
  *) echo "usage: $0 up|down|test [--stack=NAME] [--processors-stack=NAME] [--keep]" >&2; exit 2 ;;
esac
