package dconf

import (
	"cmp"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"
	"strings"
)

// Database is a parsed snapshot of a dconf database file in the GVDB
// format. It is what dconf's client engine consults for every read, so
// reading it shows exactly what GSettings clients will see.
//
// The file's structure (header, hash table, item names and pointers) is
// validated when it is parsed; a value's serialised data is validated when
// the value is looked up, so one damaged value does not hide the others.
type Database struct {
	data   []byte
	order  binary.ByteOrder // byte order of the serialised values
	items  []gvdbItem
	byName map[string]int
}

type gvdbItem struct {
	name       string // full name, e.g. /org/gnome/desktop/interface/
	kind       byte   // 'v' value, 'L' list of children, 'H' nested table
	start, end uint32 // the item's data
}

// CorruptError reports a database file that is not a well-formed GVDB
// file, so that callers can tell damage apart from a missing setting.
type CorruptError struct {
	Path   string // file name, if known
	Offset int64  // byte offset of the problem, or -1
	Msg    string
}

func (e *CorruptError) Error() string {
	name := e.Path
	if name == "" {
		name = "database"
	}
	if e.Offset >= 0 {
		return fmt.Sprintf("dconf: corrupt GVDB file %s: at byte %d: %s", name, e.Offset, e.Msg)
	}
	return fmt.Sprintf("dconf: corrupt GVDB file %s: %s", name, e.Msg)
}

func corrupt(off int64, format string, args ...any) *CorruptError {
	return &CorruptError{Offset: off, Msg: fmt.Sprintf(format, args...)}
}

const (
	gvdbHeaderSize = 24
	gvdbItemSize   = 24
	gvdbNoParent   = 0xffffffff
)

// OpenDatabase reads and parses the database file at path. A missing file
// is an empty database, which is what dconf-service leaves behind for a
// user who has never changed a setting.
func OpenDatabase(ctx context.Context, path string) (*Database, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return &Database{byName: map[string]int{}}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("dconf: read database: %w", err)
	}
	db, err := ParseDatabase(data)
	if err != nil {
		var ce *CorruptError
		if errors.As(err, &ce) {
			ce.Path = path
		}
		return nil, err
	}
	return db, nil
}

// ParseDatabase parses the contents of a GVDB database file. The Database
// keeps data; the caller must not modify it afterwards.
func ParseDatabase(data []byte) (*Database, error) {
	if len(data) < gvdbHeaderSize {
		return nil, corrupt(-1, "file is %d bytes, shorter than the %d-byte header", len(data), gvdbHeaderSize)
	}
	db := &Database{data: data, byName: map[string]int{}}
	switch string(data[:8]) {
	case "GVariant":
		db.order = binary.LittleEndian
	case "raVGtnai":
		// Written on a big-endian machine: the structure is still
		// little-endian, but the values are big-endian.
		db.order = binary.BigEndian
	default:
		return nil, corrupt(0, "bad signature %q, want \"GVariant\"", data[:8])
	}
	le := binary.LittleEndian
	if v := le.Uint32(data[8:]); v != 0 {
		return nil, corrupt(8, "unsupported version %d", v)
	}
	start, end := le.Uint32(data[16:]), le.Uint32(data[20:])
	table, err := db.deref(16, start, end, 4)
	if err != nil {
		return nil, err
	}
	if err := db.parseTable(int64(start), table); err != nil {
		return nil, err
	}
	return db, nil
}

// deref checks a (start, end) pointer found at byte off and returns the
// data it points to.
func (db *Database) deref(off int64, start, end uint32, align uint32) ([]byte, error) {
	if start > end || uint64(end) > uint64(len(db.data)) {
		return nil, corrupt(off, "pointer %d..%d outside the %d-byte file", start, end, len(db.data))
	}
	if start%align != 0 {
		return nil, corrupt(off, "pointer %d is not %d-byte aligned", start, align)
	}
	return db.data[start:end], nil
}

