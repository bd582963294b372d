GO ?= go
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS = -s -w -X github.com/noema-project/noema/internal/cli.Version=$(VERSION)

.PHONY: build test bench

build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags "$(LDFLAGS)" -o noema ./cmd/noema

test:
	./scripts/test.sh

bench:
	$(GO) test -run '^$$' -bench . -benchtime 3x ./evidence/ ./policy/
