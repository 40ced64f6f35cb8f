# redeemer: the Livepeer ticket redemption service.
GO       ?= go
PKGS     ?= ./...
# Fuzz budgets are counts of executions, never durations: a time budget lets
# Go 1.26's fuzz coordinator race its own deadline and fail with "context
# deadline exceeded" and no reproducer (golang/go#75804), while a count ends
# the run cleanly, so a fuzz failure always means a written reproducer.
# Every fuzz target, as package:Function:executions, each about 15 s of work
# on a 2-core machine; FUZZ_SCALE multiplies them.
FUZZ_TARGETS := rpc:FuzzDecodeTicket:30000 rpc:FuzzServerQueueTicket:30000 rpc:FuzzServerSenderRequest:3000 \
	rpc/client:FuzzClientMaxFloat:10000 rpc/client:FuzzClientSenderInfo:10000 \
	chain:FuzzTicketHash:1200 chain:FuzzRecoverSigner:60000
FUZZ_SCALE ?= 1
# The fault suite's fuzz scale (make chaos): about 2 minutes a target; CI
# passes 1.
CHAOS_FUZZ_SCALE ?= 8
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

.PHONY: all build run test fuzz chaos geth bench lint contracts proto clean

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

## fuzz: each fuzz target for its execution budget times FUZZ_SCALE
fuzz:
	@set -e; for t in $(FUZZ_TARGETS); do pkg=$${t%%:*}; rest=$${t#*:}; fn=$${rest%%:*}; n=$${rest##*:}; \
	  execs=$$((n * $(FUZZ_SCALE))); echo "fuzz: $$fn in ./$$pkg for $$execs executions"; \
	  $(GO) test -run '^$$' -fuzz "^$$fn$$" -fuzztime $${execs}x ./$$pkg/; done

## geth: bin/geth at the go-ethereum version in go.mod (the fault suite's real node)
geth:
	sh chain/devchain/build-geth.sh

## chaos: the fault suite, bounded (REDEEMER_CHAOS_LONG=1 runs it longer): a real geth node,
## the SIGKILL loop, a PostgreSQL restart, node faults, floods; then every fuzz target, scaled by CHAOS_FUZZ_SCALE
chaos: geth
	$(GO) test -tags chaos -count=1 -p 1 -timeout 45m -run 'Chaos|Flood' ./cmd/redeemer/ ./rpc/
	$(MAKE) fuzz FUZZ_SCALE=$(CHAOS_FUZZ_SCALE)

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
