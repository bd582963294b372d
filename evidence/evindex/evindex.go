// Package evindex answers queries over the evidence log (by action,
// correlation, type and time) from a SQLite index. The index is a cache:
// it lives outside the evidence folder, catches up from the segments on
// every query, and is rebuilt from scratch whenever it disagrees with them.
package evindex

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/noema-project/noema/evidence"
	"github.com/noema-project/noema/internal/sqlitedb"
)

var migrations = []string{`
CREATE TABLE records (
  seq INTEGER PRIMARY KEY,
  id TEXT NOT NULL UNIQUE,
  type TEXT NOT NULL,
  action_id TEXT,
  correlation_id TEXT,
  subject TEXT,
  time TEXT NOT NULL,
  segment INTEGER NOT NULL,
  offset INTEGER NOT NULL
);
CREATE INDEX records_action ON records(action_id);
CREATE INDEX records_corr ON records(correlation_id);
CREATE INDEX records_type ON records(type);
CREATE INDEX records_time ON records(time);
CREATE TABLE position (k INTEGER PRIMARY KEY CHECK (k = 0), segment INTEGER NOT NULL, offset INTEGER NOT NULL, next_seq INTEGER NOT NULL);
`}

// Index is the evidence query index.
type Index struct {
	db   *sql.DB
	dir  string
	path string
}

// Open opens the index at path for the evidence folder dir.
func Open(ctx context.Context, path, dir string) (*Index, error) {
	db, err := sqlitedb.Open(ctx, path, migrations)
	if err != nil {
		// A damaged index is a cache: start again.
		os.Remove(path)
		os.Remove(path + "-wal")
		os.Remove(path + "-shm")
		if db, err = sqlitedb.Open(ctx, path, migrations); err != nil {
			return nil, fmt.Errorf("evidence index: %w", err)
		}
	}
	return &Index{db: db, dir: dir, path: path}, nil
}

// Close closes the index.
func (x *Index) Close() error { return x.db.Close() }

// Sync indexes committed records appended since the last sync. If the
// stored position no longer fits the log, the index is rebuilt.
func (x *Index) Sync(ctx context.Context) error {
	err := x.sync(ctx)
	if err == nil {
		return nil
	}
	if err := x.reset(ctx); err != nil {
		return err
	}
	return x.sync(ctx)
}

// Rebuild drops the index and reads the whole log again.
func (x *Index) Rebuild(ctx context.Context) error {
	if err := x.reset(ctx); err != nil {
		return err
	}
	return x.sync(ctx)
}

func (x *Index) reset(ctx context.Context) error {
	_, err := x.db.ExecContext(ctx, `DELETE FROM records; DELETE FROM position;`)
	if err != nil {
		return fmt.Errorf("evidence index: reset: %w", err)
	}
	return nil
}

