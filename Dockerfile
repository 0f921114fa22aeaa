# prescale container image with a container engine: a build stage with the
# toolchain, and a final stage with only the runtime libraries, a non-root
# user and the binaries in /usr/local/bin: prescale (every command) and
# prescale-server (the daemon, which `prescale serve` runs).
#   docker build -t prescale:0.2.0 .
# deploy/image/build makes the image CI builds and runs, without an engine
# and without a shell in it (docs/deploy.md); tests/deploy checks that this
# file keeps its user, entrypoint, command and ports, and installs every
# library the binaries load.
FROM debian:bookworm-slim AS build
RUN apt-get update && apt-get install -y --no-install-recommends \
      cmake ninja-build g++ make pkg-config libeigen3-dev prometheus-cpp-dev \
      libcpp-httplib-dev libboost-dev libyaml-cpp-dev libfmt-dev catch2 libcurl4-openssl-dev libssl-dev \
      zlib1g-dev libhowardhinnant-date-dev tzdata libcli11-dev libspdlog-dev nlohmann-json3-dev \
      libsimdjson-dev libgrpc++-dev libprotobuf-dev protobuf-compiler protobuf-compiler-grpc \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
# Generic CPU: SIMD kernels are chosen at run time.
RUN cmake -S . -B /build -G Ninja -DCMAKE_BUILD_TYPE=Release -DPRESCALE_BUILD_TESTS=OFF \
    && cmake --build /build --target prescale \
    && strip /build/prescale /build/prescale-server

FROM debian:bookworm-slim
# Runtime libraries only (the -dev packages' shared objects), CA certificates
# for Prometheus over TLS, and the tz database for local-time seasonality.
# gRPC and protobuf are linked statically (adapters/keda/CMakeLists.txt);
# libcurl is opened at run time (adapters/curl_loader), so it is listed here
# although ldd does not show it.
RUN apt-get update && apt-get install -y --no-install-recommends \
      ca-certificates tzdata libyaml-cpp0.7 libfmt9 libcurl4 libssl3 zlib1g \
      libprometheus-cpp-core1.0 libdate-tz3 libsimdjson14 \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --gid 65532 prescale && useradd --uid 65532 --gid 65532 --no-create-home \
         --home-dir /nonexistent --shell /usr/sbin/nologin prescale
COPY --from=build /build/prescale /build/prescale-server /usr/local/bin/
USER 65532:65532
EXPOSE 6443 9443
ENTRYPOINT ["/usr/local/bin/prescale"]
CMD ["serve", "--config=/etc/prescale/config/config.yaml"]
