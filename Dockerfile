# syntax=docker/dockerfile:1
# The operator image: a Rust build stage, then distroless (glibc, CA certificates, no shell)
# running as the nonroot user 65532. Build from the repository root:
#   docker build -t vpcroute-operator:0.1.0 .
# The project's build machines have no container engine, so this file is not built in CI.

ARG RUST_VERSION=1.95

FROM docker.io/library/rust:${RUST_VERSION}-bookworm AS builder
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
COPY src ./src
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked --bin vpcroute-operator \
    && install -D -m 0755 target/release/vpcroute-operator /out/vpcroute-operator

FROM gcr.io/distroless/cc-debian12:nonroot
LABEL org.opencontainers.image.title="vpcroute-operator" \
      org.opencontainers.image.description="Kubernetes operator that manages Tencent Cloud VPC routes as VpcRoute resources" \
      org.opencontainers.image.licenses="Apache-2.0"
COPY --from=builder /out/vpcroute-operator /usr/local/bin/vpcroute-operator
USER 65532:65532
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/vpcroute-operator"]
CMD ["run"]
