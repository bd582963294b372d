package verify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os"
	"strconv"
	"time"

	"github.com/godbus/dbus/v5"
	"github.com/zeebo/blake3"
)

func builtins() map[string]Prober {
	return map[string]Prober{
		"file.exists":    ProberFunc(fileExists),
		"file.absent":    ProberFunc(fileAbsent),
		"file.hash":      ProberFunc(fileHash),
		"http.ok":        ProberFunc(httpOK),
		"port.open":      ProberFunc(portOpen),
		"service.active": ProberFunc(serviceActive),
		"value.equals":   ProberFunc(valueEquals),
	}
}

func decodeArgs(raw json.RawMessage, v any) error {
	if len(raw) == 0 {
		return errors.New("probe arguments missing")
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return fmt.Errorf("probe arguments: %w", err)
	}
	return nil
}

// PathArgs names a filesystem path.
type PathArgs struct {
	Path string `json:"path"`
	// Kind optionally requires "file", "dir" or "symlink".
	Kind string `json:"kind,omitempty"`
}

func fileExists(_ context.Context, raw json.RawMessage) (Observation, error) {
	var a PathArgs
	if err := decodeArgs(raw, &a); err != nil {
		return Observation{}, err
	}
	st, err := os.Lstat(a.Path)
	if errors.Is(err, fs.ErrNotExist) {
		return Observation{Pass: false, Detail: a.Path + " does not exist"}, nil
	}
	if err != nil {
		return Observation{}, err
	}
	kind := "file"
	switch {
	case st.IsDir():
		kind = "dir"
	case st.Mode()&fs.ModeSymlink != 0:
		kind = "symlink"
	}
	if a.Kind != "" && a.Kind != kind {
		return Observation{Pass: false, Observed: kind, Detail: fmt.Sprintf("%s is a %s, want %s", a.Path, kind, a.Kind)}, nil
	}
	return Observation{Pass: true, Observed: kind, Detail: a.Path + " exists"}, nil
}

func fileAbsent(_ context.Context, raw json.RawMessage) (Observation, error) {
	var a PathArgs
	if err := decodeArgs(raw, &a); err != nil {
		return Observation{}, err
	}
	_, err := os.Lstat(a.Path)
	if errors.Is(err, fs.ErrNotExist) {
		return Observation{Pass: true, Detail: a.Path + " is absent"}, nil
	}
	if err != nil {
		return Observation{}, err
	}
	return Observation{Pass: false, Detail: a.Path + " still exists"}, nil
}

// HashArgs expects a file's BLAKE3 hex digest.
type HashArgs struct {
	Path   string `json:"path"`
	BLAKE3 string `json:"blake3"`
}

// FileBLAKE3 hashes a file's contents.
func FileBLAKE3(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := blake3.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return fmt.Sprintf("%x", h.Sum(nil)), nil
}

func fileHash(_ context.Context, raw json.RawMessage) (Observation, error) {
	var a HashArgs
	if err := decodeArgs(raw, &a); err != nil {
		return Observation{}, err
	}
	got, err := FileBLAKE3(a.Path)
	if errors.Is(err, fs.ErrNotExist) {
		return Observation{Pass: false, Detail: a.Path + " does not exist"}, nil
	}
	if err != nil {
		return Observation{}, err
	}
	if got != a.BLAKE3 {
		return Observation{Pass: false, Observed: got, Detail: "content hash differs"}, nil
	}
	return Observation{Pass: true, Observed: got, Detail: "content hash matches"}, nil
}

// HTTPArgs expects a URL to answer with a status.
type HTTPArgs struct {
	URL    string `json:"url"`
	Status int    `json:"status,omitempty"` // 0 means any 2xx
}

func httpOK(ctx context.Context, raw json.RawMessage) (Observation, error) {
	var a HTTPArgs
	if err := decodeArgs(raw, &a); err != nil {
		return Observation{}, err
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, a.URL, nil)
	if err != nil {
		return Observation{}, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return Observation{Pass: false, Detail: err.Error()}, nil
	}
	resp.Body.Close()
	ok := resp.StatusCode/100 == 2
	if a.Status != 0 {
		ok = resp.StatusCode == a.Status
	}
	return Observation{Pass: ok, Observed: resp.StatusCode, Detail: "HTTP " + resp.Status}, nil
}

