package action

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// ParseArgs turns command-line key=value arguments into a target object,
// typed by the action's schema: integers, numbers and booleans are parsed
// as such, array fields collect repeated keys (argv=ls argv=-l), and
// key:=JSON passes a raw JSON value. Everything else is a string.
func ParseArgs(schema json.RawMessage, args []string) (json.RawMessage, error) {
	types := propertyTypes(schema)
	out := map[string]any{}
	for _, a := range args {
		raw := false
		k, v, ok := strings.Cut(a, ":=")
		if ok && !strings.Contains(k, "=") {
			raw = true
		} else if k, v, ok = strings.Cut(a, "="); !ok {
			return nil, fmt.Errorf("argument %q: want key=value or key:=json", a)
		}
		if k == "" || strings.ContainsAny(k, " \t\n\x00") {
			return nil, fmt.Errorf("argument %q: bad key", a)
		}
		if raw {
			var val any
			if err := json.Unmarshal([]byte(v), &val); err != nil {
				return nil, fmt.Errorf("argument %s: %w", k, err)
			}
			out[k] = val
			continue
		}
		val, err := typed(k, v, types[k])
		if err != nil {
			return nil, err
		}
		if types[k] == "array" {
			prev, _ := out[k].([]any)
			out[k] = append(prev, val)
			continue
		}
		if _, dup := out[k]; dup {
			return nil, fmt.Errorf("argument %s given twice", k)
		}
		out[k] = val
	}
	b, err := json.Marshal(out)
	if err != nil {
		return nil, err
	}
	return b, nil
}

func typed(k, v, typ string) (any, error) {
	switch typ {
	case "integer":
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("argument %s: %q is not an integer", k, v)
		}
		return n, nil
	case "number":
		f, err := strconv.ParseFloat(v, 64)
		if err != nil {
			return nil, fmt.Errorf("argument %s: %q is not a number", k, v)
		}
		return f, nil
	case "boolean":
		switch strings.ToLower(v) {
		case "true", "yes", "on", "1":
			return true, nil
		case "false", "no", "off", "0":
			return false, nil
		}
		return nil, fmt.Errorf("argument %s: %q is not true or false", k, v)
	}
	return v, nil
}

// propertyTypes reads the top-level property types of an object schema,
// including those declared in oneOf/anyOf branches.
func propertyTypes(schema json.RawMessage) map[string]string {
	type node struct {
		Properties map[string]struct {
			Type any `json:"type"`
		} `json:"properties"`
		OneOf []json.RawMessage `json:"oneOf"`
		AnyOf []json.RawMessage `json:"anyOf"`
	}
	out := map[string]string{}
	var walk func(json.RawMessage, int)
	walk = func(raw json.RawMessage, depth int) {
		var n node
		if depth > 4 || json.Unmarshal(raw, &n) != nil {
			return
		}
		for k, p := range n.Properties {
			switch t := p.Type.(type) {
			case string:
				out[k] = t
			case []any:
				if len(t) > 0 {
					out[k], _ = t[0].(string)
				}
			}
		}
		for _, b := range append(n.OneOf, n.AnyOf...) {
			walk(b, depth+1)
		}
	}
	walk(schema, 0)
	return out
}
