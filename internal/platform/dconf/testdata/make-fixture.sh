#!/bin/sh
# Regenerates user.gvdb and user.golden with the real dconf tools, on a
# private session bus so that the caller's settings are untouched.
# Usage: sh make-fixture.sh   (needs dbus-daemon, dconf-service, dconf-cli)
set -eu
out=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'kill "$pid" 2>/dev/null || true; rm -rf "$tmp"' EXIT
mkdir -p "$tmp/home" "$tmp/config" "$tmp/run"
chmod 700 "$tmp/run"
cat >"$tmp/bus.conf" <<CONF
<busconfig><type>session</type><listen>unix:path=$tmp/bus</listen>
<auth>EXTERNAL</auth><standard_session_servicedirs/>
<policy context="default"><allow send_destination="*"/><allow receive_sender="*"/><allow own="*"/></policy></busconfig>
CONF
export HOME="$tmp/home" XDG_CONFIG_HOME="$tmp/config" XDG_RUNTIME_DIR="$tmp/run"
echo "user-db:user" >"$tmp/profile"
export DCONF_PROFILE="$tmp/profile"
dbus-daemon --config-file="$tmp/bus.conf" --nofork --print-address=1 >"$tmp/addr" 2>/dev/null &
pid=$!
while [ ! -s "$tmp/addr" ]; do sleep 0.05; done
export DBUS_SESSION_BUS_ADDRESS=$(head -n1 "$tmp/addr")

: >"$out/user.golden"
w() {
	dconf write "$1" "$2"
}
w /org/gnome/desktop/interface/color-scheme "'prefer-dark'"
w /org/gnome/desktop/interface/clock-show-seconds "true"
w /org/gnome/desktop/interface/cursor-size "48"
w /org/gnome/desktop/interface/text-scaling-factor "1.25"
w /org/gnome/desktop/session/idle-delay "uint32 900"
w /org/gnome/desktop/input-sources/xkb-options "['caps:escape', 'compose:ralt']"
w /org/gnome/desktop/input-sources/sources "[('xkb', 'us'), ('xkb', 'de+nodeadkeys')]"
w /org/gnome/desktop/input-sources/mru-sources "@a(ss) []"
w /noema/types/byte "byte 0xff"
w /noema/types/int16 "int16 -2"
w /noema/types/uint16 "uint16 65535"
w /noema/types/int64 "int64 -9223372036854775808"
w /noema/types/uint64 "uint64 18446744073709551615"
w /noema/types/double-small "0.10000000000000001"
w /noema/types/double-neg "-1.0e-300"
w /noema/types/string-quote "\"it's\""
w /noema/types/string-escapes "'tab\\there\\nline \\u00e9 \\\\ back'"
w /noema/types/objectpath "objectpath '/org/example/Obj'"
w /noema/types/signature "signature 'a{sv}'"
w /noema/types/bytestring "b'hello'"
w /noema/types/maybe-just "@ms 'x'"
w /noema/types/maybe-nothing "@ms nothing"
w /noema/types/maybe-maybe "@mms just nothing"
w /noema/types/tuple "(1, 'x', [<2>])"
w /noema/types/unit "()"
w /noema/types/dict "{'a': <1>, 'b': <'two'>}"
w /noema/types/dict-entry "{1, 'one'}"
w /noema/types/nested-variant "<<uint32 7>>"
w /noema/types/empty-array "@as []"
w /noema/types/int-array "[int64 1, 2, 3]"
w /noema/types/double-array "[1.5, 2.0]"
w /noema/types/bool-array "[true, false, true]"
w /noema/types/fixed-tuples "[(1, true), (2, false)]"
w /noema/types/long-array "['aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa', 'bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb', 'cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc']"
for k in $(dconf dump / >/dev/null; dconf list /noema/types/ | sed 's|^|/noema/types/|') \
	/org/gnome/desktop/interface/color-scheme /org/gnome/desktop/interface/clock-show-seconds \
	/org/gnome/desktop/interface/cursor-size /org/gnome/desktop/interface/text-scaling-factor \
	/org/gnome/desktop/session/idle-delay /org/gnome/desktop/input-sources/xkb-options \
	/org/gnome/desktop/input-sources/sources /org/gnome/desktop/input-sources/mru-sources; do
	printf '%s\t%s\n' "$k" "$(dconf read "$k")" >>"$out/user.golden"
done
cp "$XDG_CONFIG_HOME/dconf/user" "$out/user.gvdb"
