#!/usr/bin/env bash
# Makes a Docker engine usable on a Debian 12 machine without Docker Hub:
#   1. installs Debian's docker.io, docker-compose (v1.29) and debootstrap when missing;
#   2. starts dockerd when no engine answers (records its PID in /var/run/rinha-dockerd.pid so
#      scripts/docker-teardown.sh stops only a daemon we started);
#   3. builds a local debian:bookworm-slim base image with debootstrap when it cannot be pulled;
#   4. installs a `docker compose` shim forwarding to docker-compose when the v2 plugin is absent.
set -euo pipefail

log() { echo "[docker-setup] $*"; }

need=()
command -v dockerd >/dev/null 2>&1 || need+=(docker.io)
command -v docker-compose >/dev/null 2>&1 || need+=(docker-compose)
command -v debootstrap >/dev/null 2>&1 || need+=(debootstrap)
if ((${#need[@]})); then
  log "installing ${need[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    "${need[@]}" ca-certificates iptables >/dev/null
fi

if ! docker info >/dev/null 2>&1; then
  log "starting dockerd"
  nohup dockerd >/var/log/rinha-dockerd.log 2>&1 &
  echo $! >/var/run/rinha-dockerd.pid
  for _ in $(seq 1 120); do docker info >/dev/null 2>&1 && break; sleep 0.5; done
  docker info >/dev/null 2>&1 || { log "dockerd did not start; see /var/log/rinha-dockerd.log"; exit 1; }
fi

if ! docker image inspect debian:bookworm-slim >/dev/null 2>&1; then
  if ! docker pull debian:bookworm-slim >/dev/null 2>&1; then
    mirror=$(grep -h '^URIs:' /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -n1 | awk '{print $2}')
    [ -n "$mirror" ] || mirror=$(awk '/^deb / && $3 ~ /bookworm$/ {print $2; exit}' \
      /etc/apt/sources.list 2>/dev/null || true)
    # The mirror apt is configured with; without one, debootstrap's own default.
    log "building debian:bookworm-slim with debootstrap from ${mirror:-the default mirror of debootstrap}"
    rootfs=$(mktemp -d)
    trap 'rm -rf "$rootfs"' EXIT
    debootstrap --variant=minbase bookworm "$rootfs" ${mirror:+"$mirror"} >/tmp/rinha-debootstrap.log 2>&1 || {
      log "debootstrap failed; see /tmp/rinha-debootstrap.log"; exit 1; }
    rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
    tar -C "$rootfs" -c . | docker import - debian:bookworm-slim >/dev/null
  fi
fi

plugin=/usr/local/lib/docker/cli-plugins/docker-compose
if ! docker compose version >/dev/null 2>&1; then
  log "installing the 'docker compose' shim -> docker-compose"
  mkdir -p "$(dirname "$plugin")"
  cat >"$plugin" <<'SHIM'
#!/bin/sh
# Forwards `docker compose ...` to Debian's docker-compose v1.29 (no v2 plugin in Debian 12).
[ "$1" = "docker-cli-plugin-metadata" ] && {
  echo '{"SchemaVersion":"0.1.0","Vendor":"rinha","Version":"1.29-shim","ShortDescription":"docker-compose v1 shim"}'
  exit 0; }
shift
exec docker-compose "$@"
SHIM
  chmod +x "$plugin"
fi
log "ready: $(docker version --format '{{.Server.Version}}') with $(docker-compose version --short)"
