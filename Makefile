GO ?= go
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS = -s -w -X github.com/noema-project/noema/internal/cli.Version=$(VERSION)
# Packaging: the target architecture, and the time stamped into man pages
# and the .deb (the last commit's, so a rebuild gives the same bytes).
GOARCH ?= $(shell $(GO) env GOARCH)
SOURCE_DATE_EPOCH ?= $(shell git log -1 --format=%ct 2>/dev/null || date +%s)
export SOURCE_DATE_EPOCH
# The tools module (tools/go.mod) builds the main module from this checkout;
# -mod=mod lets it pick up a dependency the main module gained since
# tools/go.sum was last updated, instead of failing. The same CGO_ENABLED
# and -trimpath as the binary let both builds share compiled packages; the
# tools themselves always run here, whatever GOARCH the package is for.
TOOLS_GO = cd tools && CGO_ENABLED=0 GOOS= GOARCH= $(GO) run -mod=mod -trimpath

.PHONY: build test bench docs deb tools-mod

build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags "$(LDFLAGS)" -o noema ./cmd/noema

test:
	./scripts/test.sh

bench:
	$(GO) test -run '^$$' -bench . -benchtime 3x ./evidence/ ./policy/

# Shell completions and man pages, generated from the CLI: dist/docs/.
docs:
	$(TOOLS_GO) ./gendocs -version '$(VERSION)' -out ../dist/docs

# dist/noema_<version>_<arch>.deb (DEB_VERSION=… overrides the version
# derived from git describe).
deb: docs
	CGO_ENABLED=0 GOOS=linux GOARCH=$(GOARCH) $(GO) build -trimpath -ldflags "$(LDFLAGS)" -o dist/$(GOARCH)/noema ./cmd/noema
	$(TOOLS_GO) ./mkdeb -version '$(VERSION)' -deb-version '$(DEB_VERSION)' -arch $(GOARCH) \
		-bin ../dist/$(GOARCH)/noema -docs ../dist/docs -packaging ../packaging -out ../dist

# After the main module's go.mod changes, bring tools/go.mod and go.sum up
# to date (-e: nFPM's own tests need an rpm module no build here uses).
tools-mod:
	cd tools && $(GO) mod tidy -e
