package evidence

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

type testLog struct {
	home, dir, run, keys string
	key                  *Key
}

func newTestLog(t testing.TB) *testLog {
	t.Helper()
	home := t.TempDir()
	tl := &testLog{home: home, dir: filepath.Join(home, "evidence"), run: filepath.Join(home, "run"), keys: filepath.Join(home, "keys")}
	k, created, err := LoadOrCreateKey(tl.keys)
	if err != nil || !created {
		t.Fatalf("LoadOrCreateKey: %v created=%v", err, created)
	}
	tl.key = k
	return tl
}

func (tl *testLog) open(t testing.TB, segBytes int64) *Log {
	t.Helper()
	l, err := Open(context.Background(), Options{Dir: tl.dir, RunDir: tl.run, Key: tl.key, SegmentBytes: segBytes})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return l
}

func (tl *testLog) verify(t testing.TB) *Report {
	t.Helper()
	rep, err := Verify(context.Background(), tl.dir, tl.key.Public(), VerifyOptions{})
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	return rep
}

func appendN(t testing.TB, l *Log, n int, typ string) []Receipt {
	t.Helper()
	var out []Receipt
	for i := 0; i < n; i++ {
		data, _ := json.Marshal(map[string]any{"i": i, "note": strings.Repeat("x", i%50)})
		r, err := l.Append(context.Background(), Record{Type: typ, ActionID: "act_x", Data: data})
		if err != nil {
			t.Fatalf("Append: %v", err)
		}
		out = append(out, r...)
	}
	return out
}

func TestAppendVerifyReopen(t *testing.T) {
	tl := newTestLog(t)
	l := tl.open(t, 2048) // small segments to exercise sealing
	rs := appendN(t, l, 100, "test.record")
	l.Close()
	rep := tl.verify(t)
	if !rep.OK {
		t.Fatalf("verify failed: %v", rep.Problem)
	}
	if rep.Records != 100 || rep.Segments < 3 {
		t.Fatalf("records=%d segments=%d", rep.Records, rep.Segments)
	}
	if rep.CheckpointSize != rep.Frames {
		t.Fatalf("checkpoint %d != frames %d", rep.CheckpointSize, rep.Frames)
	}
	// Reopen resumes from the checkpoint and keeps the chain.
	l = tl.open(t, 2048)
	if l.Recovered() != nil {
		t.Fatalf("clean reopen reported recovery: %+v", l.Recovered())
	}
	rs2 := appendN(t, l, 10, "test.more")
	l.Close()
	if rs2[0].Seq <= rs[len(rs)-1].Seq {
		t.Fatalf("seq went backwards: %d then %d", rs[len(rs)-1].Seq, rs2[0].Seq)
	}
	if rep := tl.verify(t); !rep.OK || rep.Records != 110 {
		t.Fatalf("after reopen: %+v %v", rep, rep.Problem)
	}
	// Every record can be read back.
	var got []Record
	if err := Scan(context.Background(), tl.dir, Position{}, func(e Entry) error {
		if e.Record != nil {
			got = append(got, *e.Record)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if len(got) != 110 || got[0].ID != rs[0].ID || got[109].ID != rs2[9].ID {
		t.Fatalf("scan returned %d records", len(got))
	}
}

func TestConcurrentAppendsGroupCommit(t *testing.T) {
	tl := newTestLog(t)
	l := tl.open(t, 0)
	var wg sync.WaitGroup
	seen := sync.Map{}
	for g := 0; g < 32; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < 50; i++ {
				r, err := l.Append(context.Background(), Record{Type: "t", Data: json.RawMessage(fmt.Sprintf(`{"g":%d,"i":%d}`, g, i))})
				if err != nil {
					t.Error(err)
					return
				}
				if _, dup := seen.LoadOrStore(r[0].Seq, true); dup {
					t.Errorf("duplicate seq %d", r[0].Seq)
				}
			}
		}(g)
	}
	wg.Wait()
	l.Close()
	rep := tl.verify(t)
	if !rep.OK || rep.Records != 32*50 {
		t.Fatalf("%+v %v", rep, rep.Problem)
	}
	// Group commit means fewer commits than records.
	if rep.Frames-rep.Records >= rep.Records {
		t.Logf("no batching observed: %d frames for %d records", rep.Frames, rep.Records)
	}
}

func TestSecretsAreRedacted(t *testing.T) {
	tl := newTestLog(t)
	l := tl.open(t, 0)
	data := `{"password":"hunter2","note":"token=abcdef123 and Bearer abcdefghijklmnop","nested":{"api_key":"sk-aaaaaaaaaaaaaaaaaaaaaaaa"},"prompt_tokens":12}`
	if _, err := l.Append(context.Background(), Record{Type: "t", Data: json.RawMessage(data)}); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Append(context.Background(), Record{Type: "t", Data: json.RawMessage(`{"unterminated`)}); err == nil {
		t.Fatal("append of data that cannot be inspected was accepted")
	}
	l.Close()
	all := ""
	ents, _ := os.ReadDir(tl.dir)
	for _, e := range ents {
		b, _ := os.ReadFile(filepath.Join(tl.dir, e.Name()))
		all += string(b)
	}
	for _, secret := range []string{"hunter2", "abcdef123", "abcdefghijklmnop", "sk-aaaa"} {
		if strings.Contains(all, secret) {
			t.Errorf("secret %q reached the evidence folder", secret)
		}
	}
	if !strings.Contains(all, `"prompt_tokens":12`) {
		t.Error("a token counter was redacted")
	}
}

func TestInclusionProof(t *testing.T) {
	tl := newTestLog(t)
	l := tl.open(t, 1024)
	rs := appendN(t, l, 37, "p")
	l.Close()
	for _, r := range []Receipt{rs[0], rs[17], rs[36]} {
		p, err := ProveInclusion(context.Background(), tl.dir, tl.key.Public(), r.Seq)
		if err != nil {
			t.Fatalf("prove %d: %v", r.Seq, err)
		}
		if err := VerifyInclusion(p, tl.key.Public()); err != nil {
			t.Fatalf("verify %d: %v", r.Seq, err)
		}
		p.LeafHash[0] ^= 1
		if VerifyInclusion(p, tl.key.Public()) == nil {
			t.Fatal("a proof for a changed leaf verified")
		}
	}
}
