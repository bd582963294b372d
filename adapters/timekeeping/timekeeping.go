// Package timekeeping owns the time actions: calendar events (on a CalDAV
// server, or in a local iCalendar file when none is configured), reminders
// and timers. Reminders and timers live in SQLite so that they survive a
// restart; a Scheduler run by the daemon delivers them as desktop
// notifications, catching up on any that came due while nothing was
// running, and marks each delivered exactly once.
//
// Every effect is proven by reading it back: an event by its UID from the
// server or file, a reminder or timer by its row.
package timekeeping

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/http"
	"path/filepath"
	"sync"
	"time"

	"github.com/noema-project/noema/adapter"
	"github.com/noema-project/noema/internal/clock"
	"github.com/noema-project/noema/verify"
)

// Options configure the time adapter. Empty fields take the defaults
// noted; Home is needed only for those defaults.
type Options struct {
	// Home is $NOEMA_HOME.
	Home string
	// CalendarFile is the iCalendar file used when CalDAV.URL is empty
	// (default Home/calendar/noema.ics).
	CalendarFile string
	// CalDAV selects a CalDAV server for calendar events.
	CalDAV CalDAVOptions
	// DBPath holds reminders and timers (default Home/time.db).
	DBPath string
	// Location is the zone for floating iCalendar times, all-day events
	// and the times shown in results (default time.Local).
	Location *time.Location
	// Clock tells the time (default the system clock).
	Clock clock.Clock
	// Systemd adds a transient systemd user timer for each reminder and
	// timer, so that they fire even when the daemon is not running.
	Systemd SystemdOptions
}

// CalDAVOptions locate a CalDAV calendar.
type CalDAVOptions struct {
	// URL is the server's base URL (for Radicale, http://host:5232/).
	URL string
	// User and Password are sent with HTTP basic authentication.
	User, Password string
	// Token, when set, is sent as a bearer token instead.
	Token string
	// CalendarPath is the calendar collection's path on the server
	// ("/alice/calendar/"). Empty means discover it: the first calendar
	// in the user's calendar home that holds events.
	CalendarPath string
	// Timeout bounds each request (default 30s).
	Timeout time.Duration
	// HTTPClient overrides the HTTP client (tests, proxies, TLS settings).
	HTTPClient *http.Client
}

// Module is the time adapter.
type Module struct {
	opts Options

	mu    sync.Mutex
	db    *sql.DB
	cal   calendar
	timer *systemdTimers
	// wake tells a Scheduler in this process that the schedule changed.
	wake chan struct{}
}

// New returns the time module. Nothing is opened until first use, so the
// catalog can be built without touching state.
func New(opts Options) *Module {
	if opts.CalendarFile == "" {
		opts.CalendarFile = filepath.Join(opts.Home, "calendar", "noema.ics")
	}
	if opts.DBPath == "" {
		opts.DBPath = filepath.Join(opts.Home, "time.db")
	}
	if opts.Location == nil {
		opts.Location = time.Local
	}
	if opts.Clock == nil {
		opts.Clock = clock.System{}
	}
	if opts.CalDAV.Timeout <= 0 {
		opts.CalDAV.Timeout = 30 * time.Second
	}
	return &Module{opts: opts, wake: make(chan struct{}, 1), timer: newSystemdTimers(opts.Systemd)}
}

// Close releases the database.
func (m *Module) Close() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.db == nil {
		return nil
	}
	err := m.db.Close()
	m.db = nil
	return err
}

// Handlers implements adapter.Module.
func (m *Module) Handlers() []adapter.Handler {
	return []adapter.Handler{
		&eventCreate{m}, &eventList{m},
		&reminderCreate{m}, &reminderList{m}, &timerStart{m}, &timerCancel{m},
	}
}

// Probes implements adapter.Module.
func (m *Module) Probes() map[string]verify.Prober {
	return map[string]verify.Prober{
		"calendar.event.exists":   verify.ProberFunc(m.probeEventExists),
		"calendar.event.absent":   verify.ProberFunc(m.probeEventAbsent),
		"calendar.events.present": verify.ProberFunc(m.probeEventsPresent),
		"calendar.readable":       verify.ProberFunc(m.probeReadable),
		"reminder.state":          verify.ProberFunc(m.probeItem(kindReminder)),
		"timer.state":             verify.ProberFunc(m.probeItem(kindTimer)),
	}
}

// now is the module's current time.
func (m *Module) now() time.Time { return m.opts.Clock.Now() }

// store opens time.db on first use.
func (m *Module) store(ctx context.Context) (*store, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.db == nil {
		if !filepath.IsAbs(m.opts.DBPath) {
			return nil, fmt.Errorf("reminders and timers: database path %q is not absolute (set Home or DBPath)", m.opts.DBPath)
		}
		db, err := openStore(ctx, m.opts.DBPath)
		if err != nil {
			return nil, err
		}
		m.db = db
	}
	return &store{db: m.db}, nil
}

// calendar returns the configured backend, built on first use.
func (m *Module) calendar() (calendar, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.cal != nil {
		return m.cal, nil
	}
	if m.opts.CalDAV.URL != "" {
		c, err := newCalDAV(m.opts.CalDAV, m.opts.Location)
		if err != nil {
			return nil, err
		}
		m.cal = c
		return c, nil
	}
	if m.opts.CalendarFile == "" || !filepath.IsAbs(m.opts.CalendarFile) {
		return nil, errors.New("no calendar configured: set a CalDAV server or an absolute calendar file path")
	}
	m.cal = &fileCalendar{path: m.opts.CalendarFile, loc: m.opts.Location}
	return m.cal, nil
}

// notifyChange wakes a Scheduler in this process.
func (m *Module) notifyChange() {
	select {
	case m.wake <- struct{}{}:
	default:
	}
}

// localTime formats t in the module's zone, as targets and results use.
func (m *Module) localTime(t time.Time) string {
	return t.In(m.opts.Location).Format(time.RFC3339)
}

// parseTime reads an RFC 3339 time from a target field.
func parseTime(field, s string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%s %q is not an RFC 3339 time (2006-01-02T15:04:05+01:00): %w", field, s, err)
	}
	return t, nil
}

// parseLocalTime is parseTime that also takes a time without an offset
// ("2026-05-04T14:00:00") as wall-clock time in loc, as a person means it.
func parseLocalTime(field, s string, loc *time.Location) (time.Time, error) {
	if t, err := time.ParseInLocation("2006-01-02T15:04:05", s, loc); err == nil {
		return t, nil
	}
	return parseTime(field, s)
}
