// Package server is Noema's daemon: it owns the state (it holds the
// evidence writer lock for its whole life) and serves the pipeline over a
// REST API on a Unix socket (callers known by their peer credentials) and
// on loopback HTTP (callers known by a bearer token or a browser session),
// streams new evidence over server-sent events, and offers a session D-Bus
// service for desktop shells.
package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-systemd/v22/daemon"
	"github.com/godbus/dbus/v5"
	"github.com/noema-project/noema/adapters/timekeeping"
	"github.com/noema-project/noema/cognition"
	"github.com/noema-project/noema/evidence"
	"github.com/noema-project/noema/evidence/evindex"
	"github.com/noema-project/noema/internal/app"
	"github.com/noema-project/noema/internal/ids"
	"github.com/noema-project/noema/internal/listen"
	"github.com/noema-project/noema/objfs"
)

// Config says how to run the daemon.
type Config struct {
	// Getenv reads the environment (default os.Getenv).
	Getenv func(string) string
	// Version is reported by /api/status.
	Version string
	// Recovery runs the pipeline in recovery mode.
	Recovery bool
	// Listen is the HTTP address: empty means the configuration's
	// [server] listen, else 127.0.0.1:7717; "off" serves no HTTP.
	Listen string
	// Socket is the Unix socket path: empty means app.Paths.SocketPath;
	// "off" serves no socket.
	Socket string
	// NoDBus skips the session D-Bus service even when a bus is there.
	NoDBus bool
	// UI serves the web pages (GET requests outside /api/); nil serves a
	// placeholder that points at the API.
	UI http.Handler
	// Stderr receives readiness and notes (default os.Stderr).
	Stderr io.Writer
	// DrainTimeout bounds how long a stop waits for requests in flight
	// (default 60 s); actions already executing always run to their end.
	DrainTimeout time.Duration
	// LockWait bounds the wait for another noema process to release the
	// state (default 30 s).
	LockWait time.Duration
	// Ready, when set, is called once every listener answers.
	Ready func(Info)
}

// Info says where a running daemon answers.
type Info struct {
	Socket string
	// HTTP is the base URL, empty when HTTP is off.
	HTTP string
	DBus bool
	PID  int
	// Took is the time from Run to readiness.
	Took time.Duration
}

// Server serves one opened pipeline.
type Server struct {
	app     *app.App
	cfg     Config
	planner *cognition.Planner
	uid     int
	token   string
	started time.Time

	socket  string
	httpURL string
	port    string
	dbusOn  bool

	hub      *hub
	auth     *authState
	handler  http.Handler
	routes   []route
	openapi  []byte
	indexMu  sync.Mutex
	index    *evindex.Index
	verifyMu sync.Mutex

	// writes bounds concurrent submissions (each is a few SQLite writes
	// and an evidence append); runs bounds actions waited on at once, so
	// a burst can never fill the runtime's queues.
	writes chan struct{}
	runs   chan struct{}

	closing chan struct{}
	// calls counts D-Bus calls in flight so a stop can wait for them;
	// busConn is where ActionChanged is emitted.
	callMu   sync.Mutex
	calls    sync.WaitGroup
	draining bool
	busConn  *dbus.Conn
}

