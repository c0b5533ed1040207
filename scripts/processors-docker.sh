#!/usr/bin/env bash
# Starts (or stops) the two payment-processor emulators with Docker, in the shape of the official
# processors' compose: `payment-processor` network, host ports 8001/8002, token 123.
#   scripts/processors-docker.sh up     # installs/starts Docker if needed, builds, starts
#   scripts/processors-docker.sh down   # stops and removes containers, network and volumes
set -euo pipefail
cd "$(dirname "$0")/.."
case "${1:-up}" in
  up)
    bash scripts/docker-setup.sh
    docker-compose -f compose.processors.yaml -p rinha-processors up -d --build
    echo "default:  http://localhost:${PROCESSOR_DEFAULT_HOST_PORT:-8001}"
    echo "fallback: http://localhost:${PROCESSOR_FALLBACK_HOST_PORT:-8002}"
    ;;
  down)
    docker-compose -f compose.processors.yaml -p rinha-processors down -v --remove-orphans
    ;;
  *) echo "usage: $0 up|down" >&2; exit 2 ;;
esac
