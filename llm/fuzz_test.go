package llm

import (
	"encoding/json"
	"testing"
)

// FuzzDecodeReplies feeds hostile server answers to both wire decoders:
// they must return an error or a reply, never panic, and tool-call
// arguments must come back as raw bytes for the caller to validate.
func FuzzDecodeReplies(f *testing.F) {
	f.Add(200, []byte(`{"message":{"role":"assistant","content":"","tool_calls":[{"function":{"name":"desktop_theme_set","arguments":{"mode":"dark"}}}]}}`))
	f.Add(200, []byte(`{"message":{"tool_calls":[{"function":{"name":"x","arguments":"{\"a\":1}"}}]}}`))
	f.Add(400, []byte(`{"error":"model does not support tools"}`))
	f.Add(200, []byte(`{"choices":[{"message":{"content":null,"tool_calls":[{"type":"function","function":{"name":"fs_delete","arguments":"{\"path\":\"/\"}"}}]}}]}`))
	f.Add(500, []byte(`{"error":{"message":"boom"}}`))
	f.Add(200, []byte(`{"choices":[]}`))
	f.Fuzz(func(t *testing.T, status int, data []byte) {
		for _, decode := range []func(int, []byte) (Reply, error){decodeOllama, decodeOpenAI} {
			r, err := decode(status, data)
			if err != nil {
				continue
			}
			for _, c := range r.ToolCalls {
				_ = json.Valid(c.Arguments)
			}
		}
	})
}
