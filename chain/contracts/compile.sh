#!/usr/bin/env bash
# Regenerates build/*.abi, build/*.bin, build/*.bin-runtime and the Go
# bindings from src/*.sol.
# Run from anywhere (e.g. `bash chain/contracts/compile.sh` at the repo root,
# or `make contracts`). Safe to re-run: unchanged sources give identical files.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$here"

# npm ci keeps the compiler exactly at the version in package-lock.json;
# skip it when that version is already installed so re-runs work offline.
want="$(node -p 'require("./package-lock.json").packages["node_modules/solc"].version')"
have="$(node -p 'try { require("./node_modules/solc/package.json").version } catch (e) { "" }')"
if [[ "$want" != "$have" ]]; then
	npm ci --no-audit --no-fund
fi

node compile.js

# abigen runs at the go-ethereum version the module already depends on, but
# outside the module (version suffix) so its CLI dependencies stay out of go.mod.
gethver="$(cd "$here/../.." && go list -m -f '{{.Version}}' github.com/ethereum/go-ethereum)"
for name in Controller RoundsManager BondingManager TicketBroker Multicall3; do
	lower="$(tr '[:upper:]' '[:lower:]' <<<"$name")"
	go run "github.com/ethereum/go-ethereum/cmd/abigen@${gethver}" \
		--abi "build/${name}.abi" --bin "build/${name}.bin" \
		--pkg contracts --type "$name" --out "${lower}.go"
done
echo "bindings regenerated with abigen ${gethver}"