// Run opens the pipeline, serves it until ctx ends (SIGTERM), drains the
// requests in flight and returns nil. A listen address other than loopback
// is refused unless the owner's configuration grants it.
func Run(ctx context.Context, cfg Config) error {
	begin := time.Now()
	if cfg.Getenv == nil {
		cfg.Getenv = os.Getenv
	}
	if cfg.Stderr == nil {
		cfg.Stderr = os.Stderr
	}
	if cfg.DrainTimeout <= 0 {
		cfg.DrainTimeout = 60 * time.Second
	}
	p, err := app.ResolvePaths(cfg.Getenv)
	if err != nil {
		return err
	}
	conf, err := app.LoadConfig(p.ConfigFiles)
	if err != nil {
		return err
	}
	addr := cfg.Listen
	if addr == "" {
		addr = conf.Server.Listen
	}
	if addr == "" {
		addr = app.DefaultListen
	}
	if addr == "off" {
		addr = ""
	}
	var grant *app.RemoteGrant
	if addr != "" && !listen.IsLoopback(addr) {
		g, ok, err := app.FindRemoteGrant(p.ConfigFiles, os.Getuid())
		if err != nil {
			return fmt.Errorf("refusing to listen on %s: %w", addr, err)
		}
		if !ok {
			return fmt.Errorf("refusing to listen on %s: not a loopback address; only the owner can grant that, with [server] allow_remote = true in %s", addr, p.ConfigFiles[0])
		}
		grant = &g
	}
	sock := cfg.Socket
	if sock == "" {
		sock = p.SocketPath(cfg.Getenv)
	}
	if sock == "off" {
		sock = ""
	}
	if addr == "" && sock == "" {
		return errors.New("nothing to serve: both the socket and HTTP are off")
	}

	a, err := app.Open(ctx, app.Options{Getenv: cfg.Getenv, Recovery: cfg.Recovery, LockWait: cfg.LockWait})
	if err != nil {
		return fmt.Errorf("open the state (is another noema process using it?): %w", err)
	}
	defer a.Close()
	if a.PolicyLoad.Err != nil {
		fmt.Fprintf(cfg.Stderr, "noema: policy files not loaded, using the last good set: %v\n", a.PolicyLoad.Err)
	}
	s, err := newServer(a, cfg)
	if err != nil {
		return err
	}
	defer s.closeIndex()
	defer s.planner.Close()
	// Crash recovery: actions a crash left EXECUTING or VERIFYING fail
	// with crash_recovered; QUEUED ones resume.
	if err := a.Runtime.Start(ctx); err != nil {
		return fmt.Errorf("start the runtime: %w", err)
	}
	defer a.Runtime.Stop()
	s.hub.start(a.Evidence, s.onRecord)
	defer s.hub.stop()
	stopScheduler := s.runScheduler()
	defer stopScheduler()
	stopWatcher := s.runWatcher()
	defer stopWatcher()

	var servers []*http.Server
	defer func() { closeAll(servers) }()
	errc := make(chan error, 2)
	if sock != "" {
		l, err := listenSocket(ctx, sock)
		if err != nil {
			return err
		}
		defer os.Remove(sock)
		s.socket = sock
		hs := s.httpServer(doorSocket)
		servers = append(servers, hs)
		go func() { errc <- serveOn(hs, l) }()
	}
	if addr != "" {
		if s.token, err = app.LoadOrCreateAPIToken(p.APIToken()); err != nil {
			return err
		}
		l, err := listen.TCP(ctx, addr, grant != nil)
		if err != nil {
			return err
		}
		s.setHTTPAddr(l.Addr().String())
		hs := s.httpServer(doorHTTP)
		servers = append(servers, hs)
		go func() { errc <- serveOn(hs, l) }()
	}
	if grant != nil {
		s.record(ctx, "server.remote_granted", map[string]any{"listen": s.httpURL, "config_file": grant.File, "uid": s.uid})
		fmt.Fprintf(cfg.Stderr, "noema: WARNING: listening beyond this machine on %s as granted by %s; requests still need the token, but plain HTTP does not hide it from the network\n", addr, grant.File)
	}
	var bus *dbusService
	if !cfg.NoDBus {
		if baddr := sessionBus(cfg.Getenv); baddr != "" {
			bus, err = s.startDBus(baddr)
			if err != nil {
				fmt.Fprintf(cfg.Stderr, "noema: no D-Bus service: %v\n", err)
			}
			s.dbusOn = bus != nil
		}
	}
	s.record(ctx, "server.started", map[string]any{"pid": os.Getpid(), "version": cfg.Version, "socket": s.socket, "http": s.httpURL, "dbus": s.dbusOn, "recovery": cfg.Recovery})

	info := Info{Socket: s.socket, HTTP: s.httpURL, DBus: s.dbusOn, PID: os.Getpid(), Took: time.Since(begin)}
	fmt.Fprintf(cfg.Stderr, "noema: ready in %v: %s (pid %d)\n", info.Took.Round(time.Millisecond), describe(info), info.PID)
	daemon.SdNotify(false, daemon.SdNotifyReady)
	if cfg.Ready != nil {
		cfg.Ready(info)
	}

	var serveErr error
	select {
	case <-ctx.Done():
	case serveErr = <-errc:
	}
	// A second interrupt stops at once; crash recovery covers what it cuts.
	signal.Reset(os.Interrupt)
	daemon.SdNotify(false, daemon.SdNotifyStopping)
	fmt.Fprintf(cfg.Stderr, "noema: stopping: finishing the requests in flight\n")
	s.drain(servers, bus)
	a.Runtime.Stop()
	s.record(context.Background(), "server.stopped", map[string]any{"pid": os.Getpid(), "uptime_ms": time.Since(s.started).Milliseconds()})
	if serveErr != nil && !errors.Is(serveErr, http.ErrServerClosed) {
		return serveErr
	}
	fmt.Fprintf(cfg.Stderr, "noema: stopped\n")
	return nil
}

