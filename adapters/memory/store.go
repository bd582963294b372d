package memory

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/noema-project/noema/internal/sqlitedb"
)

// The FTS5 index holds exactly the memories that are not forgotten:
// triggers add a row when it is remembered or restored and remove it when
// it is forgotten or deleted. The text itself stays in memories until a
// forgotten row is purged, so that forgetting can be undone.
var migrations = []string{
	`CREATE TABLE memories (
		seq          INTEGER PRIMARY KEY,
		id           TEXT NOT NULL UNIQUE,
		text         TEXT NOT NULL,
		created_ms   INTEGER NOT NULL,
		forgotten_ms INTEGER NOT NULL DEFAULT 0
	);
	CREATE INDEX memories_text ON memories (text, forgotten_ms);
	CREATE VIRTUAL TABLE memories_fts USING fts5(
		text, content='memories', content_rowid='seq',
		tokenize='porter unicode61 remove_diacritics 2'
	);
	CREATE TRIGGER memories_add AFTER INSERT ON memories WHEN new.forgotten_ms = 0 BEGIN
		INSERT INTO memories_fts (rowid, text) VALUES (new.seq, new.text);
	END;
	CREATE TRIGGER memories_forget AFTER UPDATE OF forgotten_ms ON memories
	WHEN old.forgotten_ms = 0 AND new.forgotten_ms != 0 BEGIN
		INSERT INTO memories_fts (memories_fts, rowid, text) VALUES ('delete', old.seq, old.text);
	END;
	CREATE TRIGGER memories_restore AFTER UPDATE OF forgotten_ms ON memories
	WHEN old.forgotten_ms != 0 AND new.forgotten_ms = 0 BEGIN
		INSERT INTO memories_fts (rowid, text) VALUES (new.seq, new.text);
	END;
	CREATE TRIGGER memories_delete AFTER DELETE ON memories WHEN old.forgotten_ms = 0 BEGIN
		INSERT INTO memories_fts (memories_fts, rowid, text) VALUES ('delete', old.seq, old.text);
	END;`,
}

var errNotFound = errors.New("no such memory")

// record is one memory row.
type record struct {
	seq       int64
	ID        string
	Text      string
	Created   time.Time
	Forgotten time.Time
}

// hit is a recalled memory with its rank.
type hit struct {
	record
	Score float64
}

type store struct{ db *sql.DB }

func openStore(ctx context.Context, path string) (*sql.DB, error) {
	db, err := sqlitedb.Open(ctx, path, migrations)
	if err != nil {
		return nil, fmt.Errorf("memory: %w", err)
	}
	return db, nil
}

func scanRecord(row interface{ Scan(...any) error }) (record, error) {
	var r record
	var created, forgotten int64
	if err := row.Scan(&r.seq, &r.ID, &r.Text, &created, &forgotten); err != nil {
		return record{}, err
	}
	r.Created = time.UnixMilli(created)
	if forgotten != 0 {
		r.Forgotten = time.UnixMilli(forgotten)
	}
	return r, nil
}

const recordColumns = `seq, id, text, created_ms, forgotten_ms`

