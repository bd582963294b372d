package main

import (
	"testing"
	"time"
)

func TestDebVersion(t *testing.T) {
	date := time.Date(2026, 1, 23, 12, 0, 0, 0, time.UTC)
	for in, want := range map[string]string{
		"v1.2.3":                  "1.2.3",
		"1.2.3":                   "1.2.3",
		"v1.2.3-rc1":              "1.2.3~rc1",
		"v1.2.3-rc.1-beta":        "1.2.3~rc.1.beta",
		"v1.2.3-4-gabc1234":       "1.2.3+git4.gabc1234",
		"v1.2.3-rc1-4-gabc1234":   "1.2.3~rc1+git4.gabc1234",
		"v1.2.3-dirty":            "1.2.3+dirty",
		"v1.2.3-4-gabc1234-dirty": "1.2.3+git4.gabc1234.dirty",
		"abc1234":                 "0.0~git20260123.abc1234",
		"abc1234-dirty":           "0.0~git20260123.abc1234+dirty",
	} {
		got, err := debVersion(in, date)
		if err != nil || got != want {
			t.Errorf("debVersion(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "dev", "release_1", "v1.2.3_x"} {
		if got, err := debVersion(bad, date); err == nil {
			t.Errorf("debVersion(%q) = %q, want an error", bad, got)
		}
	}
}
