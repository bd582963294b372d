package fusefs

import (
	"fmt"
	"path"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// maxName is the longest file name Linux accepts (NAME_MAX, in bytes).
const maxName = 255

// entryNames names the files listed for paths (in order) in one folder of
// the view. A file keeps its base name, so that programs still recognise
// it by its extension; base names that occur more than once get the
// shortest tail of their parent folder that tells them apart, joined by
// "-": /home/u/work/notes.md and /home/u/play/notes.md become
// "notes (work).md" and "notes (play).md". With ranked set, each name
// starts with its 1-based position, zero-padded to at least two digits
// ("01 notes.md"), so that `ls`, which sorts by name, shows the best
// match first. A name already taken in the folder (a subfolder's) gets
// a "~2" before its extension, as does any other name still repeated.
func entryNames(paths []string, ranked bool, taken map[string]bool) []string {
	names := make([]string, len(paths))
	groups := make(map[string][]int)
	paths = slices.Clone(paths)
	for i, p := range paths {
		// A NUL cannot be in a file name; none comes from the store.
		p = strings.ReplaceAll(p, "\x00", "_")
		paths[i] = p
		b := path.Base(p)
		if b == "/" || b == "." || b == ".." {
			b = "_" // not a file's name; never from the store
		}
		names[i] = b
		groups[b] = append(groups[b], i)
	}
	for base, idx := range groups {
		if len(idx) < 2 {
			continue
		}
		labels := distinguish(paths, idx)
		for j, i := range idx {
			names[i] = withLabel(base, labels[j])
		}
	}
	width := 2
	if w := len(strconv.Itoa(len(paths))); w > width {
		width = w
	}
	seen := make(map[string]bool, len(paths)+len(taken))
	for n := range taken {
		seen[n] = true
	}
	for i, n := range names {
		prefix := ""
		if ranked {
			prefix = fmt.Sprintf("%0*d ", width, i+1)
		}
		name := fit(prefix, n, "")
		for k := 2; seen[name]; k++ {
			name = fit(prefix, n, "~"+strconv.Itoa(k))
		}
		seen[name] = true
		names[i] = name
	}
	return names
}

// distinguish returns, for the paths at idx (which share a base name),
// the shortest tails of their parent folders that differ.
func distinguish(paths []string, idx []int) []string {
	comps := make([][]string, len(idx))
	longest := 0
	for j, i := range idx {
		dir := strings.Trim(path.Dir(paths[i]), "/")
		if dir != "" && dir != "." {
			comps[j] = strings.Split(dir, "/")
		}
		longest = max(longest, len(comps[j]))
	}
	labels := make([]string, len(idx))
	for k := 1; k <= max(longest, 1); k++ {
		seen := make(map[string]bool, len(idx))
		unique := true
		for j, c := range comps {
			tail := c[max(0, len(c)-k):]
			labels[j] = strings.Join(tail, "-")
			if labels[j] == "" {
				labels[j] = "root"
			}
			if seen[labels[j]] {
				unique = false
			}
			seen[labels[j]] = true
		}
		if unique {
			break
		}
	}
	return labels
}

// withLabel puts label before the extension: "notes.md" becomes
// "notes (work).md". A dot file such as ".bashrc" has no extension.
func withLabel(base, label string) string {
	stem, ext := splitExt(base)
	return stem + " (" + label + ")" + ext
}

func splitExt(name string) (stem, ext string) {
	ext = path.Ext(name)
	if ext == name || ext == "." {
		return name, ""
	}
	return strings.TrimSuffix(name, ext), ext
}

// fit joins prefix, name and a suffix placed before the extension, and
// shortens the stem so that the whole stays within maxName bytes.
func fit(prefix, name, suffix string) string {
	stem, ext := splitExt(name)
	room := maxName - len(prefix) - len(suffix) - len(ext)
	if room < 1 {
		// An absurdly long extension: give up keeping it.
		stem, ext = name, ""
		room = maxName - len(prefix) - len(suffix)
	}
	if len(stem) > room {
		cut := room
		for cut > 0 && !utf8.RuneStart(stem[cut]) {
			cut-- // do not split a character
		}
		stem = stem[:cut]
	}
	return prefix + stem + suffix + ext
}
