package llm

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
)

type oaiToolCall struct {
	ID       string `json:"id,omitempty"`
	Type     string `json:"type"`
	Function struct {
		Name      string `json:"name"`
		Arguments string `json:"arguments"`
	} `json:"function"`
}

type oaiMessage struct {
	Role       string        `json:"role"`
	Content    *string       `json:"content"`
	ToolCalls  []oaiToolCall `json:"tool_calls,omitempty"`
	ToolCallID string        `json:"tool_call_id,omitempty"`
}

type oaiRequest struct {
	Model          string         `json:"model"`
	Messages       []oaiMessage   `json:"messages"`
	Tools          []ollamaTool   `json:"tools,omitempty"`
	ToolChoice     string         `json:"tool_choice,omitempty"`
	ResponseFormat map[string]any `json:"response_format,omitempty"`
	Temperature    float64        `json:"temperature"`
}

type oaiResponse struct {
	Choices []struct {
		Message oaiMessage `json:"message"`
	} `json:"choices"`
	Error *struct {
		Message string `json:"message"`
	} `json:"error"`
}

func (c *Client) chatOpenAI(ctx context.Context, req Request) (Reply, error) {
	body := oaiRequest{Model: c.cfg.Model}
	for i, m := range req.Messages {
		content := m.Content
		om := oaiMessage{Role: m.Role, Content: &content}
		for j, tc := range m.ToolCalls {
			var oc oaiToolCall
			oc.ID, oc.Type = fmt.Sprintf("call_%d_%d", i, j), "function"
			oc.Function.Name, oc.Function.Arguments = tc.Name, string(tc.Arguments)
			om.ToolCalls = append(om.ToolCalls, oc)
		}
		body.Messages = append(body.Messages, om)
	}
	for _, t := range req.Tools {
		body.Tools = append(body.Tools, ollamaTool{Type: "function", Function: t})
	}
	if len(req.Tools) > 0 {
		body.ToolChoice = "auto"
	}
	if req.Format != nil {
		body.ResponseFormat = map[string]any{"type": "json_schema", "json_schema": map[string]any{"name": "plan", "schema": req.Format, "strict": true}}
	}
	status, data, err := c.post(ctx, "/chat/completions", body)
	if err != nil {
		return Reply{}, err
	}
	return decodeOpenAI(status, data)
}

// decodeOpenAI reads a /v1/chat/completions reply; it is outside input.
func decodeOpenAI(status int, data []byte) (Reply, error) {
	var r oaiResponse
	if err := json.Unmarshal(data, &r); err != nil {
		return Reply{}, fmt.Errorf("chat completion (HTTP %d) is not JSON: %w", status, err)
	}
	if status != http.StatusOK || r.Error != nil {
		msg := ""
		if r.Error != nil {
			msg = r.Error.Message
		}
		low := strings.ToLower(msg)
		if strings.Contains(low, "tool") && (strings.Contains(low, "not support") || strings.Contains(low, "unsupported")) {
			return Reply{}, ErrNoTools
		}
		if status >= 500 || status == http.StatusNotFound {
			return Reply{}, fmt.Errorf("%w: HTTP %d: %s", ErrUnavailable, status, msg)
		}
		return Reply{}, fmt.Errorf("chat completion: HTTP %d: %s", status, msg)
	}
	if len(r.Choices) == 0 {
		return Reply{}, fmt.Errorf("chat completion has no choices")
	}
	m := r.Choices[0].Message
	out := Reply{}
	if m.Content != nil {
		out.Content = *m.Content
	}
	for _, tc := range m.ToolCalls {
		out.ToolCalls = append(out.ToolCalls, ToolCall{Name: tc.Function.Name, Arguments: json.RawMessage(tc.Function.Arguments)})
	}
	return out, nil
}
