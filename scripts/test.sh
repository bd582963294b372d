#!/bin/sh
# Runs Noema's whole test suite, installing the Debian packages the tests
# drive for real (D-Bus, dconf, dbusmock, PulseAudio, Radicale, ...).
set -eu
cd "$(dirname "$0")/.."
. scripts/lib.sh

apt_install $(grep -v '^#' scripts/test-packages.txt)
need_go
export CGO_ENABLED=0
echo "go vet"
"$GO" vet ./...
echo "go test ($($GO version))"
"$GO" test -count=1 -timeout 20m "$@" ./...
# The .deb: build it, install it with dpkg -i, run and check it, remove it.
# dpkg needs root; NOEMA_SKIP_DEB=1 leaves it out.
if [ "$(id -u)" = 0 ] && [ "${NOEMA_SKIP_DEB:-}" != 1 ]; then
	./scripts/test-deb.sh
fi
