# redeemer: build a static binary, run it as an unprivileged user.
#   docker build --build-arg VERSION=$(git describe --tags --always) -t redeemer .
#   docker run --rm redeemer version
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/redeemer ./cmd/redeemer

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/redeemer /usr/local/bin/redeemer
# The generated TLS certificate is kept here unless --tls-cert/--tls-key are given.
ENV REDEEMER_DATA_DIR=/var/lib/redeemer
VOLUME ["/var/lib/redeemer"]
EXPOSE 8935
USER nonroot:nonroot
ENTRYPOINT ["/usr/local/bin/redeemer"]
CMD ["serve"]
