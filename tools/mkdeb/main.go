// Command mkdeb builds Noema's .deb with nFPM used as a library: the static
// binary, the systemd user unit, the D-Bus activation file, the desktop
// entry, icon and AppStream metadata, shell completions, gzipped man pages
// and a copyright file that carries the licence of every Go module linked
// into the binary. `make deb` builds the binary and the docs, then runs it.
//
// Set SOURCE_DATE_EPOCH (make does: the last commit's time) and the same
// inputs give the same bytes.
package main

import (
	"bytes"
	"compress/gzip"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/goreleaser/nfpm/v2"
	"github.com/goreleaser/nfpm/v2/deb"
	"github.com/goreleaser/nfpm/v2/files"
)

type options struct {
	version    string // the binary's version (git describe)
	debVersion string // the package version; derived from version when empty
	arch       string // GOARCH
	bin        string // the built noema binary
	docs       string // gendocs output: completions/ and man/
	packaging  string // packaging/ in the repository
	out        string // where the .deb goes
	maintainer string
	date       time.Time
}

func main() {
	var o options
	flag.StringVar(&o.version, "version", "", "the version built into the binary (git describe)")
	flag.StringVar(&o.debVersion, "deb-version", "", "the package version (default: derived from -version)")
	flag.StringVar(&o.arch, "arch", runtime.GOARCH, "GOARCH the binary was built for")
	flag.StringVar(&o.bin, "bin", "dist/noema", "the static noema binary")
	flag.StringVar(&o.docs, "docs", "dist/docs", "gendocs output (completions/ and man/)")
	flag.StringVar(&o.packaging, "packaging", "packaging", "the repository's packaging folder")
	flag.StringVar(&o.out, "out", "dist", "folder for the .deb")
	flag.StringVar(&o.maintainer, "maintainer", "Noema maintainers <maintainers@users.noreply.h-seed-b120c330.example>", "Maintainer field")
	flag.Parse()
	o.date = time.Now().UTC()
	if s := os.Getenv("SOURCE_DATE_EPOCH"); s != "" {
		sec, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			fail(fmt.Errorf("SOURCE_DATE_EPOCH=%q: %w", s, err))
		}
		o.date = time.Unix(sec, 0).UTC()
	}
	path, err := build(o)
	if err != nil {
		fail(err)
	}
	fmt.Println(path)
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "mkdeb:", err)
	os.Exit(1)
}

