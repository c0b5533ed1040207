# One runtime image for every service of the project; the container's command picks the binary:
#   payment-processor (the processor emulator), ledger, router, edge.
# Base: debian:bookworm-slim (built locally by scripts/docker-setup.sh when it cannot be pulled).

# ---- build: Debian -dev packages first, so a code change does not reinstall them -------------
FROM debian:bookworm-slim AS build
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      g++ cmake ninja-build pkg-config \
      libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler \
      libabsl-dev libcpp-httplib-dev libsqlite3-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY CMakeLists.txt ./
COPY cmake cmake
COPY proto proto
COPY common common
COPY ledger ledger
COPY processor processor
COPY router router
COPY edge edge
RUN cmake -S . -B /build -G Ninja -DCMAKE_BUILD_TYPE=Release \
      -DRINHA_BUILD_TESTS=OFF -DRINHA_BUILD_BENCHMARKS=OFF \
 && cmake --build /build --target payment-processor ledger router edge \
 && mkdir -p /out \
 && cp /build/processor/payment-processor /build/ledger/ledger /build/router/router \
       /build/edge/edge /out/ \
 && strip /out/*

# ---- runtime: only the shared libraries, non-root ---------------------------------------------
FROM debian:bookworm-slim AS runtime
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      libgrpc++1.51 libprotobuf32 libabsl20220623 libcpp-httplib0.11 libsqlite3-0 \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 rinha \
 && useradd --system --uid 10001 --gid rinha --no-create-home rinha \
 && mkdir -p /var/lib/rinha /run/rinha \
 && chown rinha:rinha /var/lib/rinha /run/rinha
COPY --from=build /out/ /usr/local/bin/
USER rinha
CMD ["payment-processor"]
