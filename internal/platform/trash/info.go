package trash

import (
	"bytes"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"time"
)

// MaxInfoSize is the largest .trashinfo file ParseInfo accepts. Info
// files are written by any program implementing the specification (and
// by anyone who can write to a trash directory on shared media), so they
// are parsed as untrusted input with bounded memory. A maximal Linux path
// (4096 bytes) fully percent-encoded is about 12 KiB, so legitimate files
// are far smaller.
const MaxInfoSize = 64 << 10

const (
	// maxInfoLine bounds a single line, so that a huge line is reported
	// as such instead of as some later, more confusing failure.
	maxInfoLine = 16 << 10

	// maxPathLen is Linux's PATH_MAX including the terminating NUL.
	maxPathLen = 4096

	infoSuffix = ".trashinfo"
	infoGroup  = "Trash Info"

	// dateLayout is the DeletionDate format required by the
	// specification (RFC 3339 without a zone, in local time).
	dateLayout = "2006-01-02T15:04:05"
	// compactDateLayout is the form used in the specification's own
	// example; some older writers copied it, so it is accepted on input.
	compactDateLayout = "20060102T15:04:05"
)

// ErrMalformedInfo is wrapped by every error ParseInfo returns for bad
// .trashinfo content.
var ErrMalformedInfo = errors.New("malformed .trashinfo")

// Info is the parsed content of a .trashinfo file.
type Info struct {
	// Path is the absolute, cleaned original location of the item.
	Path string
	// DeletionDate is the deletion time, interpreted in local time as
	// the specification requires, with one-second resolution.
	DeletionDate time.Time
}

// ParseInfo parses the content of a .trashinfo file.
//
// baseDir is the directory a relative Path value is resolved against:
// the directory containing the trash directory (for example
// $XDG_DATA_HOME for the home trash, or the mount point for
// $topdir/.Trash-$uid). If baseDir is empty, a relative Path is an
// error. Relative paths containing ".." are always rejected, as the
// specification forbids them; absolute paths with ".." are rejected too,
// since no conforming writer produces them and they only serve to make a
// path look like it points somewhere it does not.
//
// The parser follows the desktop-entry syntax the specification builds
// on: blank lines and '#' comments are ignored, whitespace around '=' is
// ignored, the first group must be [Trash Info], keys in other groups
// and unknown keys are ignored, and duplicate keys are errors. Errors
// wrap ErrMalformedInfo and never echo more than a short prefix of the
// offending input.
func ParseInfo(data []byte, baseDir string) (Info, error) {
	if baseDir != "" && !filepath.IsAbs(baseDir) {
		return Info{}, fmt.Errorf("trash: base directory %q is not absolute", baseDir)
	}
	if len(data) > MaxInfoSize {
		return Info{}, malformed(0, "file is larger than %d bytes", MaxInfoSize)
	}

	var (
		sawGroup, inGroup  bool
		rawPath, rawDate   string
		havePath, haveDate bool
		lineNo             int
	)
	for len(data) > 0 {
		lineNo++
		var line []byte
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			line, data = data[:i], data[i+1:]
		} else {
			line, data = data, nil
		}
		if len(line) > maxInfoLine {
			return Info{}, malformed(lineNo, "line longer than %d bytes", maxInfoLine)
		}
		line = bytes.TrimRight(line, "\r")
		trimmed := bytes.TrimSpace(line)
		if len(trimmed) == 0 || trimmed[0] == '#' {
			continue
		}
		if trimmed[0] == '[' {
			if trimmed[len(trimmed)-1] != ']' {
				return Info{}, malformed(lineNo, "unterminated group header %s", quote(trimmed))
			}
			name := string(trimmed[1 : len(trimmed)-1])
			switch {
			case !sawGroup && name != infoGroup:
				return Info{}, malformed(lineNo, "first group is %s, want [%s]", quote(trimmed), infoGroup)
			case sawGroup && name == infoGroup:
				return Info{}, malformed(lineNo, "duplicate [%s] group", infoGroup)
			}
			sawGroup = true
			inGroup = name == infoGroup
			continue
		}
		if !sawGroup {
			return Info{}, malformed(lineNo, "key outside of any group")
		}
		key, value, ok := bytes.Cut(trimmed, []byte("="))
		if !ok {
			return Info{}, malformed(lineNo, "expected Key=Value, got %s", quote(trimmed))
		}
		if !inGroup {
			continue
		}
		switch string(bytes.TrimSpace(key)) {
		case "Path":
			if havePath {
				return Info{}, malformed(lineNo, "duplicate Path key")
			}
			havePath, rawPath = true, string(bytes.TrimSpace(value))
		case "DeletionDate":
			if haveDate {
				return Info{}, malformed(lineNo, "duplicate DeletionDate key")
			}
			haveDate, rawDate = true, string(bytes.TrimSpace(value))
		}
	}
	switch {
	case !sawGroup:
		return Info{}, malformed(0, "missing [%s] group", infoGroup)
	case !havePath:
		return Info{}, malformed(0, "missing Path key")
	case !haveDate:
		return Info{}, malformed(0, "missing DeletionDate key")
	}

	p, err := decodeInfoPath(rawPath, baseDir)
	if err != nil {
		return Info{}, err
	}
	date, err := parseDeletionDate(rawDate)
	if err != nil {
		return Info{}, err
	}
	return Info{Path: p, DeletionDate: date}, nil
}

