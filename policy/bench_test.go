package policy

import (
	"encoding/json"
	"sort"
	"testing"
	"time"

	"github.com/noema-project/noema/action"
	"github.com/noema-project/noema/identity"
)

func benchInput() Input {
	return Input{
		Request: &action.Request{
			Action: "fs.write", Target: json.RawMessage(`{"path":"/home/u/notes.txt","content":"hello"}`),
			Subject: identity.Subject{Kind: identity.Human, ID: "uid:1000", Name: "u"},
		},
		Manifest: &action.Manifest{Name: "fs.write", Rollback: action.Checkpoint, PathFields: []string{"path"}},
	}
}

// BenchmarkDecide measures one policy decision with the shipped policies,
// hard-deny checks included, and reports the 99th percentile.
func BenchmarkDecide(b *testing.B) {
	set, err := Compile(nil)
	if err != nil {
		b.Fatal(err)
	}
	k := New(set, Protected{Home: "/home/u", NoemaHome: "/home/u/.local/share/noema", Sealed: []string{"/home/u/.local/share/noema/evidence"}}, nil)
	in := benchInput()
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		t0 := time.Now()
		d := k.Decide(in)
		lat = append(lat, time.Since(t0))
		if d.Effect != Allow {
			b.Fatalf("decision %s %v", d.Effect, d.Reasons)
		}
	}
	b.StopTimer()
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
	b.ReportMetric(float64(lat[len(lat)/2].Nanoseconds())/1000, "p50-µs")
}
