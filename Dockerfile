# Images of the project, linux/amd64, from Debian 12 packages only (debian:bookworm-slim is built
# locally by scripts/docker-setup.sh when it cannot be pulled):
#   --target lb       HAProxy (Debian's package) with config/haproxy.cfg
#   (default) runtime one image for every service; the command picks the binary:
#                     payment-processor (the processor emulator), ledger, router, edge
# Both run as uid 10001 and carry /usr/local/bin/healthcheck (scripts/docker-healthcheck.sh).
#
# The classic builder builds every stage above the requested target, so the cheap lb stages come
# first and `--target lb` never compiles C++. Runtime filesystems are flattened onto `scratch`
# after removing docs, man pages, locales and apt's caches, so deleted files cost nothing.

# ---- lb ----------------------------------------------------------------------------------------
FROM debian:bookworm-slim AS lb-root
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends haproxy \
 && apt-get clean \
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin /var/log/apt /var/log/dpkg.log \
      /usr/share/doc /usr/share/man /usr/share/info /usr/share/locale /usr/share/lintian \
 && groupadd --system --gid 10001 rinha \
 && useradd --system --uid 10001 --gid rinha --no-create-home --shell /usr/sbin/nologin rinha

FROM scratch AS lb
COPY --from=lb-root / /
COPY config/haproxy.cfg /etc/haproxy/haproxy.cfg
COPY scripts/docker-healthcheck.sh /usr/local/bin/healthcheck
ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    LB_BIND=:9999 EDGE1_ADDR=edge1:8080 EDGE2_ADDR=edge2:8080 LB_DNS=127.0.0.11:53
EXPOSE 9999
USER 10001:10001
# -W master-worker, -db stay in the foreground and log to stderr.
CMD ["haproxy", "-W", "-db", "-f", "/etc/haproxy/haproxy.cfg"]

# ---- build: Debian -dev packages first, then one stage per service --------------------------------
FROM debian:bookworm-slim AS build
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      g++ cmake ninja-build pkg-config binutils \
      libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler \
      libabsl-dev libcpp-httplib-dev libsqlite3-dev \
 && rm -rf /var/lib/apt/lists/*
# Parallel compile jobs: the build machine is shared (docker build --build-arg JOBS=4 to change).
ARG JOBS=2
WORKDIR /src
# Shared code first, with empty stand-ins for the services so CMake configures. Each service is
# then built in its own stage from this one, so a change in edge/ recompiles only the edge (its
# reconfigure and link included) and a change in processor/ only the emulator; proto/ or common/
# changes rebuild everything.
COPY CMakeLists.txt ./
COPY cmake cmake
COPY contest/CMakeLists.txt contest/CMakeLists.txt
COPY proto proto
COPY common common
RUN for d in ledger processor router edge; do mkdir -p "$d" && : >"$d/CMakeLists.txt"; done \
 && cmake -S . -B /build -G Ninja -DCMAKE_BUILD_TYPE=Release \
      -DRINHA_BUILD_TESTS=OFF -DRINHA_BUILD_BENCHMARKS=OFF >/dev/null \
 && cmake --build /build -j "$JOBS" --target rinha_proto rinha_common rinha_grpc_server

# COPY keeps the files' old mtimes, older than the stand-ins, so each stage re-runs CMake itself.
FROM build AS build-ledger
COPY ledger ledger
RUN cmake /build >/dev/null && cmake --build /build -j "$JOBS" --target ledger \
 && strip -o /ledger /build/ledger/ledger

FROM build AS build-router
COPY router router
RUN cmake /build >/dev/null && cmake --build /build -j "$JOBS" --target router \
 && strip -o /router /build/router/router

FROM build AS build-edge
COPY edge edge
RUN cmake /build >/dev/null && cmake --build /build -j "$JOBS" --target edge \
 && strip -o /edge /build/edge/edge

FROM build AS build-processor
COPY processor processor
RUN cmake /build >/dev/null && cmake --build /build -j "$JOBS" --target payment-processor \
 && strip -o /payment-processor /build/processor/payment-processor

# ---- runtime: only the shared libraries, non-root ----------------------------------------------
FROM debian:bookworm-slim AS runtime-root
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      libgrpc++1.51 libprotobuf32 libabsl20220623 libcpp-httplib0.11 libsqlite3-0 \
 && apt-get clean \
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin /var/log/apt /var/log/dpkg.log \
      /usr/share/doc /usr/share/man /usr/share/info /usr/share/locale /usr/share/lintian \
 && groupadd --system --gid 10001 rinha \
 && useradd --system --uid 10001 --gid rinha --no-create-home --shell /usr/sbin/nologin rinha \
 && mkdir -p /var/lib/rinha/edge-journal /var/lib/rinha/router-journal /run/rinha \
 && chown 10001:10001 /var/lib/rinha /var/lib/rinha/edge-journal /var/lib/rinha/router-journal \
      /run/rinha

FROM scratch AS runtime
COPY --from=runtime-root / /
COPY scripts/docker-healthcheck.sh /usr/local/bin/healthcheck
COPY --from=build-ledger /ledger /usr/local/bin/
COPY --from=build-router /router /usr/local/bin/
COPY --from=build-edge /edge /usr/local/bin/
COPY --from=build-processor /payment-processor /usr/local/bin/
ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
# A new named volume mounted on /var/lib/rinha, its journal directories or /run/rinha takes these
# directories' owner (10001).
USER 10001:10001
CMD ["payment-processor"]
