package app

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/noema-project/noema/action"
	"github.com/noema-project/noema/adapter"
	"github.com/noema-project/noema/adapters/desktop"
	"github.com/noema-project/noema/adapters/files"
	"github.com/noema-project/noema/adapters/memory"
	"github.com/noema-project/noema/adapters/network"
	"github.com/noema-project/noema/adapters/objects"
	"github.com/noema-project/noema/adapters/power"
	"github.com/noema-project/noema/adapters/shell"
	"github.com/noema-project/noema/adapters/system"
	"github.com/noema-project/noema/adapters/timekeeping"
	"github.com/noema-project/noema/evidence"
	"github.com/noema-project/noema/evidence/evindex"
	"github.com/noema-project/noema/internal/clock"
	"github.com/noema-project/noema/internal/platform/trash"
	"github.com/noema-project/noema/policy"
	"github.com/noema-project/noema/runtime"
	"github.com/noema-project/noema/state"
	"github.com/noema-project/noema/verify"
)

// Options adjust how the app is opened.
type Options struct {
	Getenv func(string) string
	Clock  clock.Clock
	// Recovery turns on recovery mode.
	Recovery bool
	// LockWait bounds the wait for another noema process to finish.
	LockWait time.Duration
}

// App is an opened Noema.
type App struct {
	Paths    Paths
	Config   Config
	Key      *evidence.Key
	Evidence *evidence.Log
	Store    *state.Store
	Policy   *policy.Kernel
	// PolicyLoad says whether the policy files loaded or the last good set
	// is in use.
	PolicyLoad policy.LoadResult
	Registry   *adapter.Registry
	Runtime    *runtime.Runtime
	Modules    *Modules
}

// Catalog builds the registry of every adapter, without opening any
// state; `noema actions` and the translator need only this.
func Catalog(p Paths) (*adapter.Registry, *desktop.Module, error) {
	reg, mods, err := catalogModules(p)
	if err != nil {
		return nil, nil, err
	}
	return reg, mods.Desktop, nil
}

// Modules are the adapter modules of an opened app, for the parts that
// need more than their actions (the daemon runs the reminder scheduler;
// the translator asks the desktop which apps exist).
type Modules struct {
	Desktop *desktop.Module
	Time    *timekeeping.Module
	Objects *objects.Module
	closers []interface{ Close() error }
}

// Close releases every module's connections and databases.
func (m *Modules) Close() error {
	var errs []error
	for _, c := range m.closers {
		errs = append(errs, c.Close())
	}
	return errors.Join(errs...)
}

func catalogModules(p Paths) (*adapter.Registry, *Modules, error) {
	reg := adapter.NewRegistry(action.NewCatalog(), verify.NewEngine())
	tr, err := trash.New(trash.Options{})
	if err != nil {
		tr = nil
	}
	// Reminders also get a systemd user timer running `noema notify ID`,
	// so they fire with no daemon; the scheduler remains the main path.
	var notify []string
	if exe, err := os.Executable(); err == nil && filepath.Base(exe) == "noema" {
		notify = []string{exe, "notify"}
	}
	mods := &Modules{
		Desktop: desktop.New(desktop.Options{}),
		Time:    timekeeping.New(timekeeping.Options{Home: p.Home, Systemd: timekeeping.SystemdOptions{Command: notify}}),
	}
	pm, nm, sm, mm := power.New(power.Options{}), network.New(network.Options{}), system.New(system.Options{}), memory.New(memory.Options{Home: p.Home})
	om := ObjectsModule(p, os.Getenv)
	mods.Objects = om
	mods.closers = []interface{ Close() error }{mods.Desktop, mods.Time, pm, nm, sm, mm, om}
	for _, m := range []adapter.Module{
		mods.Desktop,
		files.New(files.Options{Home: p.UserHome, CheckpointDir: p.Checkpoints(), Trash: tr}),
		shell.New(shell.Options{Home: p.UserHome}),
		pm, nm, sm, mods.Time, mm, om,
	} {
		if err := reg.Install(m); err != nil {
			return nil, nil, err
		}
	}
	return reg, mods, nil
}

