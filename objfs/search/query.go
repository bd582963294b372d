package search

import (
	"errors"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// Filters narrow a search to documents of some kinds, tags, folders or
// modification dates. Empty fields do not filter.
type Filters struct {
	Kinds   []string
	Tags    []string
	Folders []string
	// After and Before bound the modification time (After inclusive).
	After, Before time.Time
}

// IsZero reports whether nothing is filtered.
func (f Filters) IsZero() bool {
	return len(f.Kinds) == 0 && len(f.Tags) == 0 && len(f.Folders) == 0 && f.After.IsZero() && f.Before.IsZero()
}

// Match reports whether a document passes every filter: one of the kinds,
// all of the tags, inside one of the folders, within the dates.
func (f Filters) Match(m Meta) bool {
	if len(f.Kinds) > 0 && !contains(f.Kinds, m.Kind) {
		return false
	}
	for _, t := range f.Tags {
		if !contains(m.Tags, t) {
			return false
		}
	}
	if len(f.Folders) > 0 {
		in := false
		for _, dir := range f.Folders {
			if m.Path == dir || strings.HasPrefix(m.Path, strings.TrimSuffix(dir, "/")+"/") {
				in = true
				break
			}
		}
		if !in {
			return false
		}
	}
	if !f.After.IsZero() && m.ModTime < f.After.Unix() {
		return false
	}
	if !f.Before.IsZero() && m.ModTime >= f.Before.Unix() {
		return false
	}
	return true
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// Kinds are the document kinds the extractors report.
var kindNames = map[string]string{
	"text": "text", "txt": "text", "plain": "text",
	"markdown": "markdown", "md": "markdown",
	"html": "html", "htm": "html", "web": "html",
	"code": "code", "source": "code", "src": "code",
	"pdf": "pdf", "docx": "docx", "word": "docx", "odt": "odt",
}

// NormalizeKind maps a kind name or alias ("md", "word") to the kind the
// index stores; ok is false for an unknown kind.
func NormalizeKind(s string) (string, bool) {
	k, ok := kindNames[strings.ToLower(strings.TrimPrefix(s, "."))]
	return k, ok
}

// maxQueryBytes bounds what a query may hold; longer input is cut.
const maxQueryBytes = 4096

// ParseQuery splits what a person typed into the words to search for and
// the filters written inline: type:pdf, tag:work, in:~/notes (a folder;
// home is home), after:2024-05-01, before:2025-01-01 or after:30d (30 days
// ago). Anything else, quotes and operators included, is plain words:
// nothing in a query is ever read as syntax of an underlying engine.
func ParseQuery(s, home string, now time.Time) (string, Filters, error) {
	if len(s) > maxQueryBytes {
		s = s[:maxQueryBytes]
	}
	var f Filters
	var words []string
	for _, field := range strings.FieldsFunc(s, unicode.IsSpace) {
		key, val, ok := strings.Cut(field, ":")
		if !ok || val == "" {
			words = append(words, field)
			continue
		}
		switch strings.ToLower(key) {
		case "type", "kind":
			k, ok := NormalizeKind(val)
			if !ok {
				return "", f, fmt.Errorf("unknown document type %q (try text, markdown, html, code, pdf, docx or odt)", val)
			}
			f.Kinds = append(f.Kinds, k)
		case "tag":
			t, err := NormalizeTag(val)
			if err != nil {
				return "", f, err
			}
			f.Tags = append(f.Tags, t)
		case "in", "folder":
			dir, err := ExpandFolder(val, home)
			if err != nil {
				return "", f, err
			}
			f.Folders = append(f.Folders, dir)
		case "after", "since":
			t, err := ParseDate(val, now)
			if err != nil {
				return "", f, err
			}
			f.After = t
		case "before", "until":
			t, err := ParseDate(val, now)
			if err != nil {
				return "", f, err
			}
			f.Before = t
		default:
			words = append(words, field)
		}
	}
	return strings.Join(words, " "), f, nil
}

// ExpandFolder makes a folder filter absolute: "~/" is home; a relative
// folder cannot be resolved here and is refused.
func ExpandFolder(dir, home string) (string, error) {
	if dir == "~" || strings.HasPrefix(dir, "~/") {
		if home == "" {
			return "", errors.New("folder filter uses ~ but the home folder is unknown")
		}
		dir = filepath.Join(home, strings.TrimPrefix(dir, "~"))
	}
	if !filepath.IsAbs(dir) {
		return "", fmt.Errorf("folder filter %q is not an absolute path", dir)
	}
	return filepath.Clean(dir), nil
}

// ParseDate reads YYYY-MM-DD (local midnight), RFC 3339, or a number of
// days, weeks or years before now ("30d", "2w", "1y").
func ParseDate(s string, now time.Time) (time.Time, error) {
	if t, err := time.ParseInLocation("2006-01-02", s, now.Location()); err == nil {
		return t, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	if len(s) >= 2 {
		n, err := strconv.Atoi(s[:len(s)-1])
		if err == nil && n >= 0 && n <= 100000 {
			switch s[len(s)-1] {
			case 'd':
				return now.AddDate(0, 0, -n), nil
			case 'w':
				return now.AddDate(0, 0, -7*n), nil
			case 'y':
				return now.AddDate(-n, 0, 0), nil
			}
		}
	}
	return time.Time{}, fmt.Errorf("date %q: use YYYY-MM-DD, RFC 3339, or 30d / 2w / 1y for days, weeks, years ago", s)
}

// maxTagRunes bounds a tag.
const maxTagRunes = 64

// NormalizeTag makes a tag canonical: lower case, trimmed, inner spaces as
// hyphens; letters, digits, '-', '_', '.' and '/' only.
func NormalizeTag(s string) (string, error) {
	t := strings.ToLower(strings.TrimSpace(s))
	t = strings.Join(strings.Fields(t), "-")
	if t == "" {
		return "", errors.New("empty tag")
	}
	if n := len([]rune(t)); n > maxTagRunes {
		return "", fmt.Errorf("tag %q is longer than %d characters", s, maxTagRunes)
	}
	for _, r := range t {
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) && r != '-' && r != '_' && r != '.' && r != '/' {
			return "", fmt.Errorf("tag %q: use letters, digits, '-', '_', '.' or '/'", s)
		}
	}
	if strings.HasPrefix(t, ".") || strings.Contains(t, "..") || strings.HasPrefix(t, "/") || strings.HasSuffix(t, "/") {
		return "", fmt.Errorf("tag %q: must not start with '.' or '/', end with '/', or hold '..'", s)
	}
	return t, nil
}
