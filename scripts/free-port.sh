# free_port: prints a TCP port on which no socket exists right now (sourced, not run).
# Candidates come from below the kernel's ephemeral range, so the outgoing connections that other
# processes open meanwhile (which take their local ports from that range) cannot claim it before
# the caller binds it. Every state counts as taken (listening, connected, TIME-WAIT), as bind
# would see it. Bash cannot bind port 0 and pass the socket on, so a race with another process
# choosing the same port remains; callers that can see a bind failure retry with a new port.
# shellcheck shell=bash

free_port() {
  local low=32768 high candidate tries=0
  read -r low _ </proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || true
  high=$((low - 1))
  ((high > 11000)) || high=65535  # an unusual ephemeral range: fall back to the whole space
  while ((tries++ < 1000)); do
    candidate=$((10000 + (RANDOM * 32768 + RANDOM) % (high - 10000 + 1)))
    if ! ss -Htan "sport = :$candidate" 2>/dev/null | grep -q .; then
      echo "$candidate"
      return 0
    fi
  done
  echo "free_port: no free port found in 10000-$high" >&2
  return 1
}