// parseTable reads the hash table at byte base: a header holding the
// number of bloom filter words and hash buckets, then those words and
// buckets, then the 24-byte hash items. Lookups here scan the items
// linearly, so bloom filter and buckets are only checked for size.
func (db *Database) parseTable(base int64, table []byte) error {
	le := binary.LittleEndian
	if len(table) < 8 {
		return corrupt(base, "hash table is %d bytes, shorter than its 8-byte header", len(table))
	}
	nBloom := uint64(le.Uint32(table) & (1<<27 - 1))
	nBuckets := uint64(le.Uint32(table[4:]))
	rest := uint64(len(table) - 8)
	if (nBloom+nBuckets)*4 > rest {
		return corrupt(base, "hash table claims %d bloom words and %d buckets but has room for %d", nBloom, nBuckets, rest/4)
	}
	rest -= (nBloom + nBuckets) * 4
	if rest%gvdbItemSize != 0 {
		return corrupt(base, "hash items occupy %d bytes, not a multiple of %d", rest, gvdbItemSize)
	}
	itemsOff := 8 + (nBloom+nBuckets)*4
	n := int(rest / gvdbItemSize)
	type rawItem struct {
		parent   uint32
		key      []byte
		kind     byte
		start    uint32
		end      uint32
		fileOff  int64
		keyStart uint32
	}
	raw := make([]rawItem, n)
	listEntries := 0 // each item is the child of at most one list
	for i := range raw {
		off := itemsOff + uint64(i)*gvdbItemSize
		it := table[off : off+gvdbItemSize]
		fileOff := base + int64(off)
		keyStart := le.Uint32(it[8:])
		keySize := uint32(le.Uint16(it[12:]))
		if uint64(keyStart)+uint64(keySize) > uint64(len(db.data)) {
			return corrupt(fileOff, "item %d: key %d..%d outside the %d-byte file", i, keyStart, uint64(keyStart)+uint64(keySize), len(db.data))
		}
		r := rawItem{
			parent:   le.Uint32(it[4:]),
			key:      db.data[keyStart : keyStart+keySize],
			kind:     it[14],
			start:    le.Uint32(it[16:]),
			end:      le.Uint32(it[20:]),
			fileOff:  fileOff,
			keyStart: keyStart,
		}
		if r.parent != gvdbNoParent && uint64(r.parent) >= uint64(n) {
			return corrupt(fileOff, "item %d: parent index %d out of range (%d items)", i, r.parent, n)
		}
		switch r.kind {
		case 'v':
			_, err := db.deref(fileOff+16, r.start, r.end, 8)
			if err != nil {
				return err
			}
		case 'H':
			_, err := db.deref(fileOff+16, r.start, r.end, 4)
			if err != nil {
				return err
			}
		case 'L':
			list, err := db.deref(fileOff+16, r.start, r.end, 4)
			if err != nil {
				return err
			}
			listEntries += len(list) / 4
			if listEntries > n {
				return corrupt(fileOff, "item %d: child lists name more entries than the %d items", i, n)
			}
			if len(list)%4 != 0 {
				return corrupt(fileOff, "item %d: child list is %d bytes, not a multiple of 4", i, len(list))
			}
			for j := 0; j < len(list); j += 4 {
				if c := le.Uint32(list[j:]); uint64(c) >= uint64(n) {
					return corrupt(int64(r.start)+int64(j), "item %d: child index %d out of range (%d items)", i, c, n)
				}
			}
		default:
			return corrupt(fileOff+14, "item %d: unknown item type %q", i, r.kind)
		}
		raw[i] = r
	}

	// Reconstruct full names: each item stores only the part of its name
	// after its parent's name. A valid file never repeats key bytes along a
	// chain of parents, so no name is longer than the file; the total is
	// capped as well so that shared key bytes cannot multiply memory use.
	names := make([]string, n)
	state := make([]byte, n) // 0 unvisited, 1 on the current chain, 2 done
	total := 0
	limit := 64*len(db.data) + 1<<16
	var chain []int
	for i := range raw {
		chain = chain[:0]
		j := i
		for state[j] == 0 {
			state[j] = 1
			chain = append(chain, j)
			if raw[j].parent == gvdbNoParent {
				break
			}
			j = int(raw[j].parent)
		}
		if state[j] == 1 && raw[j].parent != gvdbNoParent {
			return corrupt(raw[i].fileOff, "item %d: cycle in parent links", i)
		}
		for k := len(chain) - 1; k >= 0; k-- {
			c := chain[k]
			prefix := ""
			if p := raw[c].parent; p != gvdbNoParent {
				prefix = names[p]
			}
			if len(prefix)+len(raw[c].key) > len(db.data) {
				return corrupt(raw[c].fileOff, "item %d: name longer than the file", c)
			}
			total += len(prefix) + len(raw[c].key)
			if total > limit {
				return corrupt(raw[c].fileOff, "item names add up to more than %d bytes", limit)
			}
			names[c] = prefix + string(raw[c].key)
			state[c] = 2
		}
	}

	// Every item's data must lie apart from every other's, as the GVDB
	// writer lays them out. Without this, many items could point at the
	// same large region and make a small file expensive to read.
	type span struct {
		start, end uint32
		item       int
	}
	spans := make([]span, 0, n)
	for i, r := range raw {
		if r.end > r.start {
			spans = append(spans, span{r.start, r.end, i})
		}
	}
	slices.SortFunc(spans, func(a, b span) int { return cmp.Compare(a.start, b.start) })
	for k := 1; k < len(spans); k++ {
		if spans[k].start < spans[k-1].end {
			return corrupt(raw[spans[k].item].fileOff+16, "item %d: data %d..%d overlaps item %d (%d..%d)",
				spans[k].item, spans[k].start, spans[k].end, spans[k-1].item, spans[k-1].start, spans[k-1].end)
		}
	}

	db.items = make([]gvdbItem, n)
	for i, r := range raw {
		if _, dup := db.byName[names[i]]; dup {
			return corrupt(r.fileOff, "item %d: duplicate name %q", i, names[i])
		}
		db.byName[names[i]] = i
		db.items[i] = gvdbItem{name: names[i], kind: r.kind, start: r.start, end: r.end}
	}
	return nil
}

