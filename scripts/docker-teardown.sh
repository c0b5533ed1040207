#!/usr/bin/env bash
# Stops the dockerd that scripts/docker-setup.sh started (and only that one).
set -euo pipefail
pidfile=/var/run/rinha-dockerd.pid
[ -f "$pidfile" ] || exit 0
pid=$(cat "$pidfile")
if kill -0 "$pid" 2>/dev/null; then
  kill -TERM "$pid"
  for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
  kill -0 "$pid" 2>/dev/null && kill -KILL "$pid"
fi
rm -f "$pidfile"
echo "[docker-teardown] dockerd $pid stopped"
