// Package state keeps action envelopes and approvals in SQLite so that an
// action's lifecycle survives restarts and crashes, and two processes never
// move one action at the same time (transitions are compare-and-set).
package state

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/noema-project/noema/action"
	"github.com/noema-project/noema/internal/sqlitedb"
)

var migrations = []string{`
CREATE TABLE actions (
  id TEXT PRIMARY KEY,
  idempotency_key TEXT UNIQUE,
  request_hash TEXT NOT NULL,
  action TEXT NOT NULL,
  state TEXT NOT NULL,
  correlation_id TEXT NOT NULL,
  parent_id TEXT,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  envelope BLOB NOT NULL
);
CREATE INDEX actions_state ON actions(state);
CREATE INDEX actions_created ON actions(created_at);
CREATE INDEX actions_parent ON actions(parent_id);
CREATE TABLE approvals (
  id TEXT PRIMARY KEY,
  action_id TEXT NOT NULL REFERENCES actions(id),
  request_hash TEXT NOT NULL,
  approver TEXT NOT NULL,
  created_at TEXT NOT NULL,
  expires_at TEXT NOT NULL,
  consumed_at TEXT
);
CREATE INDEX approvals_action ON approvals(action_id);
`}

// Store is the action store.
type Store struct {
	db *sql.DB
	// write admits one writer of this process at a time. SQLite allows
	// one writer anyway; queueing here, in order, replaces many
	// connections polling the lock with backoff, where one unlucky writer
	// could wait past the busy timeout while hundreds of actions run.
	write chan struct{}
}

// ErrNotFound is returned for an unknown action or approval.
var ErrNotFound = errors.New("not found")

// ErrStale is returned when an update lost a race: the action is no longer
// in the state the caller read.
var ErrStale = errors.New("action changed concurrently")

// Open opens the store at path.
func Open(ctx context.Context, path string) (*Store, error) {
	db, err := sqlitedb.Open(ctx, path, migrations)
	if err != nil {
		return nil, fmt.Errorf("state: %w", err)
	}
	return &Store{db: db, write: make(chan struct{}, 1)}, nil
}

// exec runs a write statement, waiting for this process's other writers.
func (s *Store) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	select {
	case s.write <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	defer func() { <-s.write }()
	return s.db.ExecContext(ctx, query, args...)
}

// Close closes the database.
func (s *Store) Close() error { return s.db.Close() }

const timeFmt = time.RFC3339Nano

// Insert stores a new envelope. If its idempotency key is taken it returns
// the existing envelope and ErrDuplicateKey.
func (s *Store) Insert(ctx context.Context, env *action.Envelope) error {
	blob, err := json.Marshal(env)
	if err != nil {
		return fmt.Errorf("state: %w", err)
	}
	var key any
	if env.Identity.IdempotencyKey != "" {
		key = env.Identity.IdempotencyKey
	}
	var parent any
	if env.Identity.ParentActionID != "" {
		parent = env.Identity.ParentActionID
	}
	_, err = s.exec(ctx, `INSERT INTO actions(id, idempotency_key, request_hash, action, state, correlation_id, parent_id, created_at, updated_at, envelope)
		VALUES(?,?,?,?,?,?,?,?,?,?)`,
		env.Identity.ActionID, key, env.RequestHash, env.Request.Action, string(env.Execution.State),
		env.Identity.CorrelationID, parent, env.Identity.CreatedAt.UTC().Format(timeFmt), env.Execution.UpdatedAt.UTC().Format(timeFmt), blob)
	if err != nil && strings.Contains(err.Error(), "UNIQUE constraint failed: actions.idempotency_key") {
		return ErrDuplicateKey
	}
	if err != nil {
		return fmt.Errorf("state: insert %s: %w", env.Identity.ActionID, err)
	}
	return nil
}

// ErrDuplicateKey says an idempotency key is already used.
var ErrDuplicateKey = errors.New("idempotency key already used")

