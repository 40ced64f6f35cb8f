#!/bin/sh
# Builds geth at exactly the go-ethereum version this module requires, into
# bin/geth at the top of the repository, so the fault suite runs the service
# against the same node code its chain client is built from.
#
# Usage: chain/devchain/build-geth.sh [output-dir]   (default: <repo>/bin)
#
# go.mod and go.sum are left alone: `go install pkg@version` resolves the
# command's dependencies from go-ethereum's own module, outside this one.
set -eu

root=$(cd "$(dirname "$0")/../.." && pwd)
out=${1:-$root/bin}
cd "$root"

version=$(go list -m -f '{{.Version}}' github.com/ethereum/go-ethereum)
if [ -z "$version" ]; then
	echo "build-geth: go.mod does not require github.com/ethereum/go-ethereum" >&2
	exit 1
fi

# geth prints "Version: 1.17.10-stable"; the module version is v1.17.10.
want=${version#v}
if [ -x "$out/geth" ] && "$out/geth" version 2>/dev/null | grep -q "^Version: $want-"; then
	echo "build-geth: $out/geth is already $version"
	exit 0
fi

mkdir -p "$out"
echo "build-geth: building geth $version into $out"
# GOFLAGS is set, not inherited, so no -mod or -tags meant for this module
# reaches geth's build; a module from the cache has no VCS data to stamp.
GOBIN=$out GOFLAGS=-buildvcs=false go install "github.com/ethereum/go-ethereum/cmd/geth@$version"
"$out/geth" version | grep -q "^Version: $want-" || {
	echo "build-geth: $out/geth does not report version $want" >&2
	exit 1
}
echo "build-geth: $out/geth is $version"
