package app

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/BurntSushi/toml"
)

// DefaultListen is the daemon's HTTP address unless the configuration or
// `noema serve --listen` says otherwise.
const DefaultListen = "127.0.0.1:7717"

// ServerConfig is the [server] table of config.toml.
type ServerConfig struct {
	// Listen is the daemon's HTTP address (host:port).
	Listen string `toml:"listen"`
	// AllowRemote lets the daemon listen on an address other than
	// loopback. It counts only from a config file its owner alone can
	// write (see FindRemoteGrant), and each use is recorded as evidence.
	AllowRemote bool `toml:"allow_remote"`
}

func (c ServerConfig) check() error {
	if c.Listen == "" {
		return nil
	}
	if _, port, err := net.SplitHostPort(c.Listen); err != nil || port == "" {
		return fmt.Errorf("server.listen %q is not host:port", c.Listen)
	}
	return nil
}

// SocketPath is where the daemon's API socket lives: $NOEMA_SOCKET when
// set, else $XDG_RUNTIME_DIR/noema/noema.sock, else noema.sock in the run
// folder under $NOEMA_HOME (a machine without a login session).
func (p Paths) SocketPath(getenv func(string) string) string {
	if s := getenv("NOEMA_SOCKET"); s != "" {
		return s
	}
	if rd := getenv("XDG_RUNTIME_DIR"); rd != "" && filepath.IsAbs(rd) {
		return filepath.Join(rd, "noema", "noema.sock")
	}
	return filepath.Join(p.Run(), "noema.sock")
}

// APIToken is the file holding the bearer token for the daemon's HTTP
// API. It lives with the signing key, which the policy kernel seals, so
// no action (and no model) can read it.
func (p Paths) APIToken() string { return filepath.Join(p.Keys(), "api-token") }

// LoadOrCreateAPIToken reads the API token at path, creating a random one
// (mode 0600) when there is none. A token file that others can read is
// refused: the token may have leaked, and only its owner should decide to
// replace it.
func LoadOrCreateAPIToken(path string) (string, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return "", fmt.Errorf("api token: %w", err)
	}
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		var b [32]byte
		if _, err := rand.Read(b[:]); err != nil {
			return "", fmt.Errorf("api token: %w", err)
		}
		tok := base64.RawURLEncoding.EncodeToString(b[:])
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if errors.Is(err, fs.ErrExist) {
			return LoadOrCreateAPIToken(path)
		}
		if err != nil {
			return "", fmt.Errorf("api token: %w", err)
		}
		if _, err := f.WriteString(tok + "\n"); err != nil {
			f.Close()
			return "", fmt.Errorf("api token: %w", err)
		}
		if err := f.Close(); err != nil {
			return "", fmt.Errorf("api token: %w", err)
		}
		return tok, nil
	}
	if err != nil {
		return "", fmt.Errorf("api token: %w", err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		return "", fmt.Errorf("api token: %w", err)
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return "", fmt.Errorf("api token %s can be read by others (mode %04o); delete it and a new one will be made", path, fi.Mode().Perm())
	}
	tok := strings.TrimSpace(string(data))
	if len(tok) < 32 {
		return "", fmt.Errorf("api token %s is too short; delete it and a new one will be made", path)
	}
	return tok, nil
}

// RemoteGrant names the config file that lets the daemon listen beyond
// loopback.
type RemoteGrant struct {
	File string `json:"config_file"`
}

// FindRemoteGrant reports which config file grants allow_remote, after
// the same overriding as LoadConfig (the last file that sets it wins). The
// grant counts only if that file belongs to uid and nobody else can write
// it or its folder: a setting that widens who can reach the daemon must
// come from the owner.
func FindRemoteGrant(files []string, uid int) (RemoteGrant, bool, error) {
	var grant string
	for _, f := range files {
		data, err := os.ReadFile(f)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return RemoteGrant{}, false, fmt.Errorf("config: %w", err)
		}
		var c Config
		if err := ParseConfig(f, data, &c); err != nil {
			return RemoteGrant{}, false, fmt.Errorf("config: %w", err)
		}
		var set struct {
			Server struct {
				AllowRemote *bool `toml:"allow_remote"`
			} `toml:"server"`
		}
		if _, err := toml.Decode(string(data), &set); err != nil {
			return RemoteGrant{}, false, fmt.Errorf("config: %s: %w", f, err)
		}
		if v := set.Server.AllowRemote; v != nil {
			grant = ""
			if *v {
				grant = f
			}
		}
	}
	if grant == "" {
		return RemoteGrant{}, false, nil
	}
	for _, p := range []string{grant, filepath.Dir(grant)} {
		fi, err := os.Stat(p)
		if err != nil {
			return RemoteGrant{}, false, fmt.Errorf("config: %w", err)
		}
		st, ok := fi.Sys().(*syscall.Stat_t)
		if !ok || int(st.Uid) != uid {
			return RemoteGrant{}, false, fmt.Errorf("%s grants allow_remote but is not owned by uid %d; the grant is ignored", p, uid)
		}
		if fi.Mode().Perm()&0o022 != 0 {
			return RemoteGrant{}, false, fmt.Errorf("%s grants allow_remote but others can write it (mode %04o); the grant is ignored", p, fi.Mode().Perm())
		}
	}
	return RemoteGrant{File: grant}, true, nil
}