// Update writes env if the stored state is still from.
func (s *Store) Update(ctx context.Context, env *action.Envelope, from action.State) error {
	blob, err := json.Marshal(env)
	if err != nil {
		return fmt.Errorf("state: %w", err)
	}
	res, err := s.exec(ctx, `UPDATE actions SET state=?, updated_at=?, envelope=? WHERE id=? AND state=?`,
		string(env.Execution.State), env.Execution.UpdatedAt.UTC().Format(timeFmt), blob, env.Identity.ActionID, string(from))
	if err != nil {
		return fmt.Errorf("state: update %s: %w", env.Identity.ActionID, err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return fmt.Errorf("state: update %s from %s: %w", env.Identity.ActionID, from, ErrStale)
	}
	return nil
}

// Get loads one envelope.
func (s *Store) Get(ctx context.Context, id string) (*action.Envelope, error) {
	return s.one(ctx, `SELECT envelope FROM actions WHERE id=?`, id)
}

// ByIdempotencyKey loads the envelope that used key.
func (s *Store) ByIdempotencyKey(ctx context.Context, key string) (*action.Envelope, error) {
	return s.one(ctx, `SELECT envelope FROM actions WHERE idempotency_key=?`, key)
}

func (s *Store) one(ctx context.Context, q string, arg any) (*action.Envelope, error) {
	var blob []byte
	err := s.db.QueryRowContext(ctx, q, arg).Scan(&blob)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("action %v: %w", arg, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("state: %w", err)
	}
	return decode(blob)
}

func decode(blob []byte) (*action.Envelope, error) {
	var env action.Envelope
	if err := json.Unmarshal(blob, &env); err != nil {
		return nil, fmt.Errorf("state: stored envelope is corrupt: %w", err)
	}
	if env.Identity.ActionID == "" || !env.Execution.State.Valid() {
		return nil, fmt.Errorf("state: stored envelope is corrupt: missing id or unknown state %q", env.Execution.State)
	}
	return &env, nil
}

// Filter selects actions for List.
type Filter struct {
	States []action.State
	Parent string
	Limit  int
}

// List returns envelopes newest first.
func (s *Store) List(ctx context.Context, f Filter) ([]*action.Envelope, error) {
	q := `SELECT envelope FROM actions`
	var where []string
	var args []any
	if len(f.States) > 0 {
		ph := make([]string, len(f.States))
		for i, st := range f.States {
			ph[i] = "?"
			args = append(args, string(st))
		}
		where = append(where, "state IN ("+strings.Join(ph, ",")+")")
	}
	if f.Parent != "" {
		where = append(where, "parent_id = ?")
		args = append(args, f.Parent)
	}
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY created_at DESC, id DESC"
	if f.Limit > 0 {
		q += fmt.Sprintf(" LIMIT %d", f.Limit)
	}
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("state: %w", err)
	}
	defer rows.Close()
	var out []*action.Envelope
	for rows.Next() {
		var blob []byte
		if err := rows.Scan(&blob); err != nil {
			return nil, fmt.Errorf("state: %w", err)
		}
		env, err := decode(blob)
		if err != nil {
			return nil, err
		}
		out = append(out, env)
	}
	return out, rows.Err()
}

// Approval is a human's consent to one request hash.
type Approval struct {
	ID          string
	ActionID    string
	RequestHash string
	Approver    string
	CreatedAt   time.Time
	ExpiresAt   time.Time
	ConsumedAt  *time.Time
}

// InsertApproval stores a grant.
func (s *Store) InsertApproval(ctx context.Context, a Approval) error {
	_, err := s.exec(ctx, `INSERT INTO approvals(id, action_id, request_hash, approver, created_at, expires_at) VALUES(?,?,?,?,?,?)`,
		a.ID, a.ActionID, a.RequestHash, a.Approver, a.CreatedAt.UTC().Format(timeFmt), a.ExpiresAt.UTC().Format(timeFmt))
	if err != nil {
		return fmt.Errorf("state: approval: %w", err)
	}
	return nil
}

// ConsumeApproval marks an approval used if it is unused, unexpired, for
// this action and exactly this request hash. It reports whether it did.
func (s *Store) ConsumeApproval(ctx context.Context, id, actionID, requestHash string, now time.Time) (bool, error) {
	res, err := s.exec(ctx, `UPDATE approvals SET consumed_at=? WHERE id=? AND action_id=? AND request_hash=? AND consumed_at IS NULL AND expires_at > ?`,
		now.UTC().Format(timeFmt), id, actionID, requestHash, now.UTC().Format(timeFmt))
	if err != nil {
		return false, fmt.Errorf("state: consume approval: %w", err)
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

// GetApproval loads an approval.
func (s *Store) GetApproval(ctx context.Context, id string) (*Approval, error) {
	var a Approval
	var created, expires string
	var consumed sql.NullString
	err := s.db.QueryRowContext(ctx, `SELECT id, action_id, request_hash, approver, created_at, expires_at, consumed_at FROM approvals WHERE id=?`, id).
		Scan(&a.ID, &a.ActionID, &a.RequestHash, &a.Approver, &created, &expires, &consumed)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("approval %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("state: %w", err)
	}
	a.CreatedAt, _ = time.Parse(timeFmt, created)
	a.ExpiresAt, _ = time.Parse(timeFmt, expires)
	if consumed.Valid {
		t, _ := time.Parse(timeFmt, consumed.String)
		a.ConsumedAt = &t
	}
	return &a, nil
}
