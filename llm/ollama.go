package llm

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
)

type ollamaTool struct {
	Type     string `json:"type"`
	Function Tool   `json:"function"`
}

type ollamaCall struct {
	Function struct {
		Name      string          `json:"name"`
		Arguments json.RawMessage `json:"arguments"`
	} `json:"function"`
}

type ollamaMessage struct {
	Role      string       `json:"role"`
	Content   string       `json:"content"`
	ToolCalls []ollamaCall `json:"tool_calls,omitempty"`
}

type ollamaRequest struct {
	Model    string          `json:"model"`
	Messages []ollamaMessage `json:"messages"`
	Tools    []ollamaTool    `json:"tools,omitempty"`
	Format   json.RawMessage `json:"format,omitempty"`
	Stream   bool            `json:"stream"`
	Options  map[string]any  `json:"options,omitempty"`
}

type ollamaResponse struct {
	Message ollamaMessage `json:"message"`
	Error   string        `json:"error"`
}

func (c *Client) chatOllama(ctx context.Context, req Request) (Reply, error) {
	body := ollamaRequest{Model: c.cfg.Model, Stream: false, Format: req.Format, Options: map[string]any{"temperature": 0}}
	for _, m := range req.Messages {
		om := ollamaMessage{Role: m.Role, Content: m.Content}
		for _, tc := range m.ToolCalls {
			var oc ollamaCall
			oc.Function.Name, oc.Function.Arguments = tc.Name, tc.Arguments
			om.ToolCalls = append(om.ToolCalls, oc)
		}
		body.Messages = append(body.Messages, om)
	}
	for _, t := range req.Tools {
		body.Tools = append(body.Tools, ollamaTool{Type: "function", Function: t})
	}
	status, data, err := c.post(ctx, "/api/chat", body)
	if err != nil {
		return Reply{}, err
	}
	return decodeOllama(status, data)
}

// decodeOllama reads an /api/chat reply; it is outside input.
func decodeOllama(status int, data []byte) (Reply, error) {
	var r ollamaResponse
	if err := json.Unmarshal(data, &r); err != nil {
		return Reply{}, fmt.Errorf("ollama reply (HTTP %d) is not JSON: %w", status, err)
	}
	if status != http.StatusOK || r.Error != "" {
		if strings.Contains(r.Error, "does not support tools") {
			return Reply{}, ErrNoTools
		}
		if status >= 500 || status == http.StatusNotFound {
			return Reply{}, fmt.Errorf("%w: HTTP %d: %s", ErrUnavailable, status, r.Error)
		}
		return Reply{}, fmt.Errorf("ollama: HTTP %d: %s", status, r.Error)
	}
	out := Reply{Content: r.Message.Content}
	for _, tc := range r.Message.ToolCalls {
		args := tc.Function.Arguments
		// Some servers send arguments as a JSON string of JSON.
		var s string
		if json.Unmarshal(args, &s) == nil {
			args = json.RawMessage(s)
		}
		out.ToolCalls = append(out.ToolCalls, ToolCall{Name: tc.Function.Name, Arguments: args})
	}
	return out, nil
}
