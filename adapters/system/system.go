// Package system owns the actions that look at and manage the machine
// itself: system.info, service.* (systemd over D-Bus), package.* (the dpkg
// database, changed through apt-get) and process.* (/proc and signals).
//
// Every answer is read from the real source (procfs, the dpkg status file,
// systemd's and UPower's D-Bus objects) and every effect is verified by
// reading that source again: a unit's ActiveState, the package's dpkg
// status, the process's entry in /proc.
package system

import (
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/noema-project/noema/adapter"
	"github.com/noema-project/noema/verify"
)

// Options locate the sources the module reads and the programs it runs.
// Zero values mean the standard locations of a Debian-like system.
type Options struct {
	// SystemBus is the D-Bus address of the system bus (systemd, UPower);
	// empty uses the standard system bus.
	SystemBus string
	// SessionBus is the D-Bus address used for user units
	// (scope "user"); empty uses the standard session bus.
	SessionBus string

	// ProcRoot is where procfs is mounted (default /proc).
	ProcRoot string
	// OSRelease is the os-release file (default /etc/os-release, falling
	// back to /usr/lib/os-release).
	OSRelease string
	// Home is the home folder whose file system system.info reports
	// (default $HOME).
	Home string

	// DpkgStatus is the dpkg status database (default
	// /var/lib/dpkg/status).
	DpkgStatus string
	// AptGet is the program and leading options used to install and
	// remove packages (default ["apt-get"]); the module appends
	// -y, its own options, the verb and the package name. Tests point it
	// at a local repository with -o options.
	AptGet []string
	// AptEnv are extra KEY=value settings for AptGet.
	AptEnv []string

	// JobTimeout bounds the wait for a systemd job (default 90s; the
	// request's context may end it sooner).
	JobTimeout time.Duration
	// KillTimeout is how long process.kill waits for a process to exit
	// after each signal (default 5s).
	KillTimeout time.Duration
	// SampleInterval is the interval over which process.list measures
	// CPU use (default 250ms).
	SampleInterval time.Duration
}

// Module is the system adapter.
type Module struct {
	opts    Options
	system  *lazyBus
	session *lazyBus
	// arch is dpkg's native architecture, asked for once.
	arch func() string
}

// New returns the system module. Bus connections are made on first use.
func New(opts Options) *Module {
	if opts.ProcRoot == "" {
		opts.ProcRoot = "/proc"
	}
	if opts.Home == "" {
		opts.Home = os.Getenv("HOME")
	}
	if opts.DpkgStatus == "" {
		opts.DpkgStatus = "/var/lib/dpkg/status"
	}
	if len(opts.AptGet) == 0 {
		opts.AptGet = []string{"apt-get"}
	}
	if opts.JobTimeout <= 0 {
		opts.JobTimeout = 90 * time.Second
	}
	if opts.KillTimeout <= 0 {
		opts.KillTimeout = 5 * time.Second
	}
	if opts.SampleInterval <= 0 {
		opts.SampleInterval = 250 * time.Millisecond
	}
	return &Module{
		opts:    opts,
		system:  &lazyBus{addr: opts.SystemBus, system: true},
		session: &lazyBus{addr: opts.SessionBus},
		arch:    sync.OnceValue(dpkgArch),
	}
}

// Close releases the bus connections.
func (m *Module) Close() error {
	err1 := m.system.Close()
	err2 := m.session.Close()
	if err1 != nil {
		return err1
	}
	return err2
}

// Handlers implements adapter.Module.
func (m *Module) Handlers() []adapter.Handler {
	return []adapter.Handler{
		&infoH{m},
		&serviceH{m: m, verb: "start"}, &serviceH{m: m, verb: "stop"},
		&serviceH{m: m, verb: "restart"}, &serviceH{m: m, verb: "status"},
		&packageQueryH{m}, &packageChangeH{m: m, install: true}, &packageChangeH{m: m, install: false},
		&processListH{m}, &processKillH{m},
	}
}

// Probes implements adapter.Module.
func (m *Module) Probes() map[string]verify.Prober {
	return map[string]verify.Prober{
		"system.boot":     verify.ProberFunc(m.probeBoot),
		"service.state":   verify.ProberFunc(m.probeServiceState),
		"package.state":   verify.ProberFunc(m.probePackageState),
		"process.gone":    verify.ProberFunc(m.probeProcessGone),
		"process.listing": verify.ProberFunc(m.probeListing),
	}
}

func (m *Module) proc(parts ...string) string {
	return filepath.Join(append([]string{m.opts.ProcRoot}, parts...)...)
}

func (m *Module) osReleasePath() string {
	if m.opts.OSRelease != "" {
		return m.opts.OSRelease
	}
	if _, err := os.Stat("/etc/os-release"); err == nil {
		return "/etc/os-release"
	}
	return "/usr/lib/os-release"
}

// probeErr wraps a probe's argument error with the probe's name.
func probeErr(name string, err error) error { return fmt.Errorf("%s: %w", name, err) }
