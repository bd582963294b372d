package objfs

import (
	"context"
	"fmt"
	"sort"

	"github.com/noema-project/noema/objfs/search"
)

// TagSource says who set a tag.
type TagSource string

const (
	TagUser TagSource = "user"
	TagAuto TagSource = "auto"
)

// ObjectTag is one tag on an object.
type ObjectTag struct {
	Tag    string    `json:"tag"`
	Source TagSource `json:"source"`
}

// TagsOf returns the tags on path, sorted.
func (s *Store) TagsOf(ctx context.Context, path string) ([]ObjectTag, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT t.tag, t.source FROM tags t JOIN objects o ON o.id = t.object_id WHERE o.path = ? ORDER BY t.tag`, path)
	if err != nil {
		return nil, fmt.Errorf("objfs: tags of %s: %w", path, err)
	}
	defer rows.Close()
	out := []ObjectTag{}
	for rows.Next() {
		var t ObjectTag
		if err := rows.Scan(&t.Tag, &t.Source); err != nil {
			return nil, fmt.Errorf("objfs: tags of %s: %w", path, err)
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// UserTags returns the tags the user set on path, sorted.
func (s *Store) UserTags(ctx context.Context, path string) ([]string, error) {
	all, err := s.TagsOf(ctx, path)
	if err != nil {
		return nil, err
	}
	out := []string{}
	for _, t := range all {
		if t.Source == TagUser {
			out = append(out, t.Tag)
		}
	}
	return out, nil
}

// NormalizeTags checks and canonicalises tags, dropping duplicates.
func NormalizeTags(tags []string) ([]string, error) {
	seen := make(map[string]bool)
	out := []string{}
	for _, t := range tags {
		n, err := search.NormalizeTag(t)
		if err != nil {
			return nil, err
		}
		if !seen[n] {
			seen[n] = true
			out = append(out, n)
		}
	}
	sort.Strings(out)
	return out, nil
}

// SetUserTags makes tags exactly the user's tags on path (automatic tags
// stay). The object must exist: index or Snapshot the file first.
func (s *Store) SetUserTags(ctx context.Context, path string, tags []string) error {
	tags, err := NormalizeTags(tags)
	if err != nil {
		return err
	}
	return s.Update(ctx, func(tx *Tx) error {
		o, ok, err := tx.object(path)
		if err != nil {
			return err
		}
		if !ok {
			return fmt.Errorf("%w: %s is not in the store (index it first)", ErrNotFound, path)
		}
		if _, err := tx.exec(`DELETE FROM tags WHERE object_id = ? AND source = 'user'`, o.id); err != nil {
			return fmt.Errorf("objfs: tag %s: %w", path, err)
		}
		for _, t := range tags {
			if _, err := tx.exec(`INSERT INTO tags(object_id, tag, source) VALUES(?, ?, 'user')
				ON CONFLICT(object_id, tag) DO UPDATE SET source = 'user'`, o.id, t); err != nil {
				return fmt.Errorf("objfs: tag %s: %w", path, err)
			}
		}
		tx.docsChanged = true
		return nil
	})
}
