package desktop

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// AppOptions locate desktop entries and set up launched applications.
type AppOptions struct {
	// DataHome replaces $XDG_DATA_HOME (default ~/.local/share).
	DataHome string
	// DataDirs replace $XDG_DATA_DIRS (default /usr/local/share and
	// /usr/share).
	DataDirs []string
	// CurrentDesktop replaces $XDG_CURRENT_DESKTOP (colon-separated, such
	// as "ubuntu:GNOME"), for OnlyShowIn and NotShowIn.
	CurrentDesktop string
	// Env holds extra KEY=value settings for launched applications.
	Env []string
	// Grace is how long a launch waits to see whether the program
	// exits at once (a failure, or a hand-off to a running instance);
	// default 400ms.
	Grace time.Duration
}

func (o AppOptions) applicationDirs() []string {
	home := o.DataHome
	if home == "" {
		home = os.Getenv("XDG_DATA_HOME")
	}
	if home == "" {
		if h, err := os.UserHomeDir(); err == nil {
			home = filepath.Join(h, ".local", "share")
		}
	}
	dirs := o.DataDirs
	if dirs == nil {
		dirs = filepath.SplitList(os.Getenv("XDG_DATA_DIRS"))
		if len(dirs) == 0 {
			dirs = []string{"/usr/local/share", "/usr/share"}
		}
	}
	var out []string
	for _, d := range append([]string{home}, dirs...) {
		if d != "" && filepath.IsAbs(d) {
			out = append(out, filepath.Join(d, "applications"))
		}
	}
	return out
}

func (o AppOptions) currentDesktops() []string {
	v := o.CurrentDesktop
	if v == "" {
		v = os.Getenv("XDG_CURRENT_DESKTOP")
	}
	var out []string
	for _, d := range strings.Split(v, ":") {
		if d = strings.TrimSpace(d); d != "" {
			out = append(out, strings.ToLower(d))
		}
	}
	return out
}

// Limits on the walk, so a huge or looping applications tree cannot stall
// a launch.
const (
	maxDesktopFiles = 20000
	maxAppDirDepth  = 6
)

// loadEntries reads every desktop entry in the application directories.
// An ID found in an earlier directory hides the same ID in later ones,
// including when the earlier one is Hidden (that is how a user deletes
// a system entry). Unreadable or malformed files are skipped.
func loadEntries(ctx context.Context, dirs []string) ([]*desktopEntry, error) {
	seen := map[string]bool{}
	var out []*desktopEntry
	count := 0
	for _, dir := range dirs {
		err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				if path == dir {
					return fs.SkipDir
				}
				return nil
			}
			if err := ctx.Err(); err != nil {
				return err
			}
			rel, _ := filepath.Rel(dir, path)
			if d.IsDir() {
				if rel != "." && strings.Count(rel, string(filepath.Separator)) >= maxAppDirDepth {
					return fs.SkipDir
				}
				return nil
			}
			if !strings.HasSuffix(d.Name(), ".desktop") || !(d.Type().IsRegular() || d.Type()&fs.ModeSymlink != 0) {
				return nil
			}
			if count++; count > maxDesktopFiles {
				return fmt.Errorf("more than %d desktop files under %v", maxDesktopFiles, dirs)
			}
			id := strings.ReplaceAll(filepath.ToSlash(rel), "/", "-")
			if seen[id] {
				return nil
			}
			data, err := readLimited(path, maxDesktopFile)
			if err != nil {
				return nil
			}
			e, err := parseDesktopEntry(data)
			if err != nil {
				return nil
			}
			seen[id] = true
			e.ID, e.Path = id, path
			out = append(out, e)
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

func readLimited(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file", path)
	}
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("%s is larger than %d bytes", path, limit)
	}
	return data, nil
}

// launchable says why an entry cannot be started, or "" if it can.
func launchable(e *desktopEntry) string {
	switch {
	case e.Hidden:
		return "it is deleted (Hidden)"
	case e.Type != "Application":
		return "it is a " + e.Type + ", not an application"
	case strings.TrimSpace(e.Exec) == "":
		return "it has no Exec line (D-Bus activation only)"
	}
	if e.TryExec != "" {
		if _, err := exec.LookPath(e.TryExec); err != nil {
			return "its program " + e.TryExec + " is not installed (TryExec)"
		}
	}
	return ""
}

// appMatch is a candidate for a requested app name.
type appMatch struct {
	entry *desktopEntry
	score int
}

func normalizeApp(s string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	s = strings.TrimSuffix(s, ".desktop")
	return strings.Join(strings.Fields(s), " ")
}

// words splits a name into lower-case words.
func words(s string) []string {
	return strings.FieldsFunc(strings.ToLower(s), func(r rune) bool {
		return r == ' ' || r == '-' || r == '_' || r == '.' || r == '(' || r == ')' || r == ',' || r == '/'
	})
}

// containsWords reports whether want appears as consecutive words of s.
func containsWords(s, want []string) bool {
	if len(want) == 0 {
		return false
	}
	for i := 0; i+len(want) <= len(s); i++ {
		ok := true
		for j := range want {
			if s[i+j] != want[j] {
				ok = false
				break
			}
		}
		if ok {
			return true
		}
	}
	return false
}