func (x *Index) sync(ctx context.Context) error {
	var pos evidence.Position
	var next uint64
	err := x.db.QueryRowContext(ctx, `SELECT segment, offset, next_seq FROM position WHERE k=0`).Scan(&pos.Segment, &pos.Offset, &next)
	if errors.Is(err, sql.ErrNoRows) {
		pos = evidence.Position{Segment: 1}
	} else if err != nil {
		return err
	}
	tx, err := x.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	ins, err := tx.PrepareContext(ctx, `INSERT INTO records(seq, id, type, action_id, correlation_id, subject, time, segment, offset) VALUES(?,?,?,?,?,?,?,?,?)`)
	if err != nil {
		return err
	}
	defer ins.Close()
	end := pos
	first := true
	err = evidence.Scan(ctx, x.dir, pos, func(e evidence.Entry) error {
		if first && e.Seq != next && next != 0 {
			return fmt.Errorf("index expects frame %d at %v, found %d", next, pos, e.Seq)
		}
		first = false
		if e.Record != nil {
			r := e.Record
			if _, err := ins.ExecContext(ctx, r.Seq, r.ID, r.Type, nullable(r.ActionID), nullable(r.CorrelationID), r.Subject, r.Time.UTC().Format(time.RFC3339Nano), e.Pos.Segment, e.Pos.Offset); err != nil {
				return err
			}
		}
		next = e.Seq + 1
		end = evidence.Position{Segment: e.Pos.Segment, Offset: e.Pos.Offset + int64(e.Size)}
		return nil
	})
	if err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO position(k, segment, offset, next_seq) VALUES(0,?,?,?) ON CONFLICT(k) DO UPDATE SET segment=excluded.segment, offset=excluded.offset, next_seq=excluded.next_seq`, end.Segment, end.Offset, next); err != nil {
		return err
	}
	return tx.Commit()
}

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// Query selects records.
type Query struct {
	ActionID      string
	CorrelationID string
	Type          string // exact, or a prefix ending in '*'
	Since, Until  time.Time
	Limit         int
	// Newest returns the latest records first.
	Newest bool
}

// Hit is one indexed record.
type Hit struct {
	Seq           uint64    `json:"seq"`
	ID            string    `json:"id"`
	Type          string    `json:"type"`
	ActionID      string    `json:"action_id,omitempty"`
	CorrelationID string    `json:"correlation_id,omitempty"`
	Subject       string    `json:"subject,omitempty"`
	Time          time.Time `json:"time"`
	Pos           evidence.Position
}

// Find returns records matching q after syncing the index.
func (x *Index) Find(ctx context.Context, q Query) ([]Hit, error) {
	if err := x.Sync(ctx); err != nil {
		return nil, err
	}
	sqlq := `SELECT seq, id, type, COALESCE(action_id,''), COALESCE(correlation_id,''), COALESCE(subject,''), time, segment, offset FROM records`
	var where []string
	var args []any
	if q.ActionID != "" {
		where, args = append(where, "action_id = ?"), append(args, q.ActionID)
	}
	if q.CorrelationID != "" {
		where, args = append(where, "correlation_id = ?"), append(args, q.CorrelationID)
	}
	if q.Type != "" {
		if p, ok := strings.CutSuffix(q.Type, "*"); ok {
			where, args = append(where, "substr(type, 1, ?) = ?"), append(args, len(p), p)
		} else {
			where, args = append(where, "type = ?"), append(args, q.Type)
		}
	}
	if !q.Since.IsZero() {
		where, args = append(where, "time >= ?"), append(args, q.Since.UTC().Format(time.RFC3339Nano))
	}
	if !q.Until.IsZero() {
		where, args = append(where, "time < ?"), append(args, q.Until.UTC().Format(time.RFC3339Nano))
	}
	if len(where) > 0 {
		sqlq += " WHERE " + strings.Join(where, " AND ")
	}
	if q.Newest {
		sqlq += " ORDER BY seq DESC"
	} else {
		sqlq += " ORDER BY seq"
	}
	if q.Limit > 0 {
		sqlq += fmt.Sprintf(" LIMIT %d", q.Limit)
	}
	rows, err := x.db.QueryContext(ctx, sqlq, args...)
	if err != nil {
		return nil, fmt.Errorf("evidence index: %w", err)
	}
	defer rows.Close()
	var out []Hit
	for rows.Next() {
		var h Hit
		var t string
		if err := rows.Scan(&h.Seq, &h.ID, &h.Type, &h.ActionID, &h.CorrelationID, &h.Subject, &t, &h.Pos.Segment, &h.Pos.Offset); err != nil {
			return nil, err
		}
		h.Time, _ = time.Parse(time.RFC3339Nano, t)
		out = append(out, h)
	}
	return out, rows.Err()
}

// Get returns one record by id, read from its segment.
func (x *Index) Get(ctx context.Context, id string) (*evidence.Record, error) {
	if err := x.Sync(ctx); err != nil {
		return nil, err
	}
	var pos evidence.Position
	err := x.db.QueryRowContext(ctx, `SELECT segment, offset FROM records WHERE id = ?`, id).Scan(&pos.Segment, &pos.Offset)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("evidence record %s not found", id)
	}
	if err != nil {
		return nil, err
	}
	var rec *evidence.Record
	err = evidence.Scan(ctx, x.dir, pos, func(e evidence.Entry) error {
		rec = e.Record
		return evidence.ErrStop
	})
	if err != nil {
		return nil, err
	}
	if rec == nil || rec.ID != id {
		return nil, fmt.Errorf("evidence record %s: index points at the wrong frame (run `noema log verify`)", id)
	}
	return rec, nil
}
