#!/bin/bash
# Container health checks for images that have bash but neither curl nor
# grpc_health_probe (compose.yaml's healthcheck entries call this as /usr/local/bin/healthcheck):
#   healthcheck http PORT PATH   GET http://127.0.0.1:PORT/PATH; healthy when the status is < 400
#   healthcheck grpc PORT        grpc.health.v1.Health/Check at 127.0.0.1:PORT answers SERVING
#                                for the whole server
# A socket that merely exists or a port that merely accepts is not enough: the check goes through
# the same listener and protocol the other services use.
set -euo pipefail

http_check() {
  local port=$1 path=$2 proto code
  exec 3<>"/dev/tcp/127.0.0.1/$port"
  printf 'GET %s HTTP/1.0\r\nHost: localhost\r\n\r\n' "$path" >&3
  read -r -t 2 proto code _ <&3
  [[ $proto == HTTP/* && $code =~ ^[0-9]+$ ]] && ((code < 400))
}

# A hand-made HTTP/2 exchange over bash's /dev/tcp (no perl, no client binary: a check costs a few
# ms of the container's CPU quota): client preface, empty SETTINGS, one HEADERS frame (HPACK
# literals, no Huffman, no dynamic table) for POST /grpc.health.v1.Health/Check, one DATA frame
# holding an empty HealthCheckRequest. The answer's DATA frame carries the gRPC message
# 00 00000002 08 01 (status = SERVING; NOT_SERVING would end in 02).
grpc_check() {
  local port=$1 path=/grpc.health.v1.Health/Check hdr len
  hdr='\x83\x86\x04\x1c'"$path"'\x01\x09localhost\x0f\x10\x10application/grpc\x00\x02te\x08trailers'
  len=$((2 + 2 + ${#path} + 11 + 19 + 13))
  exec 3<>"/dev/tcp/127.0.0.1/$port"
  printf 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x00\x04\x00\x00\x00\x00\x00' >&3
  printf "\\x00\\x00\\x$(printf %02x "$len")\\x01\\x04\\x00\\x00\\x00\\x01$hdr" >&3
  printf '\x00\x00\x05\x00\x01\x00\x00\x00\x01\x00\x00\x00\x00\x00' >&3
  # Match the byte sequence 00 00 00 00 02 08 01 (bash reads a NUL as an empty string).
  local want=("" "" "" "" $'\x02' $'\x08' $'\x01') i=0 c n=0
  while ((n < 4096)) && IFS= read -r -d '' -n 1 -t 2 c <&3; do
    n=$((n + 1))
    if [[ $c == "${want[i]}" ]]; then
      i=$((i + 1))
      ((i == ${#want[@]})) && return 0
    elif [[ $c == "" ]]; then
      # A NUL that breaks a match: it may start the next one (after four NULs, a fifth keeps
      # the last four).
      ((i == 4)) || i=1
    else
      i=0
    fi
  done
  return 1
}

case "${1:-}" in
  http) http_check "${2:?port}" "${3:-/}" ;;
  grpc) grpc_check "${2:?port}" ;;
  *) echo "usage: $0 http PORT PATH | grpc PORT" >&2; exit 2 ;;
esac
