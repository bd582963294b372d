package evidence

import (
	"bytes"
	"os"
	"path/filepath"
	"sort"
	"testing"
)

// smallLog writes a log with three segments and returns it closed.
func smallLog(t *testing.T) *testLog {
	t.Helper()
	tl := newTestLog(t)
	l := tl.open(t, 600)
	appendN(t, l, 6, "test.record")
	l.Close()
	rep := tl.verify(t)
	if !rep.OK || rep.Segments < 3 {
		t.Fatalf("setup: %+v %v", rep, rep.Problem)
	}
	return tl
}

func evidenceFiles(t *testing.T, dir string) []string {
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	sort.Strings(names)
	return names
}

func mustFail(t *testing.T, tl *testLog, what string) {
	t.Helper()
	rep := tl.verify(t)
	if rep.OK {
		t.Fatalf("verify passed after %s", what)
	}
}

func TestTamperEveryByte(t *testing.T) {
	tl := smallLog(t)
	for _, name := range evidenceFiles(t, tl.dir) {
		path := filepath.Join(tl.dir, name)
		orig, _ := os.ReadFile(path)
		for i := range orig {
			for _, mask := range []byte{0x01, 0x80} {
				b := bytes.Clone(orig)
				b[i] ^= mask
				os.WriteFile(path, b, 0o600)
				rep := tl.verify(t)
				if rep.OK {
					t.Fatalf("flipping bit %#x of byte %d of %s went undetected", mask, i, name)
				}
			}
		}
		os.WriteFile(path, orig, 0o600)
	}
	if !tl.verify(t).OK {
		t.Fatal("restored log does not verify")
	}
}

func TestTamperTruncateRemoveReorderAdd(t *testing.T) {
	tl := smallLog(t)
	names := evidenceFiles(t, tl.dir)
	for _, name := range names {
		path := filepath.Join(tl.dir, name)
		orig, _ := os.ReadFile(path)
		for n := 0; n < len(orig); n++ {
			os.WriteFile(path, orig[:n], 0o600)
			mustFail(t, tl, "truncating "+name)
		}
		os.Remove(path)
		mustFail(t, tl, "removing "+name)
		os.WriteFile(path, orig, 0o600)
		// Appending bytes to any file.
		os.WriteFile(path, append(bytes.Clone(orig), 0), 0o600)
		mustFail(t, tl, "appending a byte to "+name)
		os.WriteFile(path, orig, 0o600)
	}
	// Reorder: swap two segments.
	a, b := filepath.Join(tl.dir, segmentName(1)), filepath.Join(tl.dir, segmentName(2))
	os.Rename(a, a+".x")
	os.Rename(b, a)
	os.Rename(a+".x", b)
	mustFail(t, tl, "swapping segments")
	os.Rename(a, a+".x")
	os.Rename(b, a)
	os.Rename(a+".x", b)
	// Add files.
	for _, extra := range []string{"notes.txt", segmentName(len(names) + 5), segmentName(len(names))} {
		p := filepath.Join(tl.dir, extra)
		if _, err := os.Stat(p); err == nil {
			continue
		}
		os.WriteFile(p, nil, 0o600)
		mustFail(t, tl, "adding "+extra)
		os.Remove(p)
	}
	os.Mkdir(filepath.Join(tl.dir, "sub"), 0o700)
	mustFail(t, tl, "adding a folder")
	os.Remove(filepath.Join(tl.dir, "sub"))
	if !tl.verify(t).OK {
		t.Fatal("restored log does not verify")
	}
}

func TestOpenRefusesDamagedCommittedData(t *testing.T) {
	tl := smallLog(t)
	path := filepath.Join(tl.dir, segmentName(1))
	orig, _ := os.ReadFile(path)
	b := bytes.Clone(orig)
	b[len(b)/2] ^= 1
	os.WriteFile(path, b, 0o600)
	// Damage before the checkpoint is not Open's to repair; Verify finds it.
	mustFail(t, tl, "damage")
	// Truncating the active segment below the checkpoint is refused.
	os.WriteFile(path, orig, 0o600)
	last := filepath.Join(tl.dir, segmentName(len(evidenceFiles(t, tl.dir))-1))
	lb, _ := os.ReadFile(last)
	os.WriteFile(last, lb[:len(lb)-10], 0o600)
	if _, err := Open(t.Context(), Options{Dir: tl.dir, RunDir: tl.run, Key: tl.key}); err == nil {
		t.Fatal("Open accepted a log truncated below its checkpoint")
	}
}

func TestOpenCutsTornTailAndRecordsIt(t *testing.T) {
	tl := smallLog(t)
	before := tl.verify(t)
	last := filepath.Join(tl.dir, segmentName(before.Segments))
	f, _ := os.OpenFile(last, os.O_WRONLY|os.O_APPEND, 0)
	f.Write([]byte{200, 0, 0, 0, 'R', '{', '"'}) // a frame cut short by a crash
	f.Close()
	mustFail(t, tl, "torn tail")
	l := tl.open(t, 600)
	rec := l.Recovered()
	if rec == nil || rec.BytesCut != 7 || rec.Reason != "torn write" {
		t.Fatalf("recovery = %+v", rec)
	}
	l.Close()
	rep := tl.verify(t)
	if !rep.OK || rep.Records != before.Records+1 {
		t.Fatalf("after recovery: %+v %v", rep, rep.Problem)
	}
	var found bool
	Scan(t.Context(), tl.dir, Position{}, func(e Entry) error {
		if e.Record != nil && e.Record.Type == "evidence.recovered" {
			found = true
		}
		return nil
	})
	if !found {
		t.Fatal("recovery was not recorded")
	}
}
