package timekeeping

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// SchedulerOptions tune a Scheduler.
type SchedulerOptions struct {
	// Poll is how often the database is checked for reminders added by
	// other noema processes, and how long a failed delivery waits before
	// it is tried again (default 5s).
	Poll time.Duration
	// StaleAfter is how long a claimed delivery may go unrecorded before
	// it is taken to have been interrupted and is tried again (default 2m).
	StaleAfter time.Duration
	// Late is how far past its time a reminder must be to be marked late
	// in its notification (default 1m).
	Late time.Duration
	// Logf reports delivery failures; nil discards them.
	Logf func(format string, args ...any)
}

// Scheduler delivers reminders and timers when they come due. The daemon
// runs one; `noema notify ID` (run by a systemd user timer) may deliver
// the same item from another process. Each delivery is claimed in the
// database first, so an item is shown once however many try.
type Scheduler struct {
	m    *Module
	n    Notifier
	opts SchedulerOptions
}

// Scheduler returns a scheduler that delivers this module's reminders and
// timers through n.
func (m *Module) Scheduler(n Notifier, opts SchedulerOptions) *Scheduler {
	if opts.Poll <= 0 {
		opts.Poll = 5 * time.Second
	}
	if opts.StaleAfter <= 0 {
		opts.StaleAfter = 2 * time.Minute
	}
	if opts.Late <= 0 {
		opts.Late = time.Minute
	}
	if opts.Logf == nil {
		opts.Logf = func(string, ...any) {}
	}
	return &Scheduler{m: m, n: n, opts: opts}
}

// Run delivers due items until ctx ends. At start it catches up on items
// that came due while nothing was running.
func (s *Scheduler) Run(ctx context.Context) error {
	if s.n == nil {
		return errors.New("scheduler: no notifier")
	}
	st, err := s.m.store(ctx)
	if err != nil {
		return err
	}
	for {
		if _, err := st.recoverStale(ctx, s.m.now().Add(-s.opts.StaleAfter)); err != nil && ctx.Err() == nil {
			s.opts.Logf("timekeeping: %v", err)
		}
		_, fireErr := s.FireDue(ctx)
		if ctx.Err() != nil {
			return nil
		}
		wait := s.opts.Poll
		if fireErr != nil {
			s.opts.Logf("timekeeping: %v", fireErr)
		} else if next, ok, err := st.nextDue(ctx); err != nil {
			s.opts.Logf("timekeeping: %v", err)
		} else if ok {
			wait = min(wait, max(next.Sub(s.m.now()), 0))
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-s.m.wake:
			t.Stop()
		case <-t.C:
		}
	}
}

// FireDue delivers every pending item that is due now and returns how many
// it delivered. It stops at the first failed delivery, leaving that item
// and the rest pending.
func (s *Scheduler) FireDue(ctx context.Context) (int, error) {
	st, err := s.m.store(ctx)
	if err != nil {
		return 0, err
	}
	n := 0
	for {
		items, err := st.due(ctx, s.m.now(), 50)
		if err != nil {
			return n, err
		}
		if len(items) == 0 {
			return n, nil
		}
		for _, it := range items {
			ok, err := s.deliver(ctx, st, it)
			if err != nil {
				return n, err
			}
			if ok {
				n++
			}
		}
	}
}

// Deliver delivers one item now if it is pending and due; delivered is
// false when it is not due yet or was already delivered or cancelled.
func (s *Scheduler) Deliver(ctx context.Context, id string) (delivered bool, err error) {
	if s.n == nil {
		return false, errors.New("scheduler: no notifier")
	}
	st, err := s.m.store(ctx)
	if err != nil {
		return false, err
	}
	it, err := st.get(ctx, id)
	if err != nil {
		return false, err
	}
	if it.State != statePending || it.Due.After(s.m.now()) {
		return false, nil
	}
	return s.deliver(ctx, st, it)
}

// deliver claims, shows and records one item.
func (s *Scheduler) deliver(ctx context.Context, st *store, it item) (bool, error) {
	now := s.m.now()
	won, err := st.claim(ctx, it.ID, now)
	if err != nil || !won {
		return false, err
	}
	nid, err := s.n.Notify(ctx, s.notification(it, now))
	if err != nil {
		// Back to pending so that the next pass, or a restart, tries again.
		relCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if rerr := st.release(relCtx, it.ID, err); rerr != nil {
			return false, errors.Join(err, rerr)
		}
		return false, fmt.Errorf("deliver %s %s: %w", it.Kind, it.ID, err)
	}
	recCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := st.delivered(recCtx, it.ID, s.m.now(), nid); err != nil {
		return true, err
	}
	if it.Unit != "" {
		// The systemd timer has nothing left to do.
		s.m.timer.cancel(recCtx, it.Unit)
	}
	return true, nil
}

// notification is what an item shows.
func (s *Scheduler) notification(it item, now time.Time) Notification {
	var n Notification
	switch it.Kind {
	case kindTimer:
		n = Notification{
			Summary:  fmt.Sprintf("Timer done: %s", it.Label),
			Body:     fmt.Sprintf("%s is up.", time.Duration(it.Seconds)*time.Second),
			Category: "x-noema.timer",
		}
	default:
		n = Notification{Summary: "Reminder", Body: it.Text, Category: "x-noema.reminder"}
	}
	if late := now.Sub(it.Due); late > s.opts.Late {
		n.Body += fmt.Sprintf(" (due %s; missed while Noema was not running)", it.Due.In(s.m.opts.Location).Format("Mon 2 Jan 15:04"))
	}
	return n
}
