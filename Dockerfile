# syntax=docker/dockerfile:1
# The waxwing image: the controller and its CLI, one binary with the built-in plugins
# embedded (host/builtin compiles them to wasm32-wasip2 during the build).
#
#   docker build -t ghcr.io/waxwing-dev/waxwing:0.1.0 .
#
# The image runs as the distroless nonroot user (65532) and writes nothing but the compiled
# plugin cache, whose directory is a flag (--plugin-cache-dir, an emptyDir in deploy/), so it
# runs with a read-only root filesystem.

FROM rust:1.95 AS build
RUN rustup target add wasm32-wasip2
WORKDIR /src
COPY . .
# The registry and target caches speed up rebuilds (BuildKit); the binary is copied out of the
# cached target directory in the same step.
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked -p waxwing \
 && cp target/release/waxwing /waxwing

FROM gcr.io/distroless/cc-debian12:nonroot
COPY --from=build /waxwing /waxwing
USER 65532:65532
ENTRYPOINT ["/waxwing"]
# No default command: `waxwing controller` without flags is the local-development setup (webhooks
# registered at https://127.0.0.1:9443, metrics on 127.0.0.1); in a cluster pass the flags of
# deploy/manifests/deployment.yaml (--webhook-service, --webhook-addr, --metrics-addr, ...).
CMD ["--help"]
