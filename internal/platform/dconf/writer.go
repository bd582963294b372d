package dconf

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/godbus/dbus/v5"
)

// The D-Bus API of dconf-service for the per-user database.
const (
	ServiceName     = "ca.desrt.dconf"
	WriterPath      = "/ca/desrt/dconf/Writer/user"
	WriterInterface = "ca.desrt.dconf.Writer"
)

// changesetType is the GVariant type of a serialised dconf changeset: a
// dictionary from path to an optional variant, Nothing meaning "reset".
const changesetType = "a{smv}"

// A Change is one entry of a changeset. If Value is the zero Value the
// change resets Path: a key goes back to its default, and a directory
// (a path ending in "/") is emptied. Otherwise Path must be a key and is
// set to Value.
type Change struct {
	Path  string
	Value Value
}

// SetKey returns a change that sets key path to v.
func SetKey(path string, v Value) Change { return Change{Path: path, Value: v} }

// ResetKey returns a change that resets path, a key or a directory.
func ResetKey(path string) Change { return Change{Path: path} }

// Writer sends changesets to dconf-service. dconf-service applies a
// changeset atomically and rewrites the database file before it replies,
// so once Change returns the new values can be read from the file.
type Writer struct {
	obj dbus.BusObject
}

// NewWriter returns a Writer for the user database on conn, which must be
// a connection to the session bus (dconf-service is started on demand by
// bus activation).
func NewWriter(conn *dbus.Conn) *Writer {
	return &Writer{obj: conn.Object(ServiceName, WriterPath)}
}

// Change applies changes as one atomic changeset and returns the tag that
// dconf-service attaches to the resulting change notification. An empty
// changeset is not sent, as dconf's own client does not send one either.
func (w *Writer) Change(ctx context.Context, changes ...Change) (tag string, err error) {
	if len(changes) == 0 {
		return "", nil
	}
	blob, err := EncodeChangeset(changes)
	if err != nil {
		return "", err
	}
	call := w.obj.CallWithContext(ctx, WriterInterface+".Change", 0, blob)
	if call.Err != nil {
		return "", fmt.Errorf("dconf: %s.Change: %w", WriterInterface, call.Err)
	}
	if err := call.Store(&tag); err != nil {
		return "", fmt.Errorf("dconf: %s.Change reply: %w", WriterInterface, err)
	}
	return tag, nil
}

// EncodeChangeset serialises changes as the a{smv} GVariant that the
// Change method expects. Paths are checked with dconf's rules, because
// dconf-service silently drops entries with invalid paths.
func EncodeChangeset(changes []Change) ([]byte, error) {
	entries := make([]Value, 0, len(changes))
	seen := map[string]bool{}
	for _, c := range changes {
		if seen[c.Path] {
			return nil, fmt.Errorf("dconf: changeset: path %s appears twice", c.Path)
		}
		seen[c.Path] = true
		var mv Value
		if c.Value.IsValid() {
			if err := CheckKey(c.Path); err != nil {
				return nil, err
			}
			mv = Just(Variant(c.Value))
		} else {
			if err := CheckPath(c.Path); err != nil {
				return nil, err
			}
			mv, _ = Nothing("v")
		}
		e, err := DictEntry(String(c.Path), mv)
		if err != nil {
			return nil, err
		}
		entries = append(entries, e)
	}
	set, err := Array("{smv}", entries...)
	if err != nil {
		return nil, err
	}
	blob, err := Marshal(set)
	if err != nil {
		return nil, fmt.Errorf("dconf: changeset: %w", err)
	}
	return blob, nil
}

// DecodeChangeset parses a serialised a{smv} changeset, the inverse of
// EncodeChangeset.
func DecodeChangeset(blob []byte) ([]Change, error) {
	set, err := Unmarshal(changesetType, blob)
	if err != nil {
		return nil, fmt.Errorf("dconf: changeset: %w", err)
	}
	entries := set.kids()
	changes := make([]Change, 0, len(entries))
	for _, e := range entries {
		kv := e.kids()
		path := kv[0].val.(string)
		c := Change{Path: path}
		if mv, ok := kv[1].Inner(); ok {
			c.Value, _ = mv.Inner()
		}
		changes = append(changes, c)
	}
	return changes, nil
}

// CheckKey reports whether path is a valid dconf key: it starts with "/",
// does not end with "/" and contains no "//".
func CheckKey(path string) error {
	if err := checkPathChars(path); err != nil {
		return err
	}
	if strings.HasSuffix(path, "/") {
		return fmt.Errorf("dconf: %q is a directory, not a key", path)
	}
	return nil
}

// CheckPath reports whether path is a valid dconf key or directory (a path
// ending in "/").
func CheckPath(path string) error {
	return checkPathChars(path)
}

func checkPathChars(path string) error {
	switch {
	case path == "":
		return errors.New("dconf: empty path")
	case path[0] != '/':
		return fmt.Errorf("dconf: path %q does not start with /", path)
	case strings.Contains(path, "//"):
		return fmt.Errorf("dconf: path %q contains //", path)
	}
	if err := checkString('s', path); err != nil {
		return fmt.Errorf("dconf: path %q: %w", path, err)
	}
	return nil
}