// PortArgs expects a TCP port to accept connections.
type PortArgs struct {
	Host string `json:"host,omitempty"`
	Port int    `json:"port"`
}

func portOpen(ctx context.Context, raw json.RawMessage) (Observation, error) {
	var a PortArgs
	if err := decodeArgs(raw, &a); err != nil {
		return Observation{}, err
	}
	if a.Port <= 0 || a.Port > 65535 {
		return Observation{}, fmt.Errorf("port %d out of range", a.Port)
	}
	host := a.Host
	if host == "" {
		host = "127.0.0.1"
	}
	d := net.Dialer{Timeout: 3 * time.Second}
	c, err := d.DialContext(ctx, "tcp", net.JoinHostPort(host, strconv.Itoa(a.Port)))
	if err != nil {
		return Observation{Pass: false, Detail: err.Error()}, nil
	}
	c.Close()
	return Observation{Pass: true, Detail: fmt.Sprintf("%s:%d accepts connections", host, a.Port)}, nil
}

// ServiceArgs expects a systemd unit to be in a state (default "active").
type ServiceArgs struct {
	Unit  string `json:"unit"`
	State string `json:"state,omitempty"`
	// Bus is "system" (default) or "session" for user units.
	Bus string `json:"bus,omitempty"`
}

func serviceActive(ctx context.Context, raw json.RawMessage) (Observation, error) {
	var a ServiceArgs
	if err := decodeArgs(raw, &a); err != nil {
		return Observation{}, err
	}
	want := a.State
	if want == "" {
		want = "active"
	}
	var conn *dbus.Conn
	var err error
	if a.Bus == "session" {
		conn, err = dbus.ConnectSessionBus(dbus.WithContext(ctx))
	} else {
		conn, err = dbus.ConnectSystemBus(dbus.WithContext(ctx))
	}
	if err != nil {
		return Observation{}, fmt.Errorf("connect to systemd: %w", err)
	}
	defer conn.Close()
	state, err := UnitActiveState(ctx, conn, a.Unit)
	if err != nil {
		return Observation{}, err
	}
	return Observation{Pass: state == want, Observed: state, Detail: fmt.Sprintf("%s is %s", a.Unit, state)}, nil
}

// UnitActiveState reads a unit's ActiveState from systemd over D-Bus.
func UnitActiveState(ctx context.Context, conn *dbus.Conn, unit string) (string, error) {
	mgr := conn.Object("org.freedesktop.systemd1", "/org/freedesktop/systemd1")
	var path dbus.ObjectPath
	if err := mgr.CallWithContext(ctx, "org.freedesktop.systemd1.Manager.LoadUnit", 0, unit).Store(&path); err != nil {
		return "", fmt.Errorf("systemd: load unit %s: %w", unit, err)
	}
	v, err := conn.Object("org.freedesktop.systemd1", path).GetProperty("org.freedesktop.systemd1.Unit.ActiveState")
	if err != nil {
		return "", fmt.Errorf("systemd: %s ActiveState: %w", unit, err)
	}
	s, ok := v.Value().(string)
	if !ok {
		return "", fmt.Errorf("systemd: %s ActiveState is %T", unit, v.Value())
	}
	return s, nil
}

// ValueArgs compare a value the adapter observed while executing (such as
// a program's exit status) with what success requires.
type ValueArgs struct {
	Name     string `json:"name"`
	Observed any    `json:"observed"`
	Expected any    `json:"expected"`
}

func valueEquals(_ context.Context, raw json.RawMessage) (Observation, error) {
	var a ValueArgs
	if err := decodeArgs(raw, &a); err != nil {
		return Observation{}, err
	}
	o, _ := json.Marshal(a.Observed)
	e, _ := json.Marshal(a.Expected)
	return Observation{Pass: string(o) == string(e), Observed: a.Observed,
		Detail: fmt.Sprintf("%s is %s, want %s", a.Name, o, e)}, nil
}