func (s *store) get(ctx context.Context, id string) (record, error) {
	r, err := scanRecord(s.db.QueryRowContext(ctx, `SELECT `+recordColumns+` FROM memories WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return record{}, fmt.Errorf("%w: %s", errNotFound, id)
	}
	if err != nil {
		return record{}, fmt.Errorf("read memory %s: %w", id, err)
	}
	return r, nil
}

// active finds a remembered (not forgotten) memory with exactly text.
func (s *store) active(ctx context.Context, text string) (record, bool, error) {
	r, err := scanRecord(s.db.QueryRowContext(ctx, `SELECT `+recordColumns+` FROM memories WHERE text = ? AND forgotten_ms = 0 ORDER BY seq LIMIT 1`, text))
	if errors.Is(err, sql.ErrNoRows) {
		return record{}, false, nil
	}
	if err != nil {
		return record{}, false, fmt.Errorf("read memories: %w", err)
	}
	return r, true, nil
}

func (s *store) insert(ctx context.Context, r record) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO memories (id, text, created_ms) VALUES (?, ?, ?)`, r.ID, r.Text, r.Created.UnixMilli())
	if err != nil {
		return fmt.Errorf("save memory: %w", err)
	}
	return nil
}

func (s *store) delete(ctx context.Context, id string) (bool, error) {
	res, err := s.db.ExecContext(ctx, `DELETE FROM memories WHERE id = ?`, id)
	if err != nil {
		return false, fmt.Errorf("delete memory %s: %w", id, err)
	}
	n, err := res.RowsAffected()
	return n > 0, err
}

// forget marks a remembered memory forgotten; the text stays for undo.
func (s *store) forget(ctx context.Context, id string, now time.Time) error {
	res, err := s.db.ExecContext(ctx, `UPDATE memories SET forgotten_ms = ? WHERE id = ? AND forgotten_ms = 0`, now.UnixMilli(), id)
	if err != nil {
		return fmt.Errorf("forget %s: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		r, err := s.get(ctx, id)
		if err != nil {
			return err
		}
		return fmt.Errorf("memory %s was already forgotten on %s", id, r.Forgotten.Format(time.DateOnly))
	}
	return nil
}

// restore brings a forgotten memory back.
func (s *store) restore(ctx context.Context, id string) error {
	res, err := s.db.ExecContext(ctx, `UPDATE memories SET forgotten_ms = 0 WHERE id = ? AND forgotten_ms != 0`, id)
	if err != nil {
		return fmt.Errorf("restore %s: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		if _, err := s.get(ctx, id); err != nil {
			return fmt.Errorf("memory %s cannot be restored: its text has been purged: %w", id, err)
		}
	}
	return nil
}

// purge removes memories forgotten before cutoff for good.
func (s *store) purge(ctx context.Context, cutoff time.Time) (int64, error) {
	res, err := s.db.ExecContext(ctx, `DELETE FROM memories WHERE forgotten_ms != 0 AND forgotten_ms < ?`, cutoff.UnixMilli())
	if err != nil {
		return 0, fmt.Errorf("purge forgotten memories: %w", err)
	}
	return res.RowsAffected()
}

// search ranks remembered memories against an FTS5 query, best first. An
// empty query lists the most recent.
func (s *store) search(ctx context.Context, query string, limit int) ([]hit, error) {
	var rows *sql.Rows
	var err error
	if query == "" {
		rows, err = s.db.QueryContext(ctx, `SELECT `+recordColumns+`, 0.0 FROM memories WHERE forgotten_ms = 0 ORDER BY seq DESC LIMIT ?`, limit)
	} else {
		rows, err = s.db.QueryContext(ctx, `SELECT m.seq, m.id, m.text, m.created_ms, m.forgotten_ms, -bm25(memories_fts)
			FROM memories_fts JOIN memories m ON m.seq = memories_fts.rowid
			WHERE memories_fts MATCH ? AND m.forgotten_ms = 0
			ORDER BY bm25(memories_fts), m.seq DESC LIMIT ?`, query, limit)
	}
	if err != nil {
		return nil, fmt.Errorf("search memories: %w", err)
	}
	defer rows.Close()
	var out []hit
	for rows.Next() {
		var h hit
		var created, forgotten int64
		if err := rows.Scan(&h.seq, &h.ID, &h.Text, &created, &forgotten, &h.Score); err != nil {
			return nil, fmt.Errorf("search memories: %w", err)
		}
		h.Created = time.UnixMilli(created)
		out = append(out, h)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("search memories: %w", err)
	}
	return out, nil
}

// indexed reports whether the full-text index finds the memory by a word
// of its own text; ok is false when the text has no words to search by.
func (s *store) indexed(ctx context.Context, r record) (found, ok bool, err error) {
	words := terms(r.Text)
	if len(words) == 0 {
		return false, false, nil
	}
	q := `"` + words[0] + `"`
	var n int
	err = s.db.QueryRowContext(ctx, `SELECT count(*) FROM memories_fts WHERE memories_fts MATCH ? AND rowid = ?`, q, r.seq).Scan(&n)
	if err != nil {
		return false, true, fmt.Errorf("search index for %s: %w", r.ID, err)
	}
	return n > 0, true, nil
}

// check runs FTS5's own consistency check of the index.
func (s *store) check(ctx context.Context) error {
	if _, err := s.db.ExecContext(ctx, `INSERT INTO memories_fts (memories_fts) VALUES ('integrity-check')`); err != nil {
		return fmt.Errorf("memory index check: %w", err)
	}
	return nil
}
