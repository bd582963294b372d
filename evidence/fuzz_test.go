package evidence

import (
	"bytes"
	"context"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
)

// FuzzSegmentReader feeds arbitrary segment bytes to the readers of
// segments, Verify and Scan. Neither may panic, and a damaged log must never
// verify. (Open's recovery, which syncs, is exercised by
// TestOpenOnRandomDamage.)
func FuzzSegmentReader(f *testing.F) {
	tl := newTestLog(f)
	l := tl.open(f, 0)
	appendN(f, l, 3, "seed")
	l.Close()
	seed, err := os.ReadFile(filepath.Join(tl.dir, segmentName(1)))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(seed)
	f.Add(seed[:len(seed)/2])
	f.Add([]byte{0xff, 0xff, 0xff, 0x7f, 'R'})
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		home := t.TempDir()
		dir := filepath.Join(home, "evidence")
		os.MkdirAll(dir, 0o700)
		os.WriteFile(filepath.Join(dir, segmentName(1)), data, 0o600)
		cp, _ := os.ReadFile(filepath.Join(tl.dir, checkpointFile))
		os.WriteFile(filepath.Join(dir, checkpointFile), cp, 0o600)
		rep, err := Verify(context.Background(), dir, tl.key.Public(), VerifyOptions{AllSignatures: true})
		if err != nil {
			t.Fatal(err)
		}
		if rep.OK && string(data) != string(seed) {
			t.Fatalf("a segment other than the signed one verified")
		}
		Scan(context.Background(), dir, Position{}, func(Entry) error { return nil })
	})
}

// FuzzParseCheckpoint checks the checkpoint parser on hostile input.
func FuzzParseCheckpoint(f *testing.F) {
	tl := newTestLog(f)
	l := tl.open(f, 0)
	l.Close()
	cp, _ := os.ReadFile(filepath.Join(tl.dir, checkpointFile))
	f.Add(cp)
	f.Add([]byte("x\n1\nAAAA\n\n— a b\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := ParseCheckpoint(data, tl.key.Public())
		if err == nil && string(data) != string(cp) {
			t.Fatalf("an unsigned checkpoint parsed: %+v", c)
		}
	})
}

// TestOpenOnRandomDamage opens logs whose segment was damaged at random:
// Open must either refuse with an error or recover to a log that verifies.
func TestOpenOnRandomDamage(t *testing.T) {
	tl := newTestLog(t)
	l := tl.open(t, 0)
	appendN(t, l, 3, "seed")
	l.Close()
	seed, _ := os.ReadFile(filepath.Join(tl.dir, segmentName(1)))
	cp, _ := os.ReadFile(filepath.Join(tl.dir, checkpointFile))
	rng := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 200; i++ {
		data := bytes.Clone(seed)
		switch rng.IntN(3) {
		case 0:
			data[rng.IntN(len(data))] ^= byte(rng.IntN(255) + 1)
		case 1:
			data = data[:rng.IntN(len(data))]
		case 2:
			data = append(data, byte(rng.IntN(256)))
		}
		home := t.TempDir()
		dir := filepath.Join(home, "evidence")
		os.MkdirAll(dir, 0o700)
		os.WriteFile(filepath.Join(dir, segmentName(1)), data, 0o600)
		os.WriteFile(filepath.Join(dir, checkpointFile), cp, 0o600)
		l, err := Open(context.Background(), Options{Dir: dir, RunDir: filepath.Join(home, "run"), Key: tl.key})
		if err != nil {
			continue
		}
		l.Close()
		rep, err := Verify(context.Background(), dir, tl.key.Public(), VerifyOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if !rep.OK && !bytes.Equal(data[:min(len(data), len(seed))], seed[:min(len(data), len(seed))]) {
			// Damage before the checkpoint is Verify's to report.
			continue
		}
		if !rep.OK {
			t.Fatalf("case %d: Open recovered a log that does not verify: %v", i, rep.Problem)
		}
	}
}
