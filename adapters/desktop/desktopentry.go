package desktop

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// desktopEntry is the [Desktop Entry] group of a .desktop file, as the
// freedesktop Desktop Entry Specification 1.5 defines it.
type desktopEntry struct {
	// ID is the desktop file ID (kde-foo.desktop for
	// applications/kde/foo.desktop); Path is the file.
	ID   string
	Path string

	Type            string
	Name            string
	Names           []string // Name and its translations
	GenericNames    []string // GenericName and its translations
	Keywords        []string // Keywords of every language
	Exec            string
	TryExec         string
	WorkDir         string // the Path key
	Icon            string
	Terminal        bool
	Hidden          bool
	NoDisplay       bool
	DBusActivatable bool
	OnlyShowIn      []string
	NotShowIn       []string
}

// maxDesktopFile bounds what is read of one .desktop file; real ones are
// a few kilobytes even with dozens of translations.
const maxDesktopFile = 1 << 20

// parseDesktopEntry reads a desktop file's [Desktop Entry] group. It is
// lenient the way launchers are: unknown keys, other groups, comments
// and stray lines are ignored, the first of duplicate keys wins.
func parseDesktopEntry(data []byte) (*desktopEntry, error) {
	if len(data) > maxDesktopFile {
		return nil, fmt.Errorf("desktop file is larger than %d bytes", maxDesktopFile)
	}
	if !utf8.Valid(data) {
		return nil, errors.New("desktop file is not UTF-8")
	}
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	e := &desktopEntry{}
	group := ""
	found := false
	seen := map[string]bool{}
	for _, line := range strings.Split(string(data), "\n") {
		line = strings.TrimRight(line, "\r")
		trimmed := strings.TrimSpace(line)
		if trimmed == "" || trimmed[0] == '#' {
			continue
		}
		if trimmed[0] == '[' {
			end := strings.IndexByte(trimmed, ']')
			if end < 0 {
				return nil, fmt.Errorf("bad group header %q", truncate(trimmed, 60))
			}
			group = trimmed[1:end]
			if group == "Desktop Entry" {
				if found {
					return nil, errors.New("two [Desktop Entry] groups")
				}
				found = true
			}
			continue
		}
		if group != "Desktop Entry" {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			continue
		}
		k = strings.TrimSpace(k)
		v = strings.TrimLeft(v, " \t")
		if seen[k] {
			continue
		}
		seen[k] = true
		base, locale, localized := splitLocaleKey(k)
		if localized && locale == "" {
			continue
		}
		switch base {
		case "Type":
			if !localized {
				e.Type = unescapeString(v)
			}
		case "Name":
			s := unescapeString(v)
			if !localized {
				e.Name = s
			}
			e.Names = append(e.Names, s)
		case "GenericName":
			e.GenericNames = append(e.GenericNames, unescapeString(v))
		case "Keywords":
			e.Keywords = append(e.Keywords, splitList(v)...)
		case "Exec":
			if !localized {
				e.Exec = unescapeString(v)
			}
		case "TryExec":
			if !localized {
				e.TryExec = unescapeString(v)
			}
		case "Path":
			if !localized {
				e.WorkDir = unescapeString(v)
			}
		case "Icon":
			if !localized {
				e.Icon = unescapeString(v)
			}
		case "Terminal":
			e.Terminal = !localized && parseBool(v)
		case "Hidden":
			e.Hidden = !localized && parseBool(v)
		case "NoDisplay":
			e.NoDisplay = !localized && parseBool(v)
		case "DBusActivatable":
			e.DBusActivatable = !localized && parseBool(v)
		case "OnlyShowIn":
			if !localized {
				e.OnlyShowIn = splitList(v)
			}
		case "NotShowIn":
			if !localized {
				e.NotShowIn = splitList(v)
			}
		}
	}
	if !found {
		return nil, errors.New("no [Desktop Entry] group")
	}
	if e.Type == "" {
		return nil, errors.New("desktop entry has no Type")
	}
	if e.Name == "" {
		return nil, errors.New("desktop entry has no Name")
	}
	return e, nil
}

// splitLocaleKey splits "Name[de_DE]" into "Name" and "de_DE".
func splitLocaleKey(k string) (base, locale string, localized bool) {
	i := strings.IndexByte(k, '[')
	if i < 0 || !strings.HasSuffix(k, "]") {
		return k, "", false
	}
	return k[:i], k[i+1 : len(k)-1], true
}

func parseBool(v string) bool {
	// "1" is a deprecated spelling some old files still use.
	v = strings.TrimSpace(v)
	return v == "true" || v == "1"
}

