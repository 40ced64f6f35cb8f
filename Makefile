# redeemer: the Livepeer ticket redemption service.
GO       ?= go
PKGS     ?= ./...
FUZZTIME ?= 20s
BIN      ?= bin/redeemer
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)

# Tests need a real PostgreSQL. When TEST_DATABASE_URL is not set and the
# local server answers (as on the dev and CI machines), use it; otherwise the
# tests fall back to testcontainers, and fail loudly without Docker.
ifeq ($(origin TEST_DATABASE_URL), undefined)
  ifeq ($(shell pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null && echo up),up)
    export TEST_DATABASE_URL := postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable
  endif
endif

.PHONY: all build run test fuzz bench lint contracts proto clean

all: lint test

## build: bin/redeemer with its version (`bin/redeemer version`)
build:
	$(GO) build -trimpath -ldflags "-X main.version=$(VERSION)" -o $(BIN) ./cmd/redeemer

## run: the service in dev mode on an embedded simulated chain (writes redeemer-dev.json)
run:
	$(GO) run ./cmd/redeemer dev --info-file redeemer-dev.json

## test: every test, with the race detector, against real PostgreSQL and a real EVM
test:
	$(GO) test -race -count=1 -timeout 14m $(PKGS)

## fuzz: each fuzz target for FUZZTIME
fuzz:
	$(GO) test -run '^$$' -fuzz '^FuzzDecodeTicket$$' -fuzztime $(FUZZTIME) ./rpc/

## bench: every benchmark once, one package at a time, then BENCHMARKS.md from the output (bench.out)
bench:
	bash -o pipefail -c "$(GO) test -p 1 -count=1 -run '^$$' -bench . -benchtime 1x -timeout 60m $(PKGS) 2>&1 | tee bench.out"
	$(GO) run ./cmd/benchreport -in bench.out -out BENCHMARKS.md

lint:
	$(GO) vet $(PKGS)
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './chain/contracts/node_modules/*')); \
	  if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

## contracts: recompile the dev contracts (needs npm) and regenerate their Go bindings
contracts:
	bash chain/contracts/compile.sh

## proto: regenerate rpc/pb from rpc/pb/redeemer.proto (needs protoc)
proto:
	bash rpc/pb/gen.sh

clean:
	rm -rf bin redeemer-dev.json bench.out
