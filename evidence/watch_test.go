package evidence

import (
	"context"
	"encoding/json"
	"sync"
	"testing"
)

// A subscriber sees every committed record once, in sequence order, with
// the same bytes Scan reads back, even when many goroutines append at once.
func TestSubscribeSeesEveryRecordInOrder(t *testing.T) {
	tl := newTestLog(t)
	l := tl.open(t, 4<<10)
	ch, cancel := l.Subscribe(10000)
	defer cancel()
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			appendN(t, l, 50, "test.watch")
		}()
	}
	wg.Wait()
	l.Close()
	var got []Record
	for r := range ch {
		got = append(got, r)
	}
	if len(got) != 400 {
		t.Fatalf("subscriber saw %d records, want 400", len(got))
	}
	scanned := map[uint64]*Record{}
	err := Scan(context.Background(), tl.dir, Position{}, func(e Entry) error {
		if e.Record != nil {
			scanned[e.Seq] = e.Record
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range got {
		if i > 0 && r.Seq <= got[i-1].Seq {
			t.Fatalf("record %d out of order: seq %d after %d", i, r.Seq, got[i-1].Seq)
		}
		s, ok := scanned[r.Seq]
		if !ok || s.ID != r.ID || s.Type != r.Type || string(s.Data) != string(r.Data) || !s.Time.Equal(r.Time) {
			t.Fatalf("published record %+v differs from the log's %+v", r, s)
		}
	}
}

// A subscriber that falls behind is cut off (its channel closes) instead
// of slowing appends down, and cancel and Close end subscriptions.
func TestSubscribeSlowReaderIsCutOff(t *testing.T) {
	tl := newTestLog(t)
	l := tl.open(t, 0)
	defer l.Close()
	slow, cancelSlow := l.Subscribe(2)
	defer cancelSlow()
	other, cancelOther := l.Subscribe(100)
	appendN(t, l, 5, "test.watch")
	n := 0
	for range slow {
		n++
	}
	if n != 2 {
		t.Fatalf("slow subscriber got %d records before being cut off, want 2", n)
	}
	cancelOther()
	n = 0
	for range other {
		n++
	}
	if n != 5 {
		t.Fatalf("subscriber got %d records, want 5", n)
	}
	cancelOther() // a second cancel is harmless
	data, _ := json.Marshal(map[string]string{"password": "hunter2"})
	late, cancelLate := l.Subscribe(10)
	defer cancelLate()
	if _, err := l.Append(context.Background(), Record{Type: "test.secret", Data: data}); err != nil {
		t.Fatal(err)
	}
	r := <-late
	if string(r.Data) == string(data) {
		t.Fatal("subscriber saw the secret: records must be published as redacted")
	}
	l.Close()
	if _, ok := <-late; ok {
		t.Fatal("channel still open after Close")
	}
	after, _ := l.Subscribe(1)
	if _, ok := <-after; ok {
		t.Fatal("subscription after Close is open")
	}
}
