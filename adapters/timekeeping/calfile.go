package timekeeping

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"github.com/emersion/go-ical"
)

// calendar is where events live: a CalDAV collection or a local file.
type calendar interface {
	// Where names the calendar for previews and evidence.
	Where() string
	// Put stores a new event; ref locates it for Get and Delete.
	Put(ctx context.Context, uid string, ev *ical.Component) (ref string, err error)
	// Get reads the event with uid back; found is false when it is gone.
	Get(ctx context.Context, uid, ref string) (ev Event, found bool, err error)
	// Delete removes the event with uid; found is false when it was
	// already gone.
	Delete(ctx context.Context, uid, ref string) (found bool, err error)
	// Between lists occurrences overlapping [from, to) and notes what
	// could not be read.
	Between(ctx context.Context, from, to time.Time) ([]Event, []string, error)
}

// fileCalendar keeps events in one iCalendar file. Every change is a
// read-modify-write under an exclusive lock, written to a temporary file,
// synced and renamed over the old one, so a crash leaves either the old
// or the new calendar, and another noema process never interleaves.
type fileCalendar struct {
	path string
	loc  *time.Location
}

func (f *fileCalendar) Where() string { return f.path }

// load reads the file; a missing file is an empty calendar.
func (f *fileCalendar) load() ([]*ical.Calendar, error) {
	fh, err := os.Open(f.path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("open calendar: %w", err)
	}
	defer fh.Close()
	data, err := io.ReadAll(io.LimitReader(fh, maxICSBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read calendar %s: %w", f.path, err)
	}
	cals, err := decodeICS(data)
	if err != nil {
		return nil, fmt.Errorf("calendar %s: %w", f.path, err)
	}
	return cals, nil
}

// lock takes the exclusive lock that serialises writers of the file.
func (f *fileCalendar) lock(ctx context.Context) (unlock func(), err error) {
	if err := os.MkdirAll(filepath.Dir(f.path), 0o700); err != nil {
		return nil, fmt.Errorf("calendar folder: %w", err)
	}
	lf, err := os.OpenFile(f.path+".lock", os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("calendar lock: %w", err)
	}
	for {
		err = syscall.Flock(int(lf.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			return func() { lf.Close() }, nil
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) {
			lf.Close()
			return nil, fmt.Errorf("calendar lock: %w", err)
		}
		select {
		case <-ctx.Done():
			lf.Close()
			return nil, fmt.Errorf("waiting for the calendar lock: %w", ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// update applies change to the calendar under the lock and writes the
// result atomically. A change that returns an error writes nothing.
func (f *fileCalendar) update(ctx context.Context, change func([]*ical.Calendar) ([]*ical.Calendar, error)) error {
	unlock, err := f.lock(ctx)
	if err != nil {
		return err
	}
	defer unlock()
	cals, err := f.load()
	if err != nil {
		return fmt.Errorf("%w (not changing a file that does not parse)", err)
	}
	cals, err = change(cals)
	if err != nil {
		return err
	}
	data, err := encodeICS(cals)
	if err != nil {
		return fmt.Errorf("calendar %s: %w", f.path, err)
	}
	return writeAtomic(f.path, data)
}

// writeAtomic replaces path with data: temp file, fsync, rename, fsync
// of the folder.
func writeAtomic(path string, data []byte) error {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("sync %s: %w", dir, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", dir, err)
	}
	return nil
}

func (f *fileCalendar) Put(ctx context.Context, uid string, ev *ical.Component) (string, error) {
	err := f.update(ctx, func(cals []*ical.Calendar) ([]*ical.Calendar, error) {
		for _, cal := range cals {
			for _, c := range cal.Children {
				if c.Name == ical.CompEvent && uidOf(c) == uid {
					return nil, fmt.Errorf("an event with UID %s is already in %s", uid, f.path)
				}
			}
		}
		if len(cals) == 0 {
			cals = append(cals, newCalendar())
		}
		cals[0].Children = append(cals[0].Children, ev)
		return cals, nil
	})
	if err != nil {
		return "", err
	}
	return f.path, nil
}

func (f *fileCalendar) Get(ctx context.Context, uid, _ string) (Event, bool, error) {
	cals, err := f.load()
	if err != nil {
		return Event{}, false, err
	}
	v, ok := parseEvents(cals, f.loc).byUID(uid)
	return v.Event, ok, nil
}

func (f *fileCalendar) Delete(ctx context.Context, uid, _ string) (bool, error) {
	found := false
	err := f.update(ctx, func(cals []*ical.Calendar) ([]*ical.Calendar, error) {
		for _, cal := range cals {
			kept := cal.Children[:0]
			for _, c := range cal.Children {
				if c.Name == ical.CompEvent && uidOf(c) == uid {
					found = true
					continue
				}
				kept = append(kept, c)
			}
			cal.Children = kept
		}
		if !found {
			return nil, errNoChange
		}
		return cals, nil
	})
	if errors.Is(err, errNoChange) {
		return false, nil
	}
	return found, err
}

// errNoChange ends an update without writing.
var errNoChange = errors.New("no change")

func (f *fileCalendar) Between(ctx context.Context, from, to time.Time) ([]Event, []string, error) {
	cals, err := f.load()
	if err != nil {
		return nil, nil, err
	}
	p := parseEvents(cals, f.loc)
	return p.eventsBetween(from, to), p.skipped, nil
}
