#!/usr/bin/env bash
# HAProxy's memory with every connection holding a full buffer. config/haproxy.cfg in front of two
# stand-in edges (hold_connections.py edge: 202 to every payment); HAProxy with its master process
# (-W, as the Docker image runs it) inside a cgroup v1 memory group (memory.limit_in_bytes and the
# same memsw limit, as scripts/contest.sh makes them; no CPU limit). Client connections are then
# opened in steps (--levels) and kept open, each making HAProxy hold a buffer (tune.bufsize, 4 KB):
#   head   an unfinished request head of FILL_HEAD bytes (no blank line: HAProxy waits for it);
#   body   a whole head announcing Content-Length 4096, FILL_BODY bytes of head and body in all
#          (HAProxy waits for the rest: http-request wait-for-body);
#   worst  the most a client can make it hold below maxconn: each connection sends one valid
#          POST /payments first (its 202 makes it a known client, past the soft limit for good),
#          then a body as above; one refused by the soft limit (503) is replaced by a new one
#          holding a head (no rule runs before a head ends).
# The fills are the most HAProxy keeps waiting for (100-200 connections, 7 Dec 2026): a head of
# 4,030 bytes is held, one of 4,040 answered 400; head and body of 2,950 bytes are held, 3,000 fill
# the buffer and HAProxy sends the request on. Beside them KNOWN keep-alive clients, opened first,
# send one POST /payments a second each (as the contest's clients), and at every step FRESH new
# connections send one POST each.
#
# Three waits of the configuration are raised to HOLD_S (120 s), for the measurement only:
# timeout http-request (1 s), wait-for-body's time (1 s) and timeout client (5 s; an unfinished
# head is closed at the later of it and timeout http-request). This client cannot open 12,000
# connections within 1 s; HAProxy holds the same buffer for 1 s or for 120 s, and maxconn bounds
# how many, however fast a client refills them.
#
# One row per step: connections opened so far; held (connected, sent, not closed by HAProxy);
# opened as body/head; HAProxy's own count (api frontend sessions, the known clients included:
# above maxconn the rest wait in the kernel's accept queue); held connections HAProxy answered or
# closed (by status; 408: a wait ran out); soft-limit 503s (worst); connections that could not
# connect, send, or (worst) get their first answer within 60 s; the group's memory.usage_in_bytes,
# max_usage_in_bytes (its peak so far), kernel part (kmem: sockets, epoll, files) and TCP socket
# buffers' peak (kmem.tcp, counted apart in cgroup v1, in the total in v2); HAProxy's RSS (master
# + worker, shared pages twice) now and at its peak; its pools' used bytes; the group's failcnt
# and OOM kills; the answers (status:count, none: none within 2 s) the known clients had during
# the step and the fresh connections got.
#
#   bench/haproxy/connections.sh [--memory=compose|SIZE] [--modes="head body worst"]
#                                [--levels=2600,5000,10000,12000,13000] [--config=FILE] [--out=FILE]
#     --memory  the group's limit: compose.yaml's for lb (default) or a size (512m, 1g)
#     --config  the HAProxy configuration (default config/haproxy.cfg; an older one: `git show
#               REV:config/haproxy.cfg >FILE`)
#     --out     also append the rows, each prefixed with its mode, to FILE
# Env: FILL_HEAD=4000, FILL_BODY=2900, KNOWN=10, FRESH=5, HOLD_S=120. Root (the cgroup) and
# python3. Raises its open-file limit to the hard one: the client needs one descriptor per
# connection, HAProxy (a process of its own) as many, and asks for two per maxconn (it starts with
# fewer: `no strict-limits`).
set -euo pipefail
cd "$(dirname "$0")/../.."
memory=compose modes="head body worst" levels=2600,5000,10000,12000,13000 out=""
config=config/haproxy.cfg
for arg in "$@"; do
  case "$arg" in
    --memory=*) memory=${arg#*=} ;;
    --modes=*) modes=${arg#*=} ;;
    --levels=*) levels=${arg#*=} ;;
    --config=*) config=${arg#*=} ;;
    --out=*) out=${arg#*=} ;;
    *) sed -n "2,$(grep -n '^set -euo' "$0" | cut -d: -f1)p" "$0" | head -n -1 >&2; exit 2 ;;
  esac
done
FILL_HEAD=${FILL_HEAD:-4000} FILL_BODY=${FILL_BODY:-2900}
KNOWN=${KNOWN:-10} FRESH=${FRESH:-5} HOLD_S=${HOLD_S:-120}
[ "$(id -u)" -eq 0 ] || { echo "connections.sh: needs root for the cgroup" >&2; exit 2; }
command -v haproxy >/dev/null || { echo "connections.sh: haproxy not installed" >&2; exit 2; }
# shellcheck source=scripts/free-port.sh
source scripts/free-port.sh
# shellcheck source=scripts/process-lib.sh
source scripts/process-lib.sh
log() { echo "[connections $(date -u +%H:%M:%S)] $*" >&2; }

