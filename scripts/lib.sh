# Shared by install.sh and test.sh: find or fetch a Go toolchain new enough
# for go.mod, and install Debian packages that are missing.

need_go() {
	want=$(sed -n 's/^go \([0-9.]*\).*/\1/p' go.mod)
	for g in go /usr/local/go/bin/go "$HOME/.local/noema-go/go/bin/go"; do
		if command -v "$g" >/dev/null 2>&1; then
			have=$("$g" env GOVERSION 2>/dev/null | sed 's/^go//')
			if [ -n "$have" ] && [ "$(printf '%s\n%s\n' "$want" "$have" | sort -V | head -n1)" = "$want" ]; then
				GO=$(command -v "$g")
				return 0
			fi
		fi
	done
	# Fetch the toolchain from the Go module proxy (the same source
	# `GOTOOLCHAIN=auto` uses).
	arch=$(dpkg --print-architecture 2>/dev/null || echo amd64)
	ver=$(curl -fsS "https://proxy.golang.org/golang.org/toolchain/@v/list" | grep "go${want}" | grep "linux-${arch}" | sort -V | tail -n1)
	[ -n "$ver" ] || { echo "no Go ${want} toolchain found; install Go ${want} or newer" >&2; exit 1; }
	mkdir -p "$HOME/.local/noema-go"
	curl -fsSL -o /tmp/noema-go.zip "https://proxy.golang.org/golang.org/toolchain/@v/${ver}.zip"
	rm -rf "$HOME/.local/noema-go/go"
	(cd "$HOME/.local/noema-go" && unzip -q /tmp/noema-go.zip && mv golang.org/toolchain@*/ go && rm -rf golang.org)
	chmod +x "$HOME/.local/noema-go/go/bin/"* "$HOME/.local/noema-go/go/pkg/tool/"*/* 2>/dev/null || true
	GO="$HOME/.local/noema-go/go/bin/go"
}

apt_install() {
	missing=""
	for p in "$@"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
	done
	[ -z "$missing" ] && return 0
	if [ "$(id -u)" != 0 ]; then
		echo "missing Debian packages:$missing (run as root, or install them)" >&2
		exit 1
	fi
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	# shellcheck disable=SC2086
	apt-get install -y -qq --no-install-recommends $missing >/dev/null
}