// sessionBus is the session bus address: DBUS_SESSION_BUS_ADDRESS, else
// the bus socket systemd puts in the runtime folder; empty when neither.
func sessionBus(getenv func(string) string) string {
	if a := getenv("DBUS_SESSION_BUS_ADDRESS"); a != "" {
		return a
	}
	if rd := getenv("XDG_RUNTIME_DIR"); rd != "" {
		if fi, err := os.Stat(filepath.Join(rd, "bus")); err == nil && fi.Mode()&os.ModeSocket != 0 {
			return "unix:path=" + filepath.Join(rd, "bus")
		}
	}
	return ""
}

func describe(i Info) string {
	var parts []string
	if i.Socket != "" {
		parts = append(parts, "socket "+i.Socket)
	}
	if i.HTTP != "" {
		parts = append(parts, i.HTTP)
	}
	if i.DBus {
		parts = append(parts, "D-Bus "+busName)
	}
	return strings.Join(parts, ", ")
}

func newServer(a *app.App, cfg Config) (*Server, error) {
	s := &Server{
		app:     a,
		cfg:     cfg,
		uid:     os.Getuid(),
		started: time.Now().UTC(),
		hub:     newHub(),
		auth:    newAuthState(),
		writes:  make(chan struct{}, 8),
		runs:    make(chan struct{}, 256),
		closing: make(chan struct{}),
	}
	s.planner = app.NewPlanner(a.Paths, cfg.Getenv, a.Config, a.Registry.Catalog(), a.Desktop())
	s.routes = s.table()
	s.handler = s.secure(s.authenticate(s.mux()))
	doc, err := json.Marshal(openAPI(s.routes, cfg.Version))
	if err != nil {
		return nil, fmt.Errorf("openapi: %w", err)
	}
	s.openapi = doc
	return s, nil
}

func (s *Server) setHTTPAddr(addr string) {
	_, port, _ := net.SplitHostPort(addr)
	s.port = port
	host, _, _ := net.SplitHostPort(addr)
	if ip := net.ParseIP(host); ip != nil && ip.IsUnspecified() {
		host = "127.0.0.1"
	}
	s.httpURL = "http://" + net.JoinHostPort(host, port)
}

func (s *Server) httpServer(d door) *http.Server {
	return &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ConnContext:       func(ctx context.Context, c net.Conn) context.Context { return withConn(ctx, d, c) },
		ErrorLog:          log.New(s.cfg.Stderr, "noema: http: ", 0),
	}
}

func serveOn(hs *http.Server, l net.Listener) error {
	err := hs.Serve(l)
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

func closeAll(servers []*http.Server) {
	for _, hs := range servers {
		hs.Close()
	}
}

// listenSocket opens the API socket, mode 0600. A socket
// file left by a daemon that died is replaced; one that answers is not.
func listenSocket(ctx context.Context, path string) (net.Listener, error) {
	if len(path) > 107 {
		return nil, fmt.Errorf("socket path %s is longer than a Unix socket allows (107 bytes); set NOEMA_SOCKET", path)
	}
	// A folder it makes is private; one that is there (NOEMA_SOCKET may
	// name any) is left as it is: the socket's own mode and the peer
	// check keep others out.
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("socket folder: %w", err)
	}
	if _, err := os.Lstat(path); err == nil {
		var d net.Dialer
		dctx, cancel := context.WithTimeout(ctx, time.Second)
		c, err := d.DialContext(dctx, "unix", path)
		cancel()
		if err == nil {
			c.Close()
			return nil, fmt.Errorf("another noema daemon answers on %s", path)
		}
		if err := os.Remove(path); err != nil {
			return nil, fmt.Errorf("remove stale socket: %w", err)
		}
	}
	l, err := listen.Unix(ctx, path)
	if err != nil {
		return nil, err
	}
	if err := os.Chmod(path, 0o600); err != nil {
		l.Close()
		return nil, fmt.Errorf("socket mode: %w", err)
	}
	return l, nil
}