// unescapeString undoes the escapes of string values: \s \n \t \r \\.
// Other backslashes are kept, for the Exec quoting rules to read.
func unescapeString(v string) string {
	if !strings.Contains(v, `\`) {
		return v
	}
	var b strings.Builder
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c != '\\' || i+1 == len(v) {
			b.WriteByte(c)
			continue
		}
		switch v[i+1] {
		case 's':
			b.WriteByte(' ')
		case 'n':
			b.WriteByte('\n')
		case 't':
			b.WriteByte('\t')
		case 'r':
			b.WriteByte('\r')
		case '\\':
			b.WriteByte('\\')
		default:
			b.WriteByte('\\')
			b.WriteByte(v[i+1])
		}
		i++
	}
	return b.String()
}

// splitList splits a list value at unescaped semicolons ("\;" is a
// semicolon inside an item) and drops empty items.
func splitList(v string) []string {
	var out []string
	var cur strings.Builder
	flush := func() {
		if s := strings.TrimSpace(unescapeString(cur.String())); s != "" {
			out = append(out, s)
		}
		cur.Reset()
	}
	for i := 0; i < len(v); i++ {
		switch {
		case v[i] == '\\' && i+1 < len(v) && v[i+1] == ';':
			cur.WriteByte(';')
			i++
		case v[i] == '\\' && i+1 < len(v):
			cur.WriteByte(v[i])
			cur.WriteByte(v[i+1])
			i++
		case v[i] == ';':
			flush()
		default:
			cur.WriteByte(v[i])
		}
	}
	flush()
	return out
}

// execContext supplies what the %i, %c and %k field codes expand to.
type execContext struct {
	Icon string // %i: "--icon Icon" when the entry has an icon
	Name string // %c: the translated Name
	Path string // %k: the desktop file's location
}

// splitExec turns an (already unescaped) Exec value into an argv, by the
// spec's quoting rules and GLib's leniencies: arguments are separated by
// spaces; "double quotes" group, with \" \` \$ \\ escaped inside;
// 'single quotes' and backslashes outside quotes are read as a shell
// would, since many real files use them. Field codes are expanded for a
// launch without files or URLs: %f %F %u %U and the deprecated %d %D %n
// %N %v %m vanish, %i %c %k expand, %% is a percent sign. No shell ever
// sees the result.
func splitExec(s string, x execContext) ([]string, error) {
	var args []string
	var cur strings.Builder
	inArg := false   // something (maybe an empty quoted string) was read
	keepArg := false // the argument holds text or was quoted
	flush := func() {
		if inArg && keepArg {
			args = append(args, cur.String())
		}
		cur.Reset()
		inArg, keepArg = false, false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n':
			flush()
		case c == '"':
			inArg, keepArg = true, true
			closed := false
			for i++; i < len(s); i++ {
				c := s[i]
				if c == '"' {
					closed = true
					break
				}
				if c == '\\' && i+1 < len(s) && strings.IndexByte("\"`$\\", s[i+1]) >= 0 {
					i++
					cur.WriteByte(s[i])
					continue
				}
				if c == '%' && i+1 < len(s) {
					i++
					expandCode(&cur, s[i], x)
					continue
				}
				cur.WriteByte(c)
			}
			if !closed {
				return nil, errors.New("Exec has an unterminated double quote")
			}
		case c == '\'':
			inArg, keepArg = true, true
			j := strings.IndexByte(s[i+1:], '\'')
			if j < 0 {
				return nil, errors.New("Exec has an unterminated single quote")
			}
			cur.WriteString(s[i+1 : i+1+j])
			i += j + 1
		case c == '\\':
			if i+1 == len(s) {
				return nil, errors.New("Exec ends with a backslash")
			}
			i++
			cur.WriteByte(s[i])
			inArg, keepArg = true, true
		case c == '%' && i+1 < len(s):
			i++
			inArg = true
			standalone := cur.Len() == 0 && (i+1 == len(s) || s[i+1] == ' ' || s[i+1] == '\t')
			if s[i] == 'i' && standalone {
				if x.Icon != "" {
					args = append(args, "--icon", x.Icon)
				}
				continue
			}
			if expandCode(&cur, s[i], x) {
				keepArg = true
			}
		default:
			cur.WriteByte(c)
			inArg, keepArg = true, true
		}
	}
	flush()
	if len(args) == 0 || args[0] == "" {
		return nil, errors.New("Exec names no program")
	}
	return args, nil
}

// expandCode writes what field code c expands to and reports whether it
// produced text.
func expandCode(b *strings.Builder, c byte, x execContext) bool {
	switch c {
	case '%':
		b.WriteByte('%')
		return true
	case 'c':
		b.WriteString(x.Name)
		return x.Name != ""
	case 'k':
		b.WriteString(x.Path)
		return x.Path != ""
	case 'f', 'F', 'u', 'U', 'd', 'D', 'n', 'N', 'v', 'm', 'i':
		return false
	default:
		// Not a field code; keep it as written.
		b.WriteByte('%')
		b.WriteByte(c)
		return true
	}
}
