# redeemer: build a static binary, run it as an unprivileged user.
#   docker build --build-arg VERSION=$(git describe --tags --always) -t redeemer .
#   docker run --rm redeemer version
# deploy/compose.yaml runs it with PostgreSQL and Prometheus for a trial.
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/redeemer ./cmd/redeemer \
 && mkdir -p /out/data

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/redeemer /usr/local/bin/redeemer
# The generated TLS certificate is kept here unless --tls-cert/--tls-key are
# given. The directory belongs to nonroot, so a new volume mounted on it does
# too (the image has no shell to fix ownership at start).
COPY --from=build --chown=65532:65532 /out/data /var/lib/redeemer
ENV REDEEMER_DATA_DIR=/var/lib/redeemer
# Metrics and health on every interface of the container, so Prometheus and
# the orchestrator's probes reach them; publish 9102 only where they run.
# Set the address through this variable, not a flag: the HEALTHCHECK reads it.
ENV REDEEMER_METRICS_ADDR=0.0.0.0:9102
VOLUME ["/var/lib/redeemer"]
EXPOSE 8935 9102
# Exec form: distroless has no shell. Healthy means /readyz answers 200:
# database and schema, node, leadership settled, head not lagging.
HEALTHCHECK --interval=30s --timeout=10s --start-period=60s --retries=3 \
  CMD ["/usr/local/bin/redeemer", "healthcheck", "--timeout", "8s"]
USER nonroot:nonroot
ENTRYPOINT ["/usr/local/bin/redeemer"]
CMD ["serve"]
