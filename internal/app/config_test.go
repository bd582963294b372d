package app

import (
	"strings"
	"testing"
	"time"
)

func TestParseConfig(t *testing.T) {
	var c Config
	err := ParseConfig("c.toml", []byte("[llm]\nurl = \"http://127.0.0.1:11434\"\nmodel = \"qwen3\"\n[approval]\nttl = \"2m\"\n"), &c)
	if err != nil || c.LLM.Model != "qwen3" || time.Duration(c.Approval.TTL) != 2*time.Minute {
		t.Fatalf("%v %+v", err, c)
	}
	for _, bad := range []string{"[llm]\nmodle = \"x\"\n", "[approval]\nttl = \"soon\"\n", "[[[", "[evidence]\nsegment_mb = -1\n"} {
		var c Config
		err := ParseConfig("c.toml", []byte(bad), &c)
		if err == nil || !strings.HasPrefix(err.Error(), "c.toml") {
			t.Errorf("%q: %v", bad, err)
		}
	}
}

func FuzzParseConfig(f *testing.F) {
	f.Add("[llm]\nurl = \"x\"\n")
	f.Add("[approval]\nttl = \"5m\"\n[evidence]\nsegment_mb = 4\n")
	f.Fuzz(func(t *testing.T, s string) {
		var c Config
		ParseConfig("f.toml", []byte(s), &c)
	})
}
