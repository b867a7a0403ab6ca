# garden-apiserver. `make run` starts a standalone server; `make test` runs every test.
SHELL := /usr/bin/env bash
.SHELLFLAGS := -eu -o pipefail -c

BIN        := _output/bin/garden-apiserver
STATE_DIR  ?= _output/state
PORT       ?= 8443
GO_TEST    ?= go test
# Packages of the main module; the e2e suites, the image test and hack/tools have their own targets.
UNIT_PKGS  := $(shell go list ./... | grep -v -e /test/e2e -e /test/integration -e /test/alerts -e /hack/image)

.PHONY: all build plugin image image-test run test unit integration e2e compat robustness tools verify generate bench fuzz clean monitoring-test monitoring-generate

all: build

# -s -w: no symbol table or DWARF (as Kubernetes release builds); stack traces and pprof still work.
# hack/version.sh stamps the version, commit and build date into pkg/buildinfo. Static
# (CGO_ENABLED=0) like the image's binary, so `make image` reuses this compile.
build:
	CGO_ENABLED=0 go build -trimpath -ldflags "-s -w $$(./hack/version.sh)" -o $(BIN) ./cmd/apiserver

## plugin: kubectl-shootlogin, the credential plugin for shoots (README "Use a shoot without copying kubeconfigs")
plugin:
	CGO_ENABLED=0 go build -trimpath -ldflags "-s -w $$(./hack/version.sh)" -o _output/bin/kubectl-shootlogin ./cmd/kubectl-shootlogin

## image: a container image of the server (static binary, empty base, UID 65532) written to $(IMAGE_TAR)
## by hack/image, no container engine needed; image-test reads it back and runs its binary.
IMAGE_TAR  ?= _output/image/garden-apiserver.tar
IMAGE_NAME ?= garden-apiserver
# The version is taken once, so the binary and the labels agree.
image:
	mkdir -p _output/image
	export VERSION="$$(./hack/version.sh version)" GIT_COMMIT="$$(./hack/version.sh commit)"; \
	CGO_ENABLED=0 GOOS=linux go build -trimpath -ldflags "-s -w $$(./hack/version.sh)" -o _output/image/garden-apiserver ./cmd/apiserver && \
	go run ./hack/image --binary _output/image/garden-apiserver --name $(IMAGE_NAME) --out $(IMAGE_TAR) \
		--version "$$VERSION" --revision "$$GIT_COMMIT"

image-test: image
	IMAGE_TAR=$(abspath $(IMAGE_TAR)) $(GO_TEST) -count=1 ./hack/image

## run: standalone server on an embedded etcd, admin kubeconfig in $(STATE_DIR)
run: build
	$(BIN) --standalone --state-dir $(STATE_DIR) --secure-port $(PORT)

## test: unit, integration and end-to-end tests, the alert rules' tests, and the image's test
test: monitoring-test unit integration e2e image-test

## monitoring-test: promtool check rules and promtool test rules on artifacts/monitoring
## (installs Debian's prometheus package when promtool is missing)
monitoring-test:
	./hack/monitoring-test.sh

## monitoring-generate: artifacts/monitoring/prometheusrule.yaml from the plain rule files
monitoring-generate:
	go run ./hack/monitoring

# Unit and integration tests run under the race detector (once, not also without it).
RACE ?= -race

unit:
	$(GO_TEST) $(RACE) -count=1 $(UNIT_PKGS)

integration:
	$(GO_TEST) $(RACE) -count=1 -timeout 30m ./test/integration/...

## e2e: a real kube-apiserver and etcd (built once into _output/tools) in front of two replicas;
## test/alerts: the rules of artifacts/monitoring on a real Prometheus scraping two replicas
# CGO_ENABLED=0 -trimpath: the same compiled packages as `make build`, not another full compile.
e2e: tools build plugin
	./hack/install-prometheus.sh
	CGO_ENABLED=0 $(GO_TEST) -trimpath -count=1 -timeout 30m ./test/e2e/... ./test/alerts/...

## compat: our types and a live standalone server against Gardener's published API module
## (test/compat, its own go.mod; docs/protobuf.md "Gardener's clients")
compat: build
	cd test/compat && GARDEN_APISERVER_BIN=$(abspath $(BIN)) $(GO_TEST) -count=1 ./...

## robustness: traffic through two replicas on a 3-member etcd cluster under faults, checked for
## linearizability (porcupine) and watch guarantees (docs/reliability.md). Short profile by default
## (about 3 minutes); ROBUSTNESS_PROFILE=long is the 30-minute release check.
ROBUSTNESS_PROFILE ?= short
ROBUSTNESS_TIMEOUT ?= $(if $(filter long,$(ROBUSTNESS_PROFILE)),90m,15m)
robustness: tools build
	cd test/robustness && ROBUSTNESS_PROFILE=$(ROBUSTNESS_PROFILE) CGO_ENABLED=0 $(GO_TEST) -trimpath -count=1 -v -timeout $(ROBUSTNESS_TIMEOUT) ./...

tools:
	./hack/build-tools.sh

## lint: golangci-lint with .golangci.yml (includes go vet)
LINT := _output/tools/bin/golangci-lint
.PHONY: lint
lint:
	./hack/build-tools.sh golangci-lint
	GOFLAGS=-trimpath $(LINT) run ./...
	cd test/compat && GOFLAGS=-trimpath $(abspath $(LINT)) run ./...
	cd test/robustness && GOFLAGS=-trimpath $(abspath $(LINT)) run ./...

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
	./hack/bench-keypool.sh

## fuzz: run each fuzz target for FUZZTIME (seed corpora already run in `make unit`)
FUZZTIME ?= 10s
fuzz:
	$(GO_TEST) -run '^$$' -fuzz '^FuzzDecodeAndValidate$$' -fuzztime $(FUZZTIME) ./pkg/apis/core/validation
	$(GO_TEST) -run '^$$' -fuzz '^FuzzParseCA$$' -fuzztime $(FUZZTIME) ./pkg/pki
	$(GO_TEST) -run '^$$' -fuzz '^FuzzBuild$$' -fuzztime $(FUZZTIME) ./pkg/shootaccess
	$(GO_TEST) -run '^$$' -fuzz '^FuzzLoadConfig$$' -fuzztime $(FUZZTIME) ./pkg/encryption

clean:
	rm -rf _output