// scoreApp rates how well an entry matches a requested name; 0 is no
// match. Exact names beat word matches, which beat descriptions.
func scoreApp(e *desktopEntry, q string, desktops []string) int {
	qw := words(q)
	id := normalizeApp(e.ID)
	score := 0
	bump := func(s int) { score = max(score, s) }
	if q == id {
		bump(100)
	}
	if i := strings.LastIndexByte(id, '.'); i >= 0 && q == id[i+1:] {
		bump(98) // org.mozilla.firefox
	}
	for _, n := range e.Names {
		n = normalizeApp(n)
		if q == n {
			bump(96)
		}
		nw := words(n)
		if len(nw) > 0 && len(qw) > 0 && containsWords(nw[:min(len(qw), len(nw))], qw) {
			bump(85) // "firefox" for "Firefox Web Browser"
		} else if containsWords(nw, qw) {
			bump(80)
		}
	}
	if argv, err := splitExec(e.Exec, execContext{}); err == nil && strings.ToLower(filepath.Base(argv[0])) == q {
		bump(92)
	}
	if e.TryExec != "" && strings.ToLower(filepath.Base(e.TryExec)) == q {
		bump(92)
	}
	for _, g := range e.GenericNames {
		if normalizeApp(g) == q {
			bump(75)
		} else if containsWords(words(g), qw) {
			bump(60)
		}
	}
	for _, k := range e.Keywords {
		if normalizeApp(k) == q {
			bump(70)
		}
	}
	if score == 0 && len(qw) > 0 {
		// Every word of the request somewhere in the entry's names:
		// "firefox web browser" for Name=Firefox ESR, GenericName=Web Browser.
		all := map[string]bool{}
		for _, list := range [][]string{e.Names, e.GenericNames, e.Keywords, {e.ID}} {
			for _, s := range list {
				for _, w := range words(s) {
					all[w] = true
				}
			}
		}
		ok := true
		for _, w := range qw {
			ok = ok && all[w]
		}
		if ok {
			bump(55)
		}
	}
	if score == 0 && len(q) >= 3 && strings.Contains(id, q) {
		bump(50)
	}
	if score == 0 {
		return 0
	}
	// NoDisplay entries are helpers and handlers; start one only when
	// named exactly.
	if e.NoDisplay && score < 96 {
		return 0
	}
	if !shownIn(e, desktops) {
		score -= 5
	}
	return score
}

// shownIn applies OnlyShowIn and NotShowIn loosely: it only lowers a
// candidate, since the desktop name is often unknown or unusual.
func shownIn(e *desktopEntry, desktops []string) bool {
	if len(desktops) == 0 {
		return true
	}
	in := func(list []string) bool {
		for _, l := range list {
			for _, d := range desktops {
				if strings.EqualFold(l, d) {
					return true
				}
			}
		}
		return false
	}
	if len(e.OnlyShowIn) > 0 && !in(e.OnlyShowIn) {
		return false
	}
	return !in(e.NotShowIn)
}

// AppNotFoundError says no installed application matches a name.
type AppNotFoundError struct {
	App    string
	Reason string
}

func (e *AppNotFoundError) Error() string {
	if e.Reason != "" {
		return fmt.Sprintf("no application to launch for %q: %s", e.App, e.Reason)
	}
	return fmt.Sprintf("no installed application matches %q", e.App)
}

// findApp picks the entry for a requested name, or explains why none or
// several fit.
func findApp(entries []*desktopEntry, app string, desktops []string) (*desktopEntry, error) {
	q := normalizeApp(app)
	if q == "" {
		return nil, errors.New("no application named")
	}
	var cands []appMatch
	var blocked []string
	for _, e := range entries {
		s := scoreApp(e, q, desktops)
		if s == 0 {
			continue
		}
		if why := launchable(e); why != "" {
			blocked = append(blocked, fmt.Sprintf("%s (%s): %s", e.Name, e.ID, why))
			continue
		}
		cands = append(cands, appMatch{e, s})
	}
	if len(cands) == 0 {
		if len(blocked) > 0 {
			return nil, &AppNotFoundError{App: app, Reason: strings.Join(blocked, "; ")}
		}
		return nil, &AppNotFoundError{App: app}
	}
	sort.SliceStable(cands, func(i, j int) bool { return cands[i].score > cands[j].score })
	best := cands[0]
	var rivals []string
	for _, c := range cands[1:] {
		if c.score == best.score && c.entry.Exec != best.entry.Exec {
			rivals = append(rivals, fmt.Sprintf("%s (%s)", c.entry.Name, c.entry.ID))
		}
	}
	if len(rivals) > 0 {
		all := append([]string{fmt.Sprintf("%s (%s)", best.entry.Name, best.entry.ID)}, rivals...)
		if len(all) > 6 {
			all = append(all[:6], "…")
		}
		return nil, fmt.Errorf("%q matches several applications: %s; name the one you mean", app, strings.Join(all, ", "))
	}
	return best.entry, nil
}

// resolveApp loads the entries and finds app.
func (m *Module) resolveApp(ctx context.Context, app string) (*desktopEntry, error) {
	entries, err := loadEntries(ctx, m.opts.Apps.applicationDirs())
	if err != nil {
		return nil, err
	}
	return findApp(entries, app, m.opts.Apps.currentDesktops())
}

// AppExists reports whether name matches an installed application (one or
// several), so the translator reads free words as an app only when one is
// there to open.
func (m *Module) AppExists(ctx context.Context, name string) bool {
	entries, err := loadEntries(ctx, m.opts.Apps.applicationDirs())
	if err != nil {
		return false
	}
	_, err = findApp(entries, name, m.opts.Apps.currentDesktops())
	var nf *AppNotFoundError
	return err == nil || !errors.As(err, &nf) && name != ""
}