// Open opens the whole pipeline and takes the evidence writer lock.
func Open(ctx context.Context, opts Options) (*App, error) {
	if opts.Getenv == nil {
		opts.Getenv = os.Getenv
	}
	if opts.Clock == nil {
		opts.Clock = clock.System{}
	}
	if opts.LockWait <= 0 {
		opts.LockWait = 30 * time.Second
	}
	p, err := ResolvePaths(opts.Getenv)
	if err != nil {
		return nil, err
	}
	cfg, err := LoadConfig(p.ConfigFiles)
	if err != nil {
		return nil, err
	}
	a := &App{Paths: p, Config: cfg}
	if err := os.MkdirAll(p.Home, 0o700); err != nil {
		return nil, fmt.Errorf("create %s: %w", p.Home, err)
	}
	if a.Key, _, err = evidence.LoadOrCreateKey(p.Keys()); err != nil {
		return nil, err
	}
	lctx, cancel := context.WithTimeout(ctx, opts.LockWait)
	defer cancel()
	seg := int64(cfg.Evidence.SegmentMB) << 20
	a.Evidence, err = evidence.Open(lctx, evidence.Options{Dir: p.Evidence(), RunDir: p.Run(), Key: a.Key, SegmentBytes: seg, Now: opts.Clock.Now})
	if err != nil {
		return nil, err
	}
	if a.Store, err = state.Open(ctx, p.StateDB()); err != nil {
		a.Close()
		return nil, err
	}
	a.Policy, a.PolicyLoad = OpenPolicy(p, opts.Clock.Now)
	if a.Registry, a.Modules, err = catalogModules(p); err != nil {
		a.Close()
		return nil, err
	}
	a.Runtime = runtime.New(runtime.Options{
		Registry: a.Registry, Policy: a.Policy, Store: a.Store, Evidence: a.Evidence, Clock: opts.Clock,
		Recovery: opts.Recovery, ApprovalTTL: time.Duration(cfg.Approval.TTL), ExecTimeout: time.Duration(cfg.Runtime.ExecTimeout),
	})
	return a, nil
}

// Close stops the runtime and closes everything.
func (a *App) Close() error {
	var errs []error
	if a.Runtime != nil {
		a.Runtime.Stop()
	}
	if a.Modules != nil {
		errs = append(errs, a.Modules.Close())
	}
	if a.Store != nil {
		errs = append(errs, a.Store.Close())
	}
	if a.Evidence != nil {
		errs = append(errs, a.Evidence.Close())
	}
	return errors.Join(errs...)
}

// PublicKey loads the evidence public key without opening the log.
func (p Paths) PublicKey() (*evidence.PublicKey, error) {
	return evidence.LoadPublicKey(evidence.PublicKeyPath(p.Keys()))
}

// OpenIndex opens the evidence query index without the writer lock.
func (p Paths) OpenIndex(ctx context.Context) (*evindex.Index, error) {
	if _, err := os.Stat(p.Evidence()); err != nil {
		return nil, fmt.Errorf("no evidence log at %s yet: %w", p.Evidence(), err)
	}
	return evindex.Open(ctx, p.EvidenceIndex(), p.Evidence())
}

// OpenPolicy loads the policy kernel alone (no log, no store).
func OpenPolicy(p Paths, now func() time.Time) (*policy.Kernel, policy.LoadResult) {
	load := policy.Load(p.PolicyDirs, p.LastGoodPolicy())
	return policy.New(load.Set, policy.Protected{Home: p.UserHome, NoemaHome: p.Home, Sealed: p.Sealed()}, now), load
}

// Planner is the pipeline without state: enough to translate, assess and
// decide, never to execute.
func Planner(p Paths, recovery bool) (*runtime.Runtime, *desktop.Module, func(), error) {
	reg, dm, err := Catalog(p)
	if err != nil {
		return nil, nil, nil, err
	}
	k, _ := OpenPolicy(p, time.Now)
	rt := runtime.New(runtime.Options{Registry: reg, Policy: k, Recovery: recovery})
	return rt, dm, func() { dm.Close() }, nil
}

// Desktop returns the desktop module (for app lookups).
func (a *App) Desktop() *desktop.Module { return a.Modules.Desktop }
