// Package llm talks to a local language model server with the two wire
// formats people run: Ollama's /api/chat and the OpenAI-compatible
// /v1/chat/completions (llama.cpp server, vLLM, LM Studio, …). It offers
// the catalog as native tools, falls back to JSON-schema-constrained output
// for models without tool support, and treats everything the model says as
// untrusted input: replies are bounded, decoded strictly and never acted on
// here. A circuit breaker keeps a dead server from slowing every request.
package llm

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// Config selects a server and a model.
type Config struct {
	// URL is an Ollama base URL (http://127.0.0.1:11434) or an
	// OpenAI-compatible one ending in /v1.
	URL   string
	Model string
	// APIKey is sent as a bearer token to OpenAI-compatible servers.
	APIKey  string
	Timeout time.Duration
}

// Wire says which protocol a URL speaks.
type Wire int

const (
	Ollama Wire = iota
	OpenAI
)

// WireOf infers the protocol: a URL ending in /v1 is OpenAI-compatible.
func WireOf(url string) Wire {
	if strings.HasSuffix(strings.TrimRight(url, "/"), "/v1") {
		return OpenAI
	}
	return Ollama
}

// Tool is one function the model may call.
type Tool struct {
	Name        string          `json:"name"`
	Description string          `json:"description"`
	Parameters  json.RawMessage `json:"parameters"`
}

// Message is one chat turn.
type Message struct {
	Role    string `json:"role"` // system, user, assistant, tool
	Content string `json:"content"`
	// ToolCalls echoes an assistant's calls back in a repair round.
	ToolCalls []ToolCall `json:"-"`
}

// ToolCall is a call the model asked for. Arguments are raw: the caller
// validates them against the action's schema.
type ToolCall struct {
	Name      string
	Arguments json.RawMessage
}

// Request is one chat completion.
type Request struct {
	Messages []Message
	Tools    []Tool
	// Format, when set, asks for JSON matching this schema instead of
	// tool calls (for models without tools).
	Format json.RawMessage
}

// Reply is what the model returned.
type Reply struct {
	Content   string
	ToolCalls []ToolCall
}

// ErrNoTools means the model does not support tool calling.
var ErrNoTools = errors.New("model does not support tools")

// ErrUnavailable wraps failures to reach the server.
var ErrUnavailable = errors.New("language model unavailable")

// maxReply bounds what is read from a server.
const maxReply = 4 << 20

// Client is a chat client for one server and model.
type Client struct {
	cfg  Config
	wire Wire
	http *http.Client
}

// New returns a client.
func New(cfg Config) (*Client, error) {
	if cfg.URL == "" || cfg.Model == "" {
		return nil, errors.New("llm: URL and model are required")
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 60 * time.Second
	}
	return &Client{cfg: cfg, wire: WireOf(cfg.URL), http: &http.Client{Timeout: cfg.Timeout}}, nil
}

// Model names the model.
func (c *Client) Model() string { return c.cfg.Model }

// URL is the server.
func (c *Client) URL() string { return c.cfg.URL }

// Chat sends one request.
func (c *Client) Chat(ctx context.Context, req Request) (Reply, error) {
	if c.wire == OpenAI {
		return c.chatOpenAI(ctx, req)
	}
	return c.chatOllama(ctx, req)
}

// unavailable wraps transport failures so callers can fall back offline.
func unavailable(url string, err error) error {
	return fmt.Errorf("%w at %s: %v", ErrUnavailable, url, err)
}

// post sends body as JSON to path on the server and returns the status
// and at most maxReply bytes of the answer. Transport failures are
// ErrUnavailable, so callers fall back to offline understanding.
func (c *Client) post(ctx context.Context, path string, body any) (int, []byte, error) {
	raw, err := json.Marshal(body)
	if err != nil {
		return 0, nil, err
	}
	url := strings.TrimRight(c.cfg.URL, "/") + path
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(raw))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	if c.cfg.APIKey != "" && c.wire == OpenAI {
		req.Header.Set("Authorization", "Bearer "+c.cfg.APIKey)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, nil, unavailable(c.cfg.URL, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxReply))
	if err != nil {
		return 0, nil, unavailable(c.cfg.URL, err)
	}
	return resp.StatusCode, data, nil
}