// decodeInfoPath unescapes a Path value and resolves it to an absolute
// path, applying the checks described on ParseInfo.
func decodeInfoPath(raw, baseDir string) (string, error) {
	p, err := unescapePath(raw)
	if err != nil {
		return "", err
	}
	switch {
	case p == "":
		return "", malformed(0, "empty Path")
	case len(p) >= maxPathLen:
		return "", malformed(0, "Path longer than %d bytes", maxPathLen-1)
	case strings.IndexByte(p, 0) >= 0:
		return "", malformed(0, "Path contains a NUL byte")
	}
	for _, elem := range strings.Split(p, "/") {
		if elem == ".." {
			return "", malformed(0, "Path %s contains a \"..\" element", quote([]byte(p)))
		}
	}
	if !filepath.IsAbs(p) {
		if baseDir == "" {
			return "", malformed(0, "relative Path %s where an absolute path is required", quote([]byte(p)))
		}
		p = filepath.Join(baseDir, p)
	}
	p = filepath.Clean(p)
	if p == "/" {
		return "", malformed(0, "Path is the root directory")
	}
	return p, nil
}

func parseDeletionDate(s string) (time.Time, error) {
	for _, layout := range [...]string{dateLayout, compactDateLayout} {
		if t, err := time.ParseInLocation(layout, s, time.Local); err == nil {
			return t, nil
		}
	}
	return time.Time{}, malformed(0, "invalid DeletionDate %s, want YYYY-MM-DDThh:mm:ss", quote([]byte(s)))
}

// escapePath percent-encodes p as in a file:// URL path. Everything but
// RFC 3986 unreserved characters and '/' is escaped; this is stricter
// than required, which every decoder accepts, and it keeps the file
// plain ASCII whatever bytes the file name contains.
func escapePath(p string) string {
	const hexDigits = "0123456789ABCDEF"
	var b strings.Builder
	b.Grow(len(p))
	for i := 0; i < len(p); i++ {
		c := p[i]
		if isUnreserved(c) || c == '/' {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hexDigits[c>>4])
		b.WriteByte(hexDigits[c&0xf])
	}
	return b.String()
}

func isUnreserved(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
		c == '-' || c == '.' || c == '_' || c == '~'
}

// unescapePath decodes %XX escapes. Unlike URL query decoding, '+' is
// literal. Unescaped bytes are accepted as-is, since some writers leave
// characters such as ':' or '@' alone.
func unescapePath(s string) (string, error) {
	if strings.IndexByte(s, '%') < 0 {
		return s, nil
	}
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '%' {
			b = append(b, c)
			continue
		}
		if i+2 >= len(s) {
			return "", malformed(0, "truncated percent-encoding at byte %d of Path", i)
		}
		hi, ok1 := unhex(s[i+1])
		lo, ok2 := unhex(s[i+2])
		if !ok1 || !ok2 {
			return "", malformed(0, "invalid percent-encoding %s at byte %d of Path", quote([]byte(s[i:i+3])), i)
		}
		b = append(b, hi<<4|lo)
		i += 2
	}
	return string(b), nil
}

func unhex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// encodeInfo renders a .trashinfo file. pathValue is written escaped; it
// is absolute for the home trash and relative to the mount point for
// per-filesystem trash directories.
func encodeInfo(pathValue string, deleted time.Time) []byte {
	var b bytes.Buffer
	b.WriteString("[" + infoGroup + "]\n")
	b.WriteString("Path=" + escapePath(pathValue) + "\n")
	b.WriteString("DeletionDate=" + deleted.In(time.Local).Format(dateLayout) + "\n")
	return b.Bytes()
}

func malformed(line int, format string, args ...any) error {
	msg := fmt.Sprintf(format, args...)
	if line > 0 {
		return fmt.Errorf("%w: line %d: %s", ErrMalformedInfo, line, msg)
	}
	return fmt.Errorf("%w: %s", ErrMalformedInfo, msg)
}

// quote renders untrusted bytes for an error message, truncated so that
// hostile input cannot produce huge errors.
func quote(b []byte) string {
	const limit = 64
	if len(b) > limit {
		return fmt.Sprintf("%q...", b[:limit])
	}
	return fmt.Sprintf("%q", b)
}
