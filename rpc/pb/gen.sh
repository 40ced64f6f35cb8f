#!/usr/bin/env bash
# Regenerates rpc/pb/*.pb.go from redeemer.proto. Run from the repository root
# (make proto). The plugins are pinned and built into ./.bin so that every
# machine produces byte-identical output regardless of what is on its PATH.
set -euo pipefail

PROTOC_GEN_GO_VERSION=v1.36.12     # keep equal to google.golang.org/protobuf in go.mod
PROTOC_GEN_GO_GRPC_VERSION=v1.6.2

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$root"
bin="$root/.bin"

if ! command -v protoc >/dev/null 2>&1; then
	echo "gen.sh: protoc not found; install it with: apt-get install protobuf-compiler" >&2
	exit 1
fi

# Reinstall when the binary is missing or reports a different version, so a
# bumped pin takes effect without anyone clearing .bin by hand.
ensure_plugin() {
	local name=$1 pkg=$2 version=$3 want=$4
	if [[ -x "$bin/$name" ]] && [[ "$("$bin/$name" --version 2>/dev/null)" == "$want" ]]; then
		return
	fi
	echo "gen.sh: installing $pkg@$version into .bin" >&2
	GOBIN="$bin" go install "$pkg@$version"
}

mkdir -p "$bin"
ensure_plugin protoc-gen-go google.golang.org/protobuf/cmd/protoc-gen-go \
	"$PROTOC_GEN_GO_VERSION" "protoc-gen-go $PROTOC_GEN_GO_VERSION"
ensure_plugin protoc-gen-go-grpc google.golang.org/grpc/cmd/protoc-gen-go-grpc \
	"$PROTOC_GEN_GO_GRPC_VERSION" "protoc-gen-go-grpc ${PROTOC_GEN_GO_GRPC_VERSION#v}"

PATH="$bin:$PATH" protoc \
	--proto_path=rpc/pb \
	--go_out=rpc/pb --go_opt=paths=source_relative \
	--go-grpc_out=rpc/pb --go-grpc_opt=paths=source_relative \
	rpc/pb/redeemer.proto
