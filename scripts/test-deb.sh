#!/bin/sh
# Builds the .deb (make deb), installs it with dpkg -i the way a user
# would, runs the installed noema, checks every file it ships and validates
# the desktop integration with the tools desktops themselves use, then
# removes the package again. Needs root (dpkg). A checker that is not
# installed is skipped with a note; scripts/test-packages.txt has them all.
#
# NOEMA_DEB_DBUS_ACTIVATION: auto (default: when the installed noema has
# `serve`, start it through D-Bus activation and warn if that fails),
# require (fail instead), skip.
set -eu
cd "$(dirname "$0")/.."
. scripts/lib.sh

fail() { echo "test-deb: FAIL: $*" >&2; exit 1; }
skip() { echo "test-deb: skip: $*"; }
ok() { echo "test-deb: ok: $*"; }

[ "$(id -u)" = 0 ] || fail "needs root (dpkg -i)"
if dpkg-query -W -f='${Status}' noema 2>/dev/null | grep -q "install ok installed"; then
	fail "a noema package is already installed; this test installs and removes its own (dpkg -r noema first)"
fi
need_go
command -v make >/dev/null || fail "make is not installed"

# The same version make puts in the binary.
version=$(git describe --tags --always --dirty 2>/dev/null || echo dev)
arch=$(dpkg --print-architecture)
rm -f dist/noema_*.deb
make --no-print-directory deb GO="$GO" VERSION="$version" >/dev/null
set -- dist/noema_*_"$arch".deb
[ $# = 1 ] && [ -f "$1" ] || fail "make deb made no dist/noema_*_$arch.deb"
deb=$1
ok "built $deb ($(du -k "$deb" | cut -f1) KiB)"
# The packaging tools' own tests (the tools module is outside ./... of the
# main module); same flags as make, so nothing is compiled twice.
(cd tools && CGO_ENABLED=0 "$GO" test -mod=mod -trimpath -count=1 ./... >/dev/null) || fail "go test in tools/"
ok "go test in tools/"

work=$(mktemp -d)
mkdir -m 700 "$work/run" # an XDG_RUNTIME_DIR for the checks below
installed=""
cleanup() {
	[ -z "${daemon_pid:-}" ] || kill "$daemon_pid" 2>/dev/null || true
	[ -z "$installed" ] || dpkg -r noema >/dev/null 2>&1 || true
	rm -rf "$work"
}
trap cleanup EXIT
# A signal (also SIGPIPE, when output goes to a closed pipe) exits, which
# runs cleanup: the package never stays installed.
trap 'exit 1' HUP INT PIPE TERM

# Package metadata: nothing mandatory, the desktop pieces recommended.
dpkg-deb -f "$deb" Package Version Architecture Maintainer Depends Recommends >"$work/control"
grep -q '^Depends:' "$work/control" && fail "the package must not depend on anything: $(grep '^Depends:' "$work/control")"
grep -q '^Recommends: dbus-user-session, dconf-service$' "$work/control" || fail "Recommends: $(cat "$work/control")"

installed=1
dpkg -i "$deb" >"$work/dpkg.log" 2>&1 || { cat "$work/dpkg.log" >&2; fail "dpkg -i $deb"; }
ok "dpkg -i: $(dpkg-query -W -f='${Package} ${Version} ${Architecture}' noema)"

# The installed binary: static, and the version make built in.
out=$(/usr/bin/noema version) || fail "/usr/bin/noema version exited $?"
[ "$out" = "noema $version" ] || fail "noema version printed '$out', want 'noema $version'"
ok "/usr/bin/noema version: $out"
ldd /usr/bin/noema 2>&1 | grep -q "not a dynamic executable" || fail "/usr/bin/noema is not static: $(ldd /usr/bin/noema 2>&1)"
ok "/usr/bin/noema is statically linked"

# dpkg may be told to leave out docs and man pages (path-exclude, as in
# slim container images); such paths are checked in the .deb instead.
excluded() {
	state=no
	for cfg in /etc/dpkg/dpkg.cfg /etc/dpkg/dpkg.cfg.d/*; do
		[ -f "$cfg" ] || continue
		while read -r opt pat; do
			case "$opt" in path-exclude | path-exclude=*) ;; path-include | path-include=*) ;; *) continue ;; esac
			[ -n "$pat" ] || pat=${opt#*=}
			# shellcheck disable=SC2254
			case "$1" in $pat) case "$opt" in path-exclude*) state=yes ;; *) state=no ;; esac ;; esac
		done <"$cfg"
	done
	[ "$state" = yes ]
}
dpkg-deb -c "$deb" | awk '{print $NF}' | sed 's|^\.||' >"$work/contents"
for f in \
	/usr/bin/noema \
	/usr/lib/systemd/user/noema.service \
	/usr/share/dbus-1/services/org.noema.Noema1.service \
	/usr/share/applications/org.noema.Noema.desktop \
	/usr/share/icons/hicolor/scalable/apps/org.noema.Noema.svg \
	/usr/share/metainfo/org.noema.Noema.metainfo.xml \
	/usr/share/bash-completion/completions/noema \
	/usr/share/zsh/vendor-completions/_noema \
	/usr/share/fish/vendor_completions.d/noema.fish \
	/usr/share/man/man1/noema.1.gz \
	/usr/share/man/man1/noema-do.1.gz \
	/usr/share/doc/noema/copyright; do
	grep -qx "$f" "$work/contents" || fail "$f is not in the package"
	if excluded "$f"; then
		skip "$f is in the package, but dpkg is configured to leave it out"
	else
		[ -s "$f" ] || fail "$f was not installed"
	fi
done
ok "installed: binary, user unit, D-Bus service, desktop entry, icon, metainfo, completions, man pages, copyright"
grep -q "^github.com/spf13/cobra v" /usr/share/doc/noema/copyright 2>/dev/null ||
	excluded /usr/share/doc/noema/copyright || fail "copyright lacks the licences of the bundled modules"

if command -v man >/dev/null && ! excluded /usr/share/man/man1/noema.1.gz; then
	page=$(man -w noema) || fail "man -w noema found no page"
	[ "$page" = /usr/share/man/man1/noema.1.gz ] || fail "man -w noema: $page"
	MANWIDTH=80 man -P cat noema 2>/dev/null | grep -q "EXIT STATUS" || fail "man noema does not render"
	ok "man -w noema: $page"
else
	skip "man (man-db) not installed or man pages excluded"
fi

# Completions: the scripts load, and the binary answers their questions.
bash -c '. /usr/share/bash-completion/completions/noema && declare -F __start_noema >/dev/null' ||
	fail "the bash completion does not define __start_noema"
/usr/bin/noema __complete log "" 2>/dev/null | grep -qx "verify.*" || fail "noema __complete log '' does not offer verify"
if command -v zsh >/dev/null; then zsh -n /usr/share/zsh/vendor-completions/_noema || fail "zsh completion syntax"; fi
if command -v fish >/dev/null; then fish -n /usr/share/fish/vendor_completions.d/noema.fish || fail "fish completion syntax"; fi
ok "completions load; noema __complete answers"

if command -v systemd-analyze >/dev/null; then
	# verify exits 0 on unknown keys and bad values, so any output fails.
	# It also opens Documentation=man:noema(1), unless pages are left out.
	man=yes
	excluded /usr/share/man/man1/noema.1.gz && man=no
	XDG_RUNTIME_DIR="$work/run" systemd-analyze --user --man=$man verify /usr/lib/systemd/user/noema.service >"$work/verify" 2>&1 ||
		{ cat "$work/verify" >&2; fail "systemd-analyze --user verify noema.service"; }
	[ ! -s "$work/verify" ] || { cat "$work/verify" >&2; fail "systemd-analyze --user verify noema.service warned"; }
	ok "systemd-analyze --user verify noema.service"
else
	skip "systemd-analyze (systemd) not installed"
fi

if command -v desktop-file-validate >/dev/null; then
	desktop-file-validate /usr/share/applications/org.noema.Noema.desktop >"$work/dfv" 2>&1 &&
		[ ! -s "$work/dfv" ] || { cat "$work/dfv" >&2; fail "desktop-file-validate"; }
	ok "desktop-file-validate org.noema.Noema.desktop"
else
	skip "desktop-file-validate (desktop-file-utils) not installed"
fi

if command -v appstreamcli >/dev/null; then
	appstreamcli validate --no-net /usr/share/metainfo/org.noema.Noema.metainfo.xml >"$work/as" 2>&1 ||
		{ cat "$work/as" >&2; fail "appstreamcli validate"; }
	ok "appstreamcli validate org.noema.Noema.metainfo.xml"
else
	skip "appstreamcli (appstream) not installed"
fi

# D-Bus: a session bus reads the activation file from the standard folder.
if command -v dbus-run-session >/dev/null; then
	mode=${NOEMA_DEB_DBUS_ACTIVATION:-auto}
	if [ "$mode" != skip ] && /usr/bin/noema serve --help >/dev/null 2>&1; then activate=1; else activate=""; fi
	# With a serve command, also start it through the bus (the bus runs
	# Exec= here, as no systemd user manager is around) and wait for the
	# name, in a throwaway home on a loopback port of its own.
	cat >"$work/dbus.sh" <<-'EOF'
		set -eu
		dbus-send --session --print-reply --dest=org.freedesktop.DBus /org/freedesktop/DBus \
			org.freedesktop.DBus.ListActivatableNames | grep -q '"org.noema.Noema1"' || exit 10
		[ -n "$ACTIVATE" ] || exit 0
		dbus-send --session --print-reply --reply-timeout=20000 --dest=org.freedesktop.DBus /org/freedesktop/DBus \
			org.freedesktop.DBus.StartServiceByName string:org.noema.Noema1 uint32:0 >/dev/null || exit 11
		pid=$(dbus-send --session --print-reply --dest=org.freedesktop.DBus /org/freedesktop/DBus \
			org.freedesktop.DBus.GetConnectionUnixProcessID string:org.noema.Noema1 | awk '/uint32/ {print $2}')
		dbus-send --session --print-reply --dest=org.noema.Noema1 /org/noema/Noema1 \
			org.freedesktop.DBus.Introspectable.Introspect | grep -q 'interface name="org.noema.Noema1"' || rc=12
		# The bus started it, but does not stop it: SIGTERM, as systemd would.
		kill "$pid"
		for _ in 1 2 3 4 5 6 7 8 9 10; do kill -0 "$pid" 2>/dev/null || exit "${rc:-0}"; sleep 0.5; done
		kill -9 "$pid"
		exit 13
	EOF
	# Its own state, and an ephemeral loopback port: no clash with a
	# daemon that may already run here.
	mkdir -p "$work/home/.config/noema"
	printf '[server]\nlisten = "127.0.0.1:0"\n' >"$work/home/.config/noema/config.toml"
	rc=0
	env -i PATH=/usr/bin:/bin HOME="$work/home" XDG_RUNTIME_DIR="$work/run" ACTIVATE="$activate" \
		dbus-run-session -- sh "$work/dbus.sh" >"$work/dbus.log" 2>&1 || rc=$?
	case $rc in
	0) ok "session bus lists org.noema.Noema1 as activatable${activate:+; activation started noema serve and it answers}" ;;
	10) cat "$work/dbus.log" >&2; fail "a session bus does not list org.noema.Noema1 as activatable" ;;
	*)
		cat "$work/dbus.log" >&2
		msg="D-Bus activation of org.noema.Noema1 failed (step $rc)"
		[ "$mode" = require ] && fail "$msg"
		echo "test-deb: WARNING: $msg" >&2
		;;
	esac
else
	skip "dbus-run-session (dbus) not installed"
fi

dpkg -r noema >"$work/dpkg.log" 2>&1 || { cat "$work/dpkg.log" >&2; fail "dpkg -r noema"; }
installed=""
[ ! -e /usr/bin/noema ] && [ ! -e /usr/lib/systemd/user/noema.service ] || fail "dpkg -r left files behind"
ok "dpkg -r noema removed it"
