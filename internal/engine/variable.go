package engine

import (
	"maps"
	"strconv"

	"automate/internal/formula"
	"automate/internal/workspace"
)

// variable applies a VariableBlock's operations in order; its output is
// the variable's new value.
func (e *Engine) variable(b *workspace.Block, in map[string]any) (any, error) {
	v := e.ws.Variable(b.VariableGUID)
	if v == nil {
		return nil, failf("variable %s does not exist", b.VariableGUID)
	}
	cur := e.state.Variables[v.Name]
	for i, op := range b.Operations {
		val, err := e.resolve(op.Value)
		if err != nil {
			return nil, err
		}
		if in != nil {
			in[op.ID+"#"+strconv.Itoa(i)] = val
		}
		if cur, err = applyOperation(v.Type, cur, op.ID, val); err != nil {
			return nil, err
		}
	}
	e.state.Variables[v.Name] = cur
	return cur, nil
}

func applyOperation(typ string, cur any, op string, val any) (any, error) {
	if op == "empty" {
		if typ == "number" {
			return nil, failf("a number variable cannot be emptied")
		}
		return zeroValue(typ), nil
	}
	switch typ {
	case "string":
		switch op {
		case "set_value":
			return formula.String(val), nil
		case "append":
			return formula.String(cur) + formula.String(val), nil
		}
	case "number":
		n, ok := formula.Number(val)
		if !ok {
			return nil, failf("%q is not a number", formula.String(val))
		}
		c, _ := formula.Number(cur)
		switch op {
		case "set_value":
			return n, nil
		case "add":
			return c + n, nil
		case "subtract":
			return c - n, nil
		case "multiply":
			return c * n, nil
		case "divide":
			if n == 0 {
				return nil, failf("division by zero")
			}
			return c / n, nil
		}
	case "list":
		l := listCopy(cur)
		switch op {
		case "add_item":
			return append(l, val), nil
		case "merge":
			return append(l, listOf(val)...), nil
		}
	case "table":
		if op == "add_row" {
			return append(listCopy(cur), val), nil
		}
	case "object":
		obj, _ := cur.(map[string]any)
		obj = maps.Clone(obj)
		if obj == nil {
			obj = map[string]any{}
		}
		arg, _ := val.(map[string]any)
		switch op {
		case "set":
			if arg == nil {
				return nil, failf("set takes an object")
			}
			return maps.Clone(arg), nil
		case "merge":
			if arg == nil {
				return nil, failf("merge takes an object")
			}
			maps.Copy(obj, arg)
			return obj, nil
		case "set_key_value":
			if arg == nil || formula.String(arg["key"]) == "" {
				return nil, failf("set_key_value takes {key, value}")
			}
			obj[formula.String(arg["key"])] = arg["value"]
			return obj, nil
		case "rename_key":
			from, to := formula.String(first(arg, "key", "from", "oldKey")), formula.String(first(arg, "newKey", "to", "value"))
			if from == "" || to == "" {
				return nil, failf("rename_key takes {key, newKey}")
			}
			if x, ok := obj[from]; ok {
				delete(obj, from)
				obj[to] = x
			}
			return obj, nil
		case "remove_key":
			key := formula.String(val)
			if arg != nil {
				key = formula.String(arg["key"])
			}
			delete(obj, key)
			return obj, nil
		}
	}
	return nil, failf("operation %q does not apply to a %s variable", op, typ)
}

func first(m map[string]any, keys ...string) any {
	for _, k := range keys {
		if v, ok := m[k]; ok {
			return v
		}
	}
	return nil
}

func listCopy(v any) []any {
	l, _ := v.([]any)
	out := make([]any, len(l), len(l)+1)
	copy(out, l)
	return out
}
