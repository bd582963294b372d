package objfs

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

	"github.com/noema-project/noema/objfs/search"
)

// Embedder turns texts into neural embeddings. It is optional: without one
// the store ranks with BM25, RM3 and LSI alone.
type Embedder interface {
	// Model names the model; stored embeddings from another model are
	// ignored.
	Model() string
	// Embed returns one vector per text.
	Embed(ctx context.Context, texts []string) ([][]float32, error)
}

// HTTPEmbedder calls a local model server: Ollama's /api/embed, or an
// OpenAI-compatible /v1/embeddings when URL ends in /v1.
type HTTPEmbedder struct {
	URL    string
	Name   string
	Client *http.Client
}

// NewHTTPEmbedder returns an embedder for url and model, or nil when
// either is empty (no embeddings configured).
func NewHTTPEmbedder(url, model string) *HTTPEmbedder {
	if url == "" || model == "" {
		return nil
	}
	return &HTTPEmbedder{URL: strings.TrimSuffix(url, "/"), Name: model, Client: &http.Client{Timeout: 60 * time.Second}}
}

// Model implements Embedder.
func (e *HTTPEmbedder) Model() string { return e.Name }

// maxEmbedBytes is how much of a document is embedded: the beginning
// carries the topic, and local models have short contexts.
const maxEmbedBytes = 4000

// maxEmbedResponse bounds a server's answer.
const maxEmbedResponse = 64 << 20

// Embed implements Embedder.
func (e *HTTPEmbedder) Embed(ctx context.Context, texts []string) ([][]float32, error) {
	in := make([]string, len(texts))
	for i, t := range texts {
		in[i] = truncateUTF8(t, maxEmbedBytes)
	}
	openai := strings.HasSuffix(e.URL, "/v1")
	url := e.URL + "/api/embed"
	if openai {
		url = e.URL + "/embeddings"
	}
	body, err := json.Marshal(map[string]any{"model": e.Name, "input": in})
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("embed: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := e.Client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("embed with %s: %w", e.Name, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxEmbedResponse))
	if err != nil {
		return nil, fmt.Errorf("embed with %s: %w", e.Name, err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("embed with %s: server answered %s", e.Name, resp.Status)
	}
	vecs, err := parseEmbeddings(data, openai)
	if err != nil {
		return nil, fmt.Errorf("embed with %s: %w", e.Name, err)
	}
	if len(vecs) != len(texts) {
		return nil, fmt.Errorf("embed with %s: %d embeddings for %d texts", e.Name, len(vecs), len(texts))
	}
	return vecs, nil
}

// parseEmbeddings reads an Ollama or OpenAI-style answer; every vector
// must be non-empty, finite and of one length, and is scaled to unit
// length.
func parseEmbeddings(data []byte, openai bool) ([][]float32, error) {
	var vecs [][]float32
	if openai {
		var r struct {
			Data []struct {
				Embedding []float32 `json:"embedding"`
			} `json:"data"`
		}
		if err := json.Unmarshal(data, &r); err != nil {
			return nil, fmt.Errorf("bad answer: %w", err)
		}
		for _, d := range r.Data {
			vecs = append(vecs, d.Embedding)
		}
	} else {
		var r struct {
			Embeddings [][]float32 `json:"embeddings"`
		}
		if err := json.Unmarshal(data, &r); err != nil {
			return nil, fmt.Errorf("bad answer: %w", err)
		}
		vecs = r.Embeddings
	}
	for i, v := range vecs {
		if len(v) == 0 || len(v) != len(vecs[0]) || len(v) > 1<<14 {
			return nil, errors.New("embeddings of unequal or zero length")
		}
		if !search.Normalize(v) {
			return nil, fmt.Errorf("embedding %d is zero or not finite", i)
		}
	}
	return vecs, nil
}

func truncateUTF8(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && n < len(s) && (s[n]&0xc0) == 0x80 {
		n--
	}
	return s[:n]
}
