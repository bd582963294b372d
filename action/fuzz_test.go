package action

import (
	"encoding/json"
	"strings"
	"testing"
)

func FuzzDecodeDraft(f *testing.F) {
	f.Add([]byte(`{"action":"desktop.theme.set","target":{"mode":"dark"}}`))
	f.Add([]byte(`{"action":"fs.write","target":{"path":"/tmp/x","content":"y"},"idempotency_key":"k"}`))
	f.Add([]byte(`{"action":"desktop.theme.set","subject":{"kind":"human"}}`))
	f.Add([]byte(`{"action":"a.b","verification":{"all":[{"probe":"file.exists","args":{"path":"/"}}]}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		d, err := DecodeDraft(data)
		if err != nil {
			return
		}
		if !namePattern.MatchString(d.Action) {
			t.Fatalf("accepted bad action name %q", d.Action)
		}
		if strings.Contains(string(data), `"subject"`) && strings.Contains(string(data), `"kind"`) {
			// A draft can never smuggle a subject; if one decoded, the
			// field must have been a string value elsewhere.
			var probe map[string]json.RawMessage
			if json.Unmarshal(data, &probe) == nil {
				if _, has := probe["subject"]; has {
					t.Fatal("draft with a subject field was accepted")
				}
			}
		}
	})
}

func FuzzParseArgs(f *testing.F) {
	schema := json.RawMessage(`{"type":"object","properties":{"percent":{"type":"integer"},"enabled":{"type":"boolean"},"argv":{"type":"array"},"ratio":{"type":"number"}}}`)
	f.Add("percent=20\x00enabled=yes\x00argv=ls\x00argv=-l")
	f.Add("x:={\"a\":1}\x00ratio=0.5")
	f.Add("=\x00a==b\x00c:=")
	f.Fuzz(func(t *testing.T, joined string) {
		args := strings.Split(joined, "\x00")
		out, err := ParseArgs(schema, args)
		if err != nil {
			return
		}
		var m map[string]any
		if err := json.Unmarshal(out, &m); err != nil {
			t.Fatalf("output is not a JSON object: %s", out)
		}
	})
}
