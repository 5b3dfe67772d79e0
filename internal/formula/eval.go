package formula

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Env resolves the first name of a reference (a block's name, a
// variable's name) and tells the facts functions need.
type Env interface {
	// Lookup returns the value a reference's root name stands for.
	Lookup(name string) (any, bool)
	// Now is the current time.
	Now() time.Time
	// Location is the timezone dates are shown in when none is given.
	Location() *time.Location
	// RunID is the current run's id ({jobguid}).
	RunID() string
}

// Eval evaluates the template. A value that is exactly one formula keeps
// its type; otherwise every part becomes text and they are joined.
func (t *Template) Eval(env Env) (any, error) {
	if t.whole {
		return eval(t.parts[0], env)
	}
	if len(t.parts) == 1 {
		if s, ok := t.parts[0].(text); ok {
			return string(s), nil
		}
	}
	return join(t.parts, env)
}

// join evaluates nodes and joins them as text.
func join(nodes []node, env Env) (any, error) {
	var b strings.Builder
	for _, n := range nodes {
		v, err := eval(n, env)
		if err != nil {
			return nil, err
		}
		b.WriteString(String(v))
	}
	return b.String(), nil
}

// EvalString parses and evaluates s in one go.
func EvalString(s string, env Env) (any, error) {
	t, err := Parse(s)
	if err != nil {
		return nil, err
	}
	return t.Eval(env)
}

func eval(n node, env Env) (any, error) {
	switch n := n.(type) {
	case text:
		return string(n), nil
	case str:
		return string(n), nil
	case *ref:
		return n.resolve(env), nil
	case *call:
		return evalCall(n, env)
	case *arg:
		return evalArg(*n, env)
	}
	return nil, fmt.Errorf("formula: unknown node %T", n)
}

// evalArg evaluates an argument: one term keeps its type, several are
// joined as text.
func evalArg(a arg, env Env) (any, error) {
	switch len(a.terms) {
	case 0:
		return "", nil
	case 1:
		return eval(a.terms[0], env)
	}
	return join(a.terms, env)
}

func (r *ref) resolve(env Env) any {
	root, ok := env.Lookup(r.path[0].key)
	if !ok {
		return nil
	}
	return walk(root, r.path[1:])
}

// walk follows a path into a value. Missing keys give nil; [*] maps the
// rest of the path over every item of a list.
func walk(v any, path []seg) any {
	for i, s := range path {
		switch s.kind {
		case segKey:
			switch m := v.(type) {
			case map[string]any:
				v = m[s.key]
			case []any:
				// {$.list.field} on a list reads the field of every item, as Qlik does.
				out := make([]any, len(m))
				for j, item := range m {
					out[j] = walk(item, path[i:i+1])
				}
				v = out
			default:
				return nil
			}
		case segIndex:
			l, ok := v.([]any)
			if !ok {
				return nil
			}
			idx := s.index
			if idx < 0 {
				idx += len(l)
			}
			if idx < 0 || idx >= len(l) {
				return nil
			}
			v = l[idx]
		case segAll:
			l, ok := v.([]any)
			if !ok {
				return nil
			}
			out := make([]any, len(l))
			for j, item := range l {
				out[j] = walk(item, path[i+1:])
			}
			return out
		}
	}
	return v
}

// String is how a value shows inside text: nil is empty, numbers without
// needless decimals, lists and objects as JSON.
func String(v any) string {
	switch v := v.(type) {
	case nil:
		return ""
	case string:
		return v
	case bool:
		return strconv.FormatBool(v)
	case float64:
		return formatFloat(v)
	case int:
		return strconv.Itoa(v)
	case int64:
		return strconv.FormatInt(v, 10)
	case json.Number:
		return v.String()
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

func formatFloat(f float64) string {
	if f == math.Trunc(f) && math.Abs(f) < 1e15 {
		return strconv.FormatInt(int64(f), 10)
	}
	return strconv.FormatFloat(f, 'f', -1, 64)
}

// Number reads a value as a number: numbers, and text that holds one.
func Number(v any) (float64, bool) {
	switch v := v.(type) {
	case float64:
		return v, true
	case int:
		return float64(v), true
	case int64:
		return float64(v), true
	case json.Number:
		f, err := v.Float64()
		return f, err == nil
	case string:
		f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
		return f, err == nil && !math.IsNaN(f) && !math.IsInf(f, 0)
	case bool:
		if v {
			return 1, true
		}
		return 0, true
	}
	return 0, false
}

// Truthy is how a value reads as a condition.
func Truthy(v any) bool {
	switch v := v.(type) {
	case nil:
		return false
	case bool:
		return v
	case string:
		s := strings.ToLower(strings.TrimSpace(v))
		return s != "" && s != "false" && s != "0" && s != "no"
	case []any:
		return len(v) > 0
	case map[string]any:
		return len(v) > 0
	}
	f, ok := Number(v)
	return !ok || f != 0
}