func build(o options) (string, error) {
	if o.version == "" {
		return "", fmt.Errorf("-version is required")
	}
	if o.debVersion == "" {
		v, err := debVersion(o.version, o.date)
		if err != nil {
			return "", err
		}
		o.debVersion = v
	}
	// Generated files (gzipped pages, the copyright file) are staged here.
	stage, err := os.MkdirTemp("", "mkdeb-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(stage)

	pkg := filepath.Join(o.packaging)
	contents := files.Contents{
		file(o.bin, "/usr/bin/noema", 0o755),
		file(filepath.Join(pkg, "systemd/noema.service"), "/usr/lib/systemd/user/noema.service", 0o644),
		file(filepath.Join(pkg, "dbus/org.noema.Noema1.service"), "/usr/share/dbus-1/services/org.noema.Noema1.service", 0o644),
		file(filepath.Join(pkg, "desktop/org.noema.Noema.desktop"), "/usr/share/applications/org.noema.Noema.desktop", 0o644),
		file(filepath.Join(pkg, "desktop/org.noema.Noema.svg"), "/usr/share/icons/hicolor/scalable/apps/org.noema.Noema.svg", 0o644),
		file(filepath.Join(pkg, "desktop/org.noema.Noema.metainfo.xml"), "/usr/share/metainfo/org.noema.Noema.metainfo.xml", 0o644),
		// Debian's standard places, which the shells read without setup.
		file(filepath.Join(o.docs, "completions/noema.bash"), "/usr/share/bash-completion/completions/noema", 0o644),
		file(filepath.Join(o.docs, "completions/_noema"), "/usr/share/zsh/vendor-completions/_noema", 0o644),
		file(filepath.Join(o.docs, "completions/noema.fish"), "/usr/share/fish/vendor_completions.d/noema.fish", 0o644),
	}

	pages, err := filepath.Glob(filepath.Join(o.docs, "man", "*.1"))
	if err != nil {
		return "", err
	}
	if len(pages) == 0 {
		return "", fmt.Errorf("no man pages in %s/man (run gendocs first)", o.docs)
	}
	for _, p := range pages {
		gz := filepath.Join(stage, filepath.Base(p)+".gz")
		if err := gzipFile(p, gz); err != nil {
			return "", err
		}
		contents = append(contents, file(gz, "/usr/share/man/man1/"+filepath.Base(gz), 0o644))
	}

	copyright := filepath.Join(stage, "copyright")
	if err := writeCopyright(copyright, filepath.Join(pkg, "deb/copyright"), o.bin); err != nil {
		return "", err
	}
	contents = append(contents, file(copyright, "/usr/share/doc/noema/copyright", 0o644))

	info := &nfpm.Info{
		Name:          "noema",
		Arch:          o.arch, // nFPM maps GOARCH names to Debian's
		Platform:      "linux",
		Version:       o.debVersion,
		VersionSchema: "none", // debVersion already made it a valid Debian version
		Section:       "utils",
		Priority:      "optional",
		Maintainer:    o.maintainer,
		Homepage:      "https://github.com/noema-project/noema",
		Description: `assistant you can trust with your machine
Noema turns what you ask into typed actions, lets a policy kernel decide
what is allowed, asks you before anything risky, runs only what was
approved, proves each effect by reading the system back, records every
step in a tamper-evident evidence log, and can undo what it did. It works
offline with no model, and plans better with a local language model.
.
This package ships the noema command, its daemon as a systemd user
service (not enabled by default), a D-Bus service, a desktop entry that
opens the web UI, shell completions and man pages.`,
		MTime: o.date,
		Overridables: nfpm.Overridables{
			// Nothing is mandatory: the binary is static and every desktop
			// integration degrades to a clear error when its service is absent.
			Recommends: []string{"dbus-user-session", "dconf-service"},
			Contents:   contents,
			Deb: nfpm.Deb{
				Compression: "xz",
			},
		},
	}
	// Fills in what is unset (umask and the like) the way nfpm's own
	// config loader does; VersionSchema "none" keeps the version as is.
	nfpm.WithDefaults(info)
	if err := os.MkdirAll(o.out, 0o755); err != nil {
		return "", err
	}
	name := filepath.Join(o.out, deb.Default.ConventionalFileName(info))
	var buf bytes.Buffer
	if err := deb.Default.Package(info, &buf); err != nil {
		return "", fmt.Errorf("package: %w", err)
	}
	// Write in one go, so a failed build never leaves a half .deb behind.
	tmp := name + ".tmp"
	if err := os.WriteFile(tmp, buf.Bytes(), 0o644); err != nil {
		return "", err
	}
	return name, os.Rename(tmp, name)
}

func file(src, dst string, mode os.FileMode) *files.Content {
	return &files.Content{Source: src, Destination: dst, FileInfo: &files.ContentFileInfo{Mode: mode}}
}

// gzipFile compresses like `gzip -9n`: no name, no timestamp, so the bytes
// depend only on the input.
func gzipFile(src, dst string) error {
	b, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	var out bytes.Buffer
	zw, err := gzip.NewWriterLevel(&out, gzip.BestCompression)
	if err != nil {
		return err
	}
	if _, err := zw.Write(b); err != nil {
		return err
	}
	if err := zw.Close(); err != nil {
		return err
	}
	return os.WriteFile(dst, out.Bytes(), 0o644)
}

// debVersion turns `git describe --tags --always --dirty` output into a
// Debian version that sorts the way releases and snapshots should:
//
//	v1.2.3               1.2.3
//	v1.2.3-rc1           1.2.3~rc1             (before 1.2.3)
//	v1.2.3-4-gabc1234    1.2.3+git4.gabc1234   (after 1.2.3)
//	abc1234              0.0~git20260123.abc1234  (no tag yet; date = commit date)
//	...-dirty            ...+dirty / ....dirty
func debVersion(v string, date time.Time) (string, error) {
	dirty := strings.HasSuffix(v, "-dirty")
	v = strings.TrimSuffix(v, "-dirty")
	var out string
	switch {
	case isHash(v):
		out = "0.0~git" + date.Format("20060102") + "." + v
	case len(v) > 1 && v[0] == 'v' && isDigit(v[1]) || len(v) > 0 && isDigit(v[0]):
		v = strings.TrimPrefix(v, "v")
		// Commits after the tag: "-N-gHASH" at the end.
		var after string
		if parts := strings.Split(v, "-"); len(parts) >= 3 {
			n, g := parts[len(parts)-2], parts[len(parts)-1]
			if isNumber(n) && strings.HasPrefix(g, "g") && isHash(g[1:]) {
				after = "+git" + n + "." + g
				v = strings.Join(parts[:len(parts)-2], "-")
			}
		}
		// What is left after the first "-" is a pre-release: "~" sorts it
		// before the release itself.
		base, pre, hasPre := strings.Cut(v, "-")
		out = base
		if hasPre {
			out += "~" + strings.ReplaceAll(pre, "-", ".")
		}
		out += after
	default:
		return "", fmt.Errorf("cannot make a Debian version of %q; pass -deb-version (make deb DEB_VERSION=…)", v)
	}
	if dirty {
		if strings.Contains(out, "+") {
			out += ".dirty"
		} else {
			out += "+dirty"
		}
	}
	for _, r := range out {
		if !(r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || strings.ContainsRune(".+~", r)) {
			return "", fmt.Errorf("version %q has %q, which Debian versions cannot hold; pass -deb-version", out, r)
		}
	}
	return out, nil
}

func isDigit(b byte) bool { return b >= '0' && b <= '9' }

func isNumber(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return false
		}
	}
	return s != ""
}

func isHash(s string) bool {
	if len(s) < 4 || len(s) > 40 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) && !(s[i] >= 'a' && s[i] <= 'f') {
			return false
		}
	}
	return true
}
