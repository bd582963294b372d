package evidence

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
)

// Redacted replaces a secret in evidence.
const Redacted = "[REDACTED]"

// secretKey matches object keys whose values are secrets whatever they look
// like. Keys are compared lower-cased with '-' and '_' removed.
var secretKeyParts = []string{
	"password", "passwd", "passphrase", "secret", "token", "apikey", "privatekey",
	"authorization", "cookie", "credential", "sessionid", "accesskey", "pin",
}

// secretPatterns match secrets embedded in free text. Each is replaced in
// place so the rest of the text stays readable.
var secretPatterns = []*regexp.Regexp{
	regexp.MustCompile(`-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----[\s\S]*?(-----END [A-Z0-9 ]*PRIVATE KEY-----|$)`),
	regexp.MustCompile(`PRIVATE\+KEY\+[^\s"]+`),
	regexp.MustCompile(`(?i)\bbearer\s+[A-Za-z0-9._~+/=-]{8,}`),
	regexp.MustCompile(`\bAKIA[0-9A-Z]{16}\b`),
	regexp.MustCompile(`\bsk-[A-Za-z0-9_-]{20,}`),
	regexp.MustCompile(`\bgh[pousr]_[A-Za-z0-9]{30,}`),
	regexp.MustCompile(`\bxox[abprs]-[A-Za-z0-9-]{10,}`),
	regexp.MustCompile(`\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}`),
	regexp.MustCompile(`(?i)((?:password|passwd|pwd|secret|token|api[_-]?key)\s*[=:]\s*)[^\s&"',;]+`),
	regexp.MustCompile(`(://[^/\s:@]+:)[^@\s/]+@`),
}

const maxRedactDepth = 64

// Redact returns data with secrets replaced by [REDACTED]. It refuses what
// it cannot inspect (data that is not JSON, or nested too deep), so that a
// secret never reaches the log because redaction was skipped.
func Redact(data json.RawMessage) (json.RawMessage, int, error) {
	if len(data) == 0 {
		return data, 0, nil
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, 0, fmt.Errorf("redact: data is not JSON: %w", err)
	}
	if dec.More() {
		return nil, 0, errors.New("redact: trailing data after JSON value")
	}
	n := 0
	v, err := redactValue(v, 0, &n)
	if err != nil {
		return nil, 0, err
	}
	if n == 0 {
		return data, 0, nil
	}
	out, err := json.Marshal(v)
	if err != nil {
		return nil, 0, fmt.Errorf("redact: %w", err)
	}
	return out, n, nil
}

func redactValue(v any, depth int, n *int) (any, error) {
	if depth > maxRedactDepth {
		return nil, errors.New("redact: data nested too deeply to inspect")
	}
	switch t := v.(type) {
	case map[string]any:
		for k, child := range t {
			if isSecretKey(k) {
				if s, ok := child.(string); ok && (s == "" || s == Redacted) {
					continue
				}
				if !mayHoldSecret(k, child) {
					continue
				}
				t[k] = Redacted
				*n++
				continue
			}
			r, err := redactValue(child, depth+1, n)
			if err != nil {
				return nil, err
			}
			t[k] = r
		}
		return t, nil
	case []any:
		for i, child := range t {
			r, err := redactValue(child, depth+1, n)
			if err != nil {
				return nil, err
			}
			t[i] = r
		}
		return t, nil
	case string:
		return RedactString(t, n), nil
	default:
		return v, nil
	}
}

// RedactString replaces secrets found in free text and counts them in n.
func RedactString(s string, n *int) string {
	for _, re := range secretPatterns {
		if !re.MatchString(s) {
			continue
		}
		s = re.ReplaceAllStringFunc(s, func(m string) string {
			*n++
			sub := re.FindStringSubmatch(m)
			if len(sub) > 1 && sub[1] != "" && strings.HasPrefix(m, sub[1]) && !strings.HasPrefix(sub[1], "-----END") {
				// Keep the label ("password=", "://user:") and hide the value.
				if strings.HasPrefix(sub[1], "://") {
					return sub[1] + Redacted + "@"
				}
				return sub[1] + Redacted
			}
			return Redacted
		})
	}
	return s
}

// mayHoldSecret keeps values under secret-looking keys that cannot be
// secrets: nulls, booleans ("token_valid") and counters ("prompt_tokens").
func mayHoldSecret(k string, v any) bool {
	switch v.(type) {
	case nil, bool:
		return false
	case json.Number:
		lk := strings.ToLower(k)
		return !strings.HasSuffix(lk, "tokens") && !strings.HasSuffix(lk, "count")
	}
	return true
}

func isSecretKey(k string) bool {
	k = strings.ToLower(k)
	k = strings.NewReplacer("_", "", "-", "", ".", "").Replace(k)
	for _, p := range secretKeyParts {
		if p == "pin" {
			if k == "pin" {
				return true
			}
			continue
		}
		if strings.Contains(k, p) {
			return true
		}
	}
	return false
}