// drain stops accepting, lets requests in flight finish (bounded by
// DrainTimeout), and waits for D-Bus calls. Actions already executing
// finish in the runtime's workers whatever happens here.
func (s *Server) drain(servers []*http.Server, bus *dbusService) {
	close(s.closing)
	ctx, cancel := context.WithTimeout(context.Background(), s.cfg.DrainTimeout)
	defer cancel()
	var wg sync.WaitGroup
	for _, hs := range servers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := hs.Shutdown(ctx); err != nil {
				fmt.Fprintf(s.cfg.Stderr, "noema: drain: %v; closing the remaining connections\n", err)
				hs.Close()
			}
		}()
	}
	wg.Wait()
	s.callMu.Lock()
	s.draining = true
	s.callMu.Unlock()
	s.calls.Wait()
	if bus != nil {
		bus.close()
	}
}

// enter registers a D-Bus call; it fails once draining has begun.
func (s *Server) enter() bool {
	s.callMu.Lock()
	defer s.callMu.Unlock()
	if s.draining {
		return false
	}
	s.calls.Add(1)
	return true
}

// record appends a daemon event (start, stop, a remote grant) to the
// evidence log. These records belong to no action.
func (s *Server) record(ctx context.Context, typ string, data any) {
	raw, err := json.Marshal(data)
	if err != nil {
		return
	}
	now := time.Now().UTC()
	rec := evidence.Record{ID: ids.New(ids.Evidence, now), Time: now, Type: typ, Subject: "daemon", Data: raw}
	if _, err := s.app.Evidence.Append(context.WithoutCancel(ctx), rec); err != nil {
		fmt.Fprintf(s.cfg.Stderr, "noema: record %s: %v\n", typ, err)
	}
}

// evidenceIndex opens the evidence query index once, lazily: most
// requests never need it, and it keeps the daemon's start fast.
func (s *Server) evidenceIndex(ctx context.Context) (*evindex.Index, error) {
	if s.index != nil {
		return s.index, nil
	}
	idx, err := s.app.Paths.OpenIndex(ctx)
	if err != nil {
		return nil, err
	}
	s.index = idx
	return idx, nil
}

func (s *Server) closeIndex() {
	s.indexMu.Lock()
	defer s.indexMu.Unlock()
	if s.index != nil {
		s.index.Close()
		s.index = nil
	}
}

// acquire takes a slot from sem, or fails when ctx ends first.
func acquire(ctx context.Context, sem chan struct{}) error {
	select {
	case sem <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// runWatcher keeps the object store current while the daemon runs: every
// change under the folders the user indexed becomes a version. The
// returned func stops it and waits.
func (s *Server) runWatcher() func() {
	if s.app.Modules == nil || s.app.Modules.Objects == nil {
		return func() {}
	}
	ctx, cancel := context.WithCancel(context.Background())
	store, err := s.app.Modules.Objects.Store(ctx)
	if err != nil {
		cancel()
		fmt.Fprintf(s.cfg.Stderr, "noema: file versions: %v\n", err)
		return func() {}
	}
	w, err := store.NewWatcher(ctx, objfs.WatchOptions{
		Logf: func(format string, args ...any) { fmt.Fprintf(s.cfg.Stderr, "noema: files: "+format+"\n", args...) },
	})
	if err != nil {
		cancel()
		fmt.Fprintf(s.cfg.Stderr, "noema: file versions: %v\n", err)
		return func() {}
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := w.Run(ctx); err != nil && ctx.Err() == nil {
			fmt.Fprintf(s.cfg.Stderr, "noema: file versions: %v\n", err)
		}
	}()
	return func() {
		cancel()
		<-done
	}
}

// runScheduler delivers reminders and timers as they come due while the
// daemon runs (it holds the state, so `noema notify` from a systemd timer
// cannot). The returned func stops it and waits.
func (s *Server) runScheduler() func() {
	if s.app.Modules == nil || s.app.Modules.Time == nil {
		return func() {}
	}
	n := timekeeping.NewDBusNotifier(sessionBus(s.cfg.Getenv))
	sched := s.app.Modules.Time.Scheduler(n, timekeeping.SchedulerOptions{
		Logf: func(format string, args ...any) { fmt.Fprintf(s.cfg.Stderr, "noema: "+format+"\n", args...) },
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := sched.Run(ctx); err != nil {
			fmt.Fprintf(s.cfg.Stderr, "noema: reminders: %v\n", err)
		}
	}()
	return func() {
		cancel()
		<-done
		n.Close()
	}
}
