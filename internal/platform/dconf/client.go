package dconf

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"

	"github.com/noema-project/noema/internal/platform/dbusconn"

	"github.com/godbus/dbus/v5"
)

// Options locate the database and schemas. The zero Options use the same
// environment variables as dconf and GSettings; tests set the fields to
// point at private directories.
type Options struct {
	// ConfigHome replaces $XDG_CONFIG_HOME (default ~/.config); the user
	// database is ConfigHome/dconf/user.
	ConfigHome string
	// DataDirs, if set, are the only data directories searched for
	// schemas (in DataDir/glib-2.0/schemas), in order of precedence.
	// Otherwise the directories come from SchemaDirs(os.Getenv).
	DataDirs []string
	// BusAddress replaces $DBUS_SESSION_BUS_ADDRESS in ConnectSession.
	BusAddress string
}

// Client reads and writes GSettings values stored in dconf: it writes
// through dconf-service and reads the database file directly, so every
// read reflects what is on disk, not what was last written.
type Client struct {
	conn     *dbus.Conn
	ownsConn bool
	writer   *Writer
	dbPath   string
	dbErr    error // why dbPath could not be determined
	dirs     []string

	mu      sync.Mutex
	schemas *Schemas
}

// NewClient returns a Client that writes over conn, a session bus
// connection owned by the caller. conn may be nil for a read-only client.
func NewClient(conn *dbus.Conn, opts Options) *Client {
	c := &Client{conn: conn}
	if conn != nil {
		c.writer = NewWriter(conn)
	}
	configHome := opts.ConfigHome
	if configHome == "" {
		configHome = os.Getenv("XDG_CONFIG_HOME")
	}
	if configHome == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			c.dbErr = fmt.Errorf("dconf: cannot locate the user database: %w", err)
		} else {
			configHome = filepath.Join(home, ".config")
		}
	}
	if configHome != "" {
		c.dbPath = filepath.Join(configHome, "dconf", "user")
	}
	if opts.DataDirs != nil {
		for _, d := range opts.DataDirs {
			c.dirs = append(c.dirs, filepath.Join(d, "glib-2.0", "schemas"))
		}
	} else {
		c.dirs = SchemaDirs(os.Getenv)
	}
	return c
}

// ConnectSession connects to the session bus at opts.BusAddress or
// $DBUS_SESSION_BUS_ADDRESS and returns a Client that owns the connection;
// Close closes it.
func ConnectSession(ctx context.Context, opts Options) (*Client, error) {
	addr := opts.BusAddress
	if addr == "" {
		addr = os.Getenv("DBUS_SESSION_BUS_ADDRESS")
	}
	if addr == "" {
		return nil, errors.New("dconf: connect: DBUS_SESSION_BUS_ADDRESS is not set")
	}
	conn, err := dbusconn.Dial(ctx, addr)
	if err != nil {
		return nil, fmt.Errorf("dconf: connect to session bus: %w", err)
	}
	c := NewClient(conn, opts)
	c.ownsConn = true
	return c, nil
}

// Close closes the bus connection if the Client opened it.
func (c *Client) Close() error {
	if c.ownsConn && c.conn != nil {
		return c.conn.Close()
	}
	return nil
}

// DatabasePath returns the path of the user database file.
func (c *Client) DatabasePath() string { return c.dbPath }

// Snapshot parses the current database file.
func (c *Client) Snapshot(ctx context.Context) (*Database, error) {
	if c.dbErr != nil {
		return nil, c.dbErr
	}
	return OpenDatabase(ctx, c.dbPath)
}

// Read returns the value stored at key path in the user database. set is
// false if the user has not set the key, in which case GSettings uses the
// schema default.
func (c *Client) Read(ctx context.Context, path string) (v Value, set bool, err error) {
	if err := CheckKey(path); err != nil {
		return Value{}, false, err
	}
	db, err := c.Snapshot(ctx)
	if err != nil {
		return Value{}, false, fmt.Errorf("dconf: read %s: %w", path, err)
	}
	v, set, err = db.Lookup(path)
	if err != nil {
		return Value{}, false, fmt.Errorf("dconf: read %s: %w", path, err)
	}
	return v, set, nil
}

// Write sets key path to v.
func (c *Client) Write(ctx context.Context, path string, v Value) error {
	if !v.IsValid() {
		return fmt.Errorf("dconf: write %s: zero Value", path)
	}
	if err := c.Apply(ctx, SetKey(path, v)); err != nil {
		return fmt.Errorf("dconf: write %s: %w", path, err)
	}
	return nil
}

// Reset removes the user's value for path so that the schema default
// applies again. A directory path (ending in "/") resets every key below
// it.
func (c *Client) Reset(ctx context.Context, path string) error {
	if err := c.Apply(ctx, ResetKey(path)); err != nil {
		return fmt.Errorf("dconf: reset %s: %w", path, err)
	}
	return nil
}

// Apply writes several changes atomically: other clients see all of them
// or none.
func (c *Client) Apply(ctx context.Context, changes ...Change) error {
	if c.writer == nil {
		return errors.New("dconf: client has no D-Bus connection")
	}
	_, err := c.writer.Change(ctx, changes...)
	return err
}

// Schemas returns the installed schemas, loading them on first use. The
// result is kept for the Client's lifetime.
func (c *Client) Schemas(ctx context.Context) (*Schemas, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.schemas != nil {
		return c.schemas, nil
	}
	s, err := LoadSchemas(ctx, c.dirs)
	if err != nil {
		return nil, err
	}
	c.schemas = s
	return s, nil
}

// Key describes key of schema schemaID, such as "color-scheme" of
// "org.gnome.desktop.interface".
func (c *Client) Key(ctx context.Context, schemaID, key string) (*Key, error) {
	s, err := c.Schemas(ctx)
	if err != nil {
		return nil, err
	}
	return s.Key(schemaID, key)
}

// Default returns the schema default of a key.
func (c *Client) Default(ctx context.Context, schemaID, key string) (Value, error) {
	k, err := c.Key(ctx, schemaID, key)
	if err != nil {
		return Value{}, err
	}
	return k.Default, nil
}

// Effective returns the value a GSettings client would see for a key: the
// user's value if one is stored and valid for the key, otherwise the
// schema default. set reports whether the user's value was used. As in
// GSettings, a stored value of the wrong type, outside the key's choices
// or range is ignored.
func (c *Client) Effective(ctx context.Context, schemaID, key string) (v Value, set bool, err error) {
	k, err := c.Key(ctx, schemaID, key)
	if err != nil {
		return Value{}, false, err
	}
	if k.Path == "" {
		return Value{}, false, fmt.Errorf("dconf: schema %s is relocatable; it has no fixed path", schemaID)
	}
	stored, ok, err := c.Read(ctx, k.Path)
	if err != nil {
		return Value{}, false, err
	}
	if ok && k.Validate(stored) == nil {
		return stored, true, nil
	}
	return k.Default, false, nil
}

// Set validates v against the schema key and writes it, so that GSettings
// clients will not ignore it.
func (c *Client) Set(ctx context.Context, schemaID, key string, v Value) error {
	k, err := c.Key(ctx, schemaID, key)
	if err != nil {
		return err
	}
	if k.Path == "" {
		return fmt.Errorf("dconf: schema %s is relocatable; it has no fixed path", schemaID)
	}
	if err := k.Validate(v); err != nil {
		return err
	}
	return c.Write(ctx, k.Path, v)
}
