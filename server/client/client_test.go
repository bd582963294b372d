package client

import (
	"errors"
	"strings"
	"testing"
)

func TestReadEvents(t *testing.T) {
	stream := "retry: 2000\n: comment\n\nid: 7\nevent: record\ndata: {\"seq\":7,\"id\":\"ev_1\",\"type\":\"t\"}\n\n" +
		"event: reset\ndata: {\"reason\":\"x\"}\n\ndata: a\ndata: b\n\n"
	var got []Event
	if err := readEvents(strings.NewReader(stream), func(e Event) error { got = append(got, e); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 || got[0].Record == nil || got[0].Record.Seq != 7 || got[0].ID != "7" || got[1].Type != "reset" || got[2].Type != "message" || got[2].Data != "a\nb" {
		t.Fatalf("%+v", got)
	}
	stop := errors.New("stop")
	err := readEvents(strings.NewReader(stream), func(Event) error { return stop })
	var se *stopError
	if !errors.As(err, &se) || se.err != stop {
		t.Fatalf("stop: %v", err)
	}
	if err := readEvents(strings.NewReader("event: record\ndata: {\n\n"), func(Event) error { return nil }); err == nil {
		t.Fatal("bad record accepted")
	}
}

// FuzzReadEvents: whatever the stream holds, parsing ends without a panic.
func FuzzReadEvents(f *testing.F) {
	f.Add("id: 1\nevent: record\ndata: {\"seq\":1}\n\n")
	f.Add("data: x\r\n\r\n:\n\nevent\n\n")
	f.Fuzz(func(t *testing.T, s string) {
		readEvents(strings.NewReader(s), func(Event) error { return nil })
	})
}
