# garden-apiserver. `make run` starts a standalone server; `make test` runs every test.
SHELL := /usr/bin/env bash
.SHELLFLAGS := -eu -o pipefail -c

BIN        := _output/bin/garden-apiserver
STATE_DIR  ?= _output/state
PORT       ?= 8443
GO_TEST    ?= go test
# Packages of the main module; the e2e suite and hack/tools have their own targets.
UNIT_PKGS  := $(shell go list ./... | grep -v -e /test/e2e -e /test/integration)

.PHONY: all build run test unit integration e2e tools verify generate bench fuzz clean

all: build

# -s -w: no symbol table or DWARF (as Kubernetes release builds); stack traces and pprof still work.
build:
	go build -trimpath -ldflags "-s -w" -o $(BIN) ./cmd/apiserver

## run: standalone server on an embedded etcd, admin kubeconfig in $(STATE_DIR)
run: build
	$(BIN) --standalone --state-dir $(STATE_DIR) --bind-address 127.0.0.1 --secure-port $(PORT)

## test: unit, integration and end-to-end tests
test: unit integration e2e

# Unit and integration tests run under the race detector (once, not also without it).
RACE ?= -race

unit:
	$(GO_TEST) $(RACE) -count=1 $(UNIT_PKGS)

integration:
	$(GO_TEST) $(RACE) -count=1 -timeout 30m ./test/integration/...

## e2e: a real kube-apiserver and etcd (built once into _output/tools) in front of two replicas
# -trimpath: the same compiled packages as `make build` and `make lint`, not a third full compile.
e2e: tools build
	$(GO_TEST) -trimpath -count=1 -timeout 30m ./test/e2e/...

tools:
	./hack/build-tools.sh

## lint: golangci-lint with .golangci.yml (includes go vet)
LINT := _output/tools/bin/golangci-lint
.PHONY: lint
lint:
	./hack/build-tools.sh golangci-lint
	GOFLAGS=-trimpath $(LINT) run ./...

## verify: generated code is up to date, go.mod files are tidy, code is formatted and passes the linters
verify: lint
	./hack/verify-codegen.sh
	./hack/verify-tidy.sh
	@out=$$(gofmt -l cmd pkg test hack); if [[ -n "$$out" ]]; then echo "gofmt needed: $$out"; exit 1; fi

generate:
	./hack/update-codegen.sh

## bench: package micro-benchmarks, then a live standalone server under load (hack/bench.sh,
## writes the "Live server" section of docs/performance.md)
bench:
	$(GO_TEST) -run '^$$' -bench . -benchmem ./pkg/...
	./hack/bench.sh

## fuzz: run each fuzz target for FUZZTIME (seed corpora already run in `make unit`)
FUZZTIME ?= 10s
fuzz:
	$(GO_TEST) -run '^$$' -fuzz '^FuzzDecodeAndValidate$$' -fuzztime $(FUZZTIME) ./pkg/apis/core/validation
	$(GO_TEST) -run '^$$' -fuzz '^FuzzParseCA$$' -fuzztime $(FUZZTIME) ./pkg/pki
	$(GO_TEST) -run '^$$' -fuzz '^FuzzBuild$$' -fuzztime $(FUZZTIME) ./pkg/kubeconfig
	$(GO_TEST) -run '^$$' -fuzz '^FuzzLoadConfig$$' -fuzztime $(FUZZTIME) ./pkg/encryption

clean:
	rm -rf _output