// Lookup returns the value stored at key path, such as
// /org/gnome/desktop/interface/color-scheme. ok is false if the database
// holds no value there. An error means the stored value is damaged.
func (db *Database) Lookup(path string) (v Value, ok bool, err error) {
	i, found := db.byName[path]
	if !found || db.items[i].kind != 'v' {
		return Value{}, false, nil
	}
	it := db.items[i]
	outer, err := unmarshalOrder("v", db.data[it.start:it.end], db.order)
	if err != nil {
		return Value{}, false, &CorruptError{Offset: int64(it.start), Msg: fmt.Sprintf("value of %s: %v", path, err)}
	}
	inner, _ := outer.Inner()
	return inner, true, nil
}

// raw returns the serialised variant stored for path, for tests that
// compare this package's encoder with GLib's.
func (db *Database) raw(path string) ([]byte, bool) {
	i, found := db.byName[path]
	if !found || db.items[i].kind != 'v' {
		return nil, false
	}
	return db.data[db.items[i].start:db.items[i].end], true
}

// Keys returns the sorted paths of all keys that hold a value.
func (db *Database) Keys() []string {
	var keys []string
	for _, it := range db.items {
		if it.kind == 'v' {
			keys = append(keys, it.name)
		}
	}
	slices.Sort(keys)
	return keys
}

// List returns the sorted names of the keys and subdirectories directly
// below dir (a path ending in "/"), as dconf's list operation does;
// subdirectory names end in "/". It returns nil if dir does not exist.
func (db *Database) List(dir string) []string {
	i, found := db.byName[dir]
	if !found || db.items[i].kind != 'L' {
		return nil
	}
	it := db.items[i]
	list := db.data[it.start:it.end]
	var out []string
	for j := 0; j+4 <= len(list); j += 4 {
		child := db.items[binary.LittleEndian.Uint32(list[j:])].name
		// A child's name extends its parent's; anything else is not a
		// real child and is skipped rather than mangled.
		if name, ok := strings.CutPrefix(child, dir); ok && name != "" {
			out = append(out, name)
		}
	}
	slices.Sort(out)
	return out
}
