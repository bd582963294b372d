#!/bin/sh
# Installs Noema and runs its main job: a first real goal (switch the
# desktop to dark mode), proven by reading the setting back, then the
# evidence of what happened and a check of the evidence chain.
set -eu
cd "$(dirname "$0")/.."
. scripts/lib.sh

apt_install ca-certificates curl unzip dbus dconf-service dconf-cli gsettings-desktop-schemas libglib2.0-bin
need_go
prefix=${PREFIX:-/usr/local}
version=$(git describe --tags --always --dirty 2>/dev/null || echo dev)
echo "building noema $version with $($GO version)"
CGO_ENABLED=0 "$GO" build -trimpath -ldflags "-s -w -X github.com/noema-project/noema/internal/cli.Version=$version" -o "$prefix/bin/noema" ./cmd/noema
echo "installed $prefix/bin/noema"

demo='
set -e
echo
echo "$ noema ask \"enable dark mode\""
noema ask "enable dark mode"
echo
echo "$ gsettings get org.gnome.desktop.interface color-scheme"
gsettings get org.gnome.desktop.interface color-scheme
echo
echo "$ noema log list --newest -n 8"
noema log list --newest -n 8
echo
echo "$ noema log verify"
noema log verify
'
if [ -n "${DBUS_SESSION_BUS_ADDRESS:-}" ]; then
	sh -c "$demo"
else
	# No desktop session here (a server or container): run the goal in a
	# private session bus, with dconf started on demand as on a desktop.
	dbus-run-session -- sh -c "$demo" 2>&1 | grep -v 'Failed to set fd limit\|Activating service\|Successfully activated' || true
fi
echo
echo "Undo it with: noema undo <action id>   ·   The web UI: noema serve & noema web   ·   Everything: noema --help"