# A compose size ("30MB", "512m", "1.5g"; binary units, as compose reads them) in bytes.
to_bytes() {
  python3 -c '
import re, sys
m = re.fullmatch(r"([0-9.]+)\s*([bkmgt]?)(i?b)?", sys.argv[1].strip().lower())
if not m: sys.exit("not a size: " + sys.argv[1])
print(int(float(m.group(1)) * 1024 ** " kmgt".index(m.group(2) or " ")))' "$1"
}
if [ "$memory" = compose ]; then
  memory=$(awk '/^  [A-Za-z0-9_-]+:/ { svc = $1 }
    svc == "lb:" && $1 == "memory:" { gsub(/"/, "", $2); print $2; exit }' compose.yaml)
  [ -n "$memory" ] || { echo "connections.sh: no memory limit for lb in compose.yaml" >&2; exit 1; }
  log "memory limit: compose.yaml's lb, $memory"
fi
limit_bytes=$(to_bytes "$memory")

ulimit -n "$(ulimit -Hn)"
TMP=$(mktemp -d /tmp/rinha-haproxy-connections.XXXXXX)
PIDS=()
GROUP=""
own=$(awk -F: '{ n = split($2, a, ","); for (i = 1; i <= n; i++) if (a[i] == "memory") print $3 }' \
  /proc/self/cgroup)
base=/sys/fs/cgroup/memory${own%/}
stop_haproxy() {
  if [ -n "${lb_pid:-}" ]; then
    kill -TERM "$lb_pid" 2>/dev/null || true
    wait "$lb_pid" 2>/dev/null || true
    lb_pid=""
  fi
  if [ -n "$GROUP" ] && [ -d "$GROUP" ]; then
    while read -r pid; do kill -KILL "$pid" 2>/dev/null || true; done <"$GROUP/cgroup.procs"
    for _ in $(seq 1 50); do rmdir "$GROUP" 2>/dev/null && break; sleep 0.1; done
    GROUP=""
  fi
}
cleanup() {
  stop_haproxy
  for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Two stand-in edges, outside the group.
edge_ports=()
for e in edge1 edge2; do
  spawn_ready "$e" "$TMP" python3 bench/haproxy/hold_connections.py edge
  PIDS+=("$SPAWNED_PID")
  edge_ports+=("$(spawned_field port)")
done
export EDGE1_ADDR=127.0.0.1:${edge_ports[0]} EDGE2_ADDR=127.0.0.1:${edge_ports[1]}

# The measurement's configuration: the given one with its waits raised to HOLD_S.
cfg=$TMP/haproxy.cfg
sed -e "s/^\(  timeout http-request\) 1s$/\1 ${HOLD_S}s/" \
  -e "s/^\(  timeout client\) 5s$/\1 ${HOLD_S}s/" \
  -e "s/\(http-request wait-for-body time\) 1s /\1 ${HOLD_S}s /" "$config" >"$cfg"
if [ "$(diff "$config" "$cfg" | grep -c '^>')" -ne 3 ]; then
  echo "connections.sh: $config: timeout http-request 1s, client 5s, wait-for-body 1s not found" >&2
  exit 1
fi
log "$config: maxconn $(grep -E '^\s*maxconn' "$config" | awk '{ print $2 }' | paste -sd/)" \
  "(global/api/metrics), soft limit $(grep -o 'fe_conn gt [0-9]*' "$config" | cut -d' ' -f3)," \
  "tune.bufsize $(awk '$1 == "tune.bufsize" { print $2 }' "$config"); timeout http-request," \
  "wait-for-body and timeout client ${HOLD_S}s for the measurement"

[ -z "$out" ] || : >"$out"
for mode in $modes; do
  case "$mode" in
    head | body | worst) ;;
    *) echo "connections.sh: --modes: head, body, worst" >&2; exit 2 ;;
  esac
  GROUP=$base/rinha-haproxy-connections-$$-$mode
  mkdir "$GROUP"
  echo "$limit_bytes" >"$GROUP/memory.limit_in_bytes"
  [ ! -f "$GROUP/memory.memsw.limit_in_bytes" ] ||
    echo "$limit_bytes" >"$GROUP/memory.memsw.limit_in_bytes"
  # TCP socket buffers: cgroup v1 counts them only once a limit is set, and apart (kmem.tcp).
  { echo 1073741824 >"$GROUP/memory.kmem.tcp.limit_in_bytes"; } 2>/dev/null || true
  port=$(free_port) metrics_port=$(free_port)
  export LB_BIND=127.0.0.1:$port LB_METRICS_BIND=127.0.0.1:$metrics_port
  (
    echo "$BASHPID" >"$GROUP/cgroup.procs"
    exec haproxy -W -db -f "$cfg"
  ) >"$TMP/haproxy-$mode.out" 2>"$TMP/haproxy-$mode.err" </dev/null &
  lb_pid=$!
  for _ in $(seq 1 100); do
    curl -sf -m 1 -o /dev/null "http://$LB_METRICS_BIND/metrics" && break
    kill -0 "$lb_pid" 2>/dev/null || { cat "$TMP/haproxy-$mode.err" >&2; exit 1; }
    sleep 0.1
  done
  pids=$(paste -sd, "$GROUP/cgroup.procs")
  log "mode $mode: HAProxy pids $pids, group limit $((limit_bytes >> 20)) MiB;" \
    "a connection holds $FILL_HEAD bytes of head or $FILL_BODY of head and body"
  grep -i 'warning\|alert' "$TMP/haproxy-$mode.err" | sed 's/^/  haproxy: /' >&2 || true
  python3 bench/haproxy/hold_connections.py hold --target="$LB_BIND" \
    --metrics="http://$LB_METRICS_BIND/metrics" --cgroup="$GROUP" --pids="$pids" \
    --levels="$levels" --mode="$mode" --fill_head="$FILL_HEAD" --fill_body="$FILL_BODY" \
    --known="$KNOWN" --fresh="$FRESH" |
    { if [ -n "$out" ]; then sed "s/^/$mode\t/" | tee -a "$out"; else sed "s/^/$mode\t/"; fi; }
  kill -0 "$lb_pid" 2>/dev/null ||
    log "mode $mode: HAProxy exited ($(tail -n 2 "$TMP/haproxy-$mode.err" | tr '\n' ' '))"
  stop_haproxy
done
