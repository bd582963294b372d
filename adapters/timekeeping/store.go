package timekeeping

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/noema-project/noema/internal/sqlitedb"
)

// Item kinds and states. An item is pending until it comes due, firing
// while one process delivers it, then delivered; or cancelled.
const (
	kindReminder = "reminder"
	kindTimer    = "timer"

	statePending   = "pending"
	stateFiring    = "firing"
	stateDelivered = "delivered"
	stateCancelled = "cancelled"
)

var migrations = []string{
	`CREATE TABLE items (
		id              TEXT PRIMARY KEY,
		kind            TEXT NOT NULL CHECK (kind IN ('reminder', 'timer')),
		text            TEXT NOT NULL DEFAULT '',
		label           TEXT NOT NULL DEFAULT '',
		seconds         INTEGER NOT NULL DEFAULT 0,
		due_ms          INTEGER NOT NULL,
		created_ms      INTEGER NOT NULL,
		state           TEXT NOT NULL CHECK (state IN ('pending', 'firing', 'delivered', 'cancelled')),
		claimed_ms      INTEGER NOT NULL DEFAULT 0,
		delivered_ms    INTEGER NOT NULL DEFAULT 0,
		cancelled_ms    INTEGER NOT NULL DEFAULT 0,
		attempts        INTEGER NOT NULL DEFAULT 0,
		last_error      TEXT NOT NULL DEFAULT '',
		notification_id INTEGER NOT NULL DEFAULT 0,
		unit            TEXT NOT NULL DEFAULT ''
	);
	CREATE INDEX items_due ON items (state, due_ms);
	CREATE INDEX items_label ON items (kind, label, state);`,
}

func openStore(ctx context.Context, path string) (*sql.DB, error) {
	db, err := sqlitedb.Open(ctx, path, migrations)
	if err != nil {
		return nil, fmt.Errorf("reminders and timers: %w", err)
	}
	return db, nil
}

// item is one reminder or timer row.
type item struct {
	ID           string
	Kind         string
	Text         string
	Label        string
	Seconds      int64
	Due          time.Time
	Created      time.Time
	State        string
	Delivered    time.Time
	Cancelled    time.Time
	Attempts     int
	LastError    string
	Unit         string
	Notification uint32
}

// store is the reminders and timers table.
type store struct{ db *sql.DB }

var errNotFound = errors.New("no such reminder or timer")

const itemColumns = `id, kind, text, label, seconds, due_ms, created_ms, state, delivered_ms, cancelled_ms, attempts, last_error, unit, notification_id`

func scanItem(row interface{ Scan(...any) error }) (item, error) {
	var it item
	var due, created, delivered, cancelled int64
	err := row.Scan(&it.ID, &it.Kind, &it.Text, &it.Label, &it.Seconds, &due, &created, &it.State,
		&delivered, &cancelled, &it.Attempts, &it.LastError, &it.Unit, &it.Notification)
	if err != nil {
		return item{}, err
	}
	it.Due, it.Created = time.UnixMilli(due), time.UnixMilli(created)
	if delivered != 0 {
		it.Delivered = time.UnixMilli(delivered)
	}
	if cancelled != 0 {
		it.Cancelled = time.UnixMilli(cancelled)
	}
	return it, nil
}

func (s *store) insert(ctx context.Context, it item) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO items (id, kind, text, label, seconds, due_ms, created_ms, state)
		VALUES (?, ?, ?, ?, ?, ?, ?, 'pending')`,
		it.ID, it.Kind, it.Text, it.Label, it.Seconds, it.Due.UnixMilli(), it.Created.UnixMilli())
	if err != nil {
		return fmt.Errorf("save %s %s: %w", it.Kind, it.ID, err)
	}
	return nil
}

func (s *store) get(ctx context.Context, id string) (item, error) {
	it, err := scanItem(s.db.QueryRowContext(ctx, `SELECT `+itemColumns+` FROM items WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return item{}, fmt.Errorf("%w: %s", errNotFound, id)
	}
	if err != nil {
		return item{}, fmt.Errorf("read %s: %w", id, err)
	}
	return it, nil
}

// find lists items of a kind matching the filters, oldest first. Empty
// filters match anything.
func (s *store) find(ctx context.Context, kind, label, text string, due time.Time, states []string) ([]item, error) {
	q := `SELECT ` + itemColumns + ` FROM items WHERE kind = ?`
	args := []any{kind}
	if label != "" {
		q += ` AND label = ?`
		args = append(args, label)
	}
	if text != "" {
		q += ` AND text = ?`
		args = append(args, text)
	}
	if !due.IsZero() {
		q += ` AND due_ms = ?`
		args = append(args, due.UnixMilli())
	}
	if len(states) > 0 {
		q += ` AND state IN (` + strings.TrimSuffix(strings.Repeat("?,", len(states)), ",") + `)`
		for _, st := range states {
			args = append(args, st)
		}
	}
	rows, err := s.db.QueryContext(ctx, q+` ORDER BY created_ms, id`, args...)
	if err != nil {
		return nil, fmt.Errorf("read %ss: %w", kind, err)
	}
	defer rows.Close()
	var out []item
	for rows.Next() {
		it, err := scanItem(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, it)
	}
	return out, rows.Err()
}

