package evidence

import (
	"context"
	"encoding/json"
	"sync"
	"sync/atomic"
	"testing"
)

var benchData = json.RawMessage(`{"action":"desktop.theme.set","from":"APPROVED","to":"QUEUED","request_hash":"8f2a6d1c1f0e4b9a7c3d2e1f0a9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d4e3f2a1b"}`)

// BenchmarkAppendDurable measures group-committed, fsynced appends from
// 128 concurrent writers (ns/op is per record).
func BenchmarkAppendDurable(b *testing.B) {
	tl := newTestLog(b)
	l := tl.open(b, 0)
	defer l.Close()
	var n atomic.Int64
	var wg sync.WaitGroup
	b.ResetTimer()
	for g := 0; g < 128; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n.Add(1) <= int64(b.N) {
				if _, err := l.Append(context.Background(), Record{Type: "action.transition", ActionID: "act_01J00000000000000000000000", Data: benchData}); err != nil {
					b.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
}

// BenchmarkAppendSerial is the baseline: one writer, one fsync per record.
func BenchmarkAppendSerial(b *testing.B) {
	tl := newTestLog(b)
	l := tl.open(b, 0)
	defer l.Close()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := l.Append(context.Background(), Record{Type: "action.transition", Data: benchData}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
}

// BenchmarkVerify measures full verification of a 100,000-record log
// (ns/op is per record).
func BenchmarkVerify(b *testing.B) {
	tl := newTestLog(b)
	l := tl.open(b, 0)
	const records = 100000
	var wg sync.WaitGroup
	for g := 0; g < 100; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < records/100; i++ {
				l.Append(context.Background(), Record{Type: "action.transition", Data: benchData})
			}
		}()
	}
	wg.Wait()
	l.Close()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		rep, err := Verify(context.Background(), tl.dir, tl.key.Public(), VerifyOptions{})
		if err != nil || !rep.OK || rep.Records != records {
			b.Fatalf("%v %+v", err, rep)
		}
	}
	b.ReportMetric(float64(records*b.N)/b.Elapsed().Seconds(), "records/s")
}