// cancel moves a pending item to cancelled. It fails when the item has
// already gone off or is going off now.
func (s *store) cancel(ctx context.Context, id string, now time.Time) (item, error) {
	res, err := s.db.ExecContext(ctx, `UPDATE items SET state = 'cancelled', cancelled_ms = ? WHERE id = ? AND state = 'pending'`, now.UnixMilli(), id)
	if err != nil {
		return item{}, fmt.Errorf("cancel %s: %w", id, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return item{}, err
	}
	it, err := s.get(ctx, id)
	if err != nil {
		return item{}, err
	}
	if n == 0 && it.State != stateCancelled {
		return it, fmt.Errorf("%s %s is %s and can no longer be cancelled", it.Kind, id, it.State)
	}
	return it, nil
}

// restore makes a cancelled item pending again, due at due.
func (s *store) restore(ctx context.Context, id string, due time.Time) (item, error) {
	res, err := s.db.ExecContext(ctx, `UPDATE items SET state = 'pending', cancelled_ms = 0, due_ms = ? WHERE id = ? AND state = 'cancelled'`, due.UnixMilli(), id)
	if err != nil {
		return item{}, fmt.Errorf("restore %s: %w", id, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return item{}, err
	}
	it, err := s.get(ctx, id)
	if err != nil {
		return item{}, err
	}
	if n == 0 && it.State != statePending {
		return it, fmt.Errorf("%s %s is %s, not cancelled; nothing to restore", it.Kind, id, it.State)
	}
	return it, nil
}

func (s *store) setUnit(ctx context.Context, id, unit string) error {
	_, err := s.db.ExecContext(ctx, `UPDATE items SET unit = ? WHERE id = ?`, unit, id)
	return err
}

// due lists pending items due at or before now, earliest first.
func (s *store) due(ctx context.Context, now time.Time, limit int) ([]item, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+itemColumns+` FROM items WHERE state = 'pending' AND due_ms <= ? ORDER BY due_ms, id LIMIT ?`, now.UnixMilli(), limit)
	if err != nil {
		return nil, fmt.Errorf("read due reminders: %w", err)
	}
	defer rows.Close()
	var out []item
	for rows.Next() {
		it, err := scanItem(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, it)
	}
	return out, rows.Err()
}

// nextDue is when the earliest pending item comes due; ok is false when
// none is pending.
func (s *store) nextDue(ctx context.Context) (t time.Time, ok bool, err error) {
	var ms sql.NullInt64
	if err := s.db.QueryRowContext(ctx, `SELECT MIN(due_ms) FROM items WHERE state = 'pending'`).Scan(&ms); err != nil {
		return time.Time{}, false, fmt.Errorf("read next reminder: %w", err)
	}
	if !ms.Valid {
		return time.Time{}, false, nil
	}
	return time.UnixMilli(ms.Int64), true, nil
}

// claim takes a pending item for delivery. Only one process wins: the
// update is conditional on the state, and SQLite serialises writers.
func (s *store) claim(ctx context.Context, id string, now time.Time) (bool, error) {
	res, err := s.db.ExecContext(ctx, `UPDATE items SET state = 'firing', claimed_ms = ?, attempts = attempts + 1 WHERE id = ? AND state = 'pending'`, now.UnixMilli(), id)
	if err != nil {
		return false, fmt.Errorf("claim %s: %w", id, err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// delivered records a successful delivery of a claimed item.
func (s *store) delivered(ctx context.Context, id string, now time.Time, notification uint32) error {
	_, err := s.db.ExecContext(ctx, `UPDATE items SET state = 'delivered', delivered_ms = ?, notification_id = ?, last_error = '' WHERE id = ? AND state = 'firing'`,
		now.UnixMilli(), int64(notification), id)
	if err != nil {
		return fmt.Errorf("mark %s delivered: %w", id, err)
	}
	return nil
}

// release returns a claimed item to pending after a failed delivery.
func (s *store) release(ctx context.Context, id string, cause error) error {
	msg := cause.Error()
	if len(msg) > 500 {
		msg = msg[:500]
	}
	_, err := s.db.ExecContext(ctx, `UPDATE items SET state = 'pending', last_error = ? WHERE id = ? AND state = 'firing'`, msg, id)
	if err != nil {
		return fmt.Errorf("release %s: %w", id, err)
	}
	return nil
}

// recoverStale returns items claimed before cutoff to pending: the process
// delivering them stopped before recording the outcome. Delivery is
// therefore at least once across crashes, and exactly once otherwise.
func (s *store) recoverStale(ctx context.Context, cutoff time.Time) (int64, error) {
	res, err := s.db.ExecContext(ctx, `UPDATE items SET state = 'pending' WHERE state = 'firing' AND claimed_ms < ?`, cutoff.UnixMilli())
	if err != nil {
		return 0, fmt.Errorf("recover interrupted deliveries: %w", err)
	}
	return res.RowsAffected()
}
