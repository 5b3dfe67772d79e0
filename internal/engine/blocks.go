package engine

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"strconv"
	"time"

	"automate/internal/formula"
	"automate/internal/workspace"
)

// MaxJumps bounds GotoBlock jumps in one run.
const MaxJumps = 100_000

// resolve evaluates every formula inside a raw input value.
func (e *Engine) resolve(raw json.RawMessage) (any, error) {
	if len(raw) == 0 {
		return nil, nil
	}
	// Inputs are decoded once per run; resolveValue copies what it changes,
	// so the cached value is never modified.
	v, ok := e.decoded[string(raw)]
	if !ok {
		var err error
		if v, err = decodeJSON(raw); err != nil {
			return nil, failf("input is not valid JSON: %v", err)
		}
		e.decoded[string(raw)] = v
	}
	return e.resolveValue(v)
}

func (e *Engine) resolveValue(v any) (any, error) {
	switch v := v.(type) {
	case string:
		t, ok := e.templates[v]
		if !ok {
			var err error
			if t, err = formula.Parse(v); err != nil {
				return nil, failf("%v", err)
			}
			e.templates[v] = t
		}
		out, err := t.Eval(env{e})
		if err != nil {
			return nil, failf("%v", err)
		}
		return out, nil
	case []any:
		out := make([]any, len(v))
		for i, it := range v {
			r, err := e.resolveValue(it)
			if err != nil {
				return nil, err
			}
			out[i] = r
		}
		return out, nil
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, it := range v {
			r, err := e.resolveValue(it)
			if err != nil {
				return nil, err
			}
			out[k] = r
		}
		return out, nil
	}
	return v, nil
}

// input resolves one input by id; absent inputs are nil.
func (e *Engine) input(b *workspace.Block, id string, inputs map[string]any) (any, error) {
	raw, ok := b.Input(id)
	if !ok {
		return nil, nil
	}
	v, err := e.resolve(raw)
	if err != nil {
		return nil, fmt.Errorf("input %s: %w", id, err)
	}
	if inputs != nil {
		inputs[id] = v
	}
	return v, nil
}

// run executes one block: its resolved inputs (for the journal), its output.
func (e *Engine) run(ctx context.Context, b *workspace.Block) (map[string]any, any, error) {
	var in map[string]any // resolved inputs, kept only for the journal
	if e.opt.Journal != nil {
		in = map[string]any{}
	}
	s := e.state
	switch b.Type {
	case "StartBlock":
		return in, e.opt.Inputs, nil
	case "LabelBlock":
		return in, nil, nil
	case "ShowBlock":
		v, err := e.input(b, "input", in)
		if err != nil {
			return in, nil, err
		}
		e.show(v, b.SettingString("display_mode"))
		return in, v, nil
	case "VariableBlock":
		v, err := e.variable(b, in)
		return in, v, err
	case "IfElseBlock":
		c, err := e.input(b, "conditions", in)
		if err != nil {
			return in, nil, err
		}
		holds, err := conditionGroup(c)
		if err != nil {
			return in, nil, err
		}
		next := b.ChildFalseID
		if holds {
			next = b.ChildTrueID
		}
		if next != "" {
			s.push(Frame{Kind: frameChain, Next: next, Container: "if:" + b.ID + ":" + strconv.FormatBool(holds)})
		}
		return in, holds, nil
	case "CaseBlock":
		expr, err := e.input(b, "expression", in)
		if err != nil {
			return in, nil, err
		}
		st, err := e.input(b, "statements", in)
		if err != nil {
			return in, nil, err
		}
		statements, _ := st.([]any)
		next, matched, container := b.DefaultChildID, -1, "case:"+b.ID+":default"
		for i, stmt := range statements {
			if eq, _ := formula.Compare(expr, "=", stmt); eq {
				matched = i
				if i < len(b.StatementChildrenIDs) {
					next, container = b.StatementChildrenIDs[i], "case:"+b.ID+":"+strconv.Itoa(i)
				}
				break
			}
		}
		if next != "" {
			s.push(Frame{Kind: frameChain, Next: next, Container: container})
		}
		return in, float64(matched), nil
	case "ForEachBlock", "ForEachBatchBlock":
		v, err := e.input(b, "input", in)
		if err != nil {
			return in, nil, err
		}
		items := listOf(v)
		if b.Type == "ForEachBatchBlock" {
			size := 100.0
			if sv, err := e.input(b, "size", in); err == nil && sv != nil && sv != "" {
				n, ok := formula.Number(sv)
				if !ok || n < 1 {
					return in, nil, failf("batch size %q is not a positive number", formula.String(sv))
				}
				size = n
			}
			items = batches(items, int(size))
		}
		items = e.testRunLimit(items)
		if b.LoopBlockID != "" && len(items) > 0 {
			s.push(Frame{Kind: frameLoop, Owner: b.ID, Items: items})
		}
		return in, nil, nil
	case "ForEachBreakBlock":
		for i := len(s.Frames) - 1; i >= 0; i-- {
			if s.Frames[i].Kind == frameLoop {
				s.Frames = s.Frames[:i]
				return in, nil, nil
			}
		}
		return in, nil, failf("not inside a loop")
	case "GotoBlock":
		label := b.InputString("label")
		target := e.ws.Label(label)
		if target == nil {
			return in, nil, failf("no label %q", label)
		}
		s.Jumps++
		if s.Jumps > MaxJumps {
			return in, nil, &failRun{msg: fmt.Sprintf("more than %d jumps: an endless Goto loop?", MaxJumps)}
		}
		e.jump(target)
		return in, nil, nil
	case "SleepBlock":
		v, err := e.input(b, "time", in)
		if err != nil {
			return in, nil, err
		}
		secs := 5.0
		if v != nil && v != "" {
			n, ok := formula.Number(v)
			if !ok || n < 0 {
				return in, nil, failf("sleep time %q is not a number of seconds", formula.String(v))
			}
			secs = n
		}
		d := time.Duration(secs * float64(time.Second))
		if e.opt.ParkAfter > 0 && d >= e.opt.ParkAfter {
			// Park: the block is done, and Run stops after the checkpoint.
			s.WakeAt = e.opt.Clock.Now().Add(d)
			return in, nil, nil
		}
		if err := e.opt.Sleeper.Sleep(ctx, d); err != nil {
			return in, nil, err
		}
		return in, nil, nil
	case "StopBlock":
		return in, nil, errStopRun
	case "ErrorBlock":
		msg, err := e.input(b, "message", in)
		if err != nil {
			return in, nil, err
		}
		action, _ := e.input(b, "action", in)
		text := formula.String(msg)
		if text == "" {
			text = "error block " + b.Name
		}
		if formula.String(action) == "continue" {
			s.Errors = append(s.Errors, RunError{BlockID: b.ID, Name: b.Name, Message: text, Level: "warning"})
			s.Warned = true
			return in, nil, nil
		}
		return in, nil, &failRun{msg: text}
	case "UpdateJobBlock":
		v, err := e.input(b, "title", in)
		if err != nil {
			return in, nil, err
		}
		s.Title = formula.String(v)
		return in, s.Title, nil
	case "FilterListBlock", "LookupItemBlock", "LimitBlock", "DeduplicateListBlock", "CompareListsBlock",
		"MergeListsBlock", "ReplaceFieldNamesBlock", "TransformListBlock":
		out, err := e.listBlock(b, in)
		if err != nil {
			return in, nil, err
		}
		if items, ok := out.([]any); ok && b.Iterable() && b.LoopBlockID != "" && len(items) > 0 {
			s.push(Frame{Kind: frameLoop, Owner: b.ID, Items: e.testRunLimit(items)})
		}
		return in, out, nil
	case "CallWidgetBlock":
		out, err := e.callWidget(ctx, b, in)
		return in, out, err
	case "ListPointerBlock", "UpdatePointerBlock", "DeletePointerBlock":
		out, err := e.pointer(ctx, b, in)
		return in, out, err
	case "CompareObjectBlock":
		out, err := e.compareObject(b, in)
		return in, out, err
	case "CustomCodeBlock3":
		out, err := e.customCode(ctx, b, in)
		return in, out, err
	case "CallUrlBlock":
		out, err := e.callURL(ctx, b, in)
		return in, out, err
	case "EndpointBlock", "SnippetBlock":
		return in, nil, failf("connector %s is not available", b.DatasourceTypeGUID)
	}
	return in, nil, failf("block type %s is not supported yet", b.Type)
}

// testRunItems is how many items a test_run processes of a list.
const testRunItems = 3

// testRunLimit cuts the items a loop processes in the test_run context.
func (e *Engine) testRunLimit(items []any) []any {
	if e.opt.Context == "test_run" && len(items) > testRunItems {
		return items[:testRunItems]
	}
	return items
}

func listOf(v any) []any {
	switch v := v.(type) {
	case []any:
		return v
	case nil:
		return nil
	case string:
		if v == "" {
			return nil
		}
	}
	return []any{v}
}

func batches(items []any, size int) []any {
	var out []any
	for i := 0; i < len(items); i += size {
		out = append(out, items[i:min(i+size, len(items))])
	}
	return out
}

// show adds a value to the run output. add appends it; set makes it the
// only output; merge merges objects into the last object and lists into the
// output list.
func (e *Engine) show(v any, mode string) {
	s := e.state
	switch mode {
	case "set":
		s.Output = []any{v}
	case "merge":
		switch v := v.(type) {
		case map[string]any:
			if n := len(s.Output); n > 0 {
				if last, ok := s.Output[n-1].(map[string]any); ok {
					merged := maps.Clone(last)
					maps.Copy(merged, v)
					s.Output[n-1] = merged
					return
				}
			}
			s.Output = append(s.Output, v)
		case []any:
			s.Output = append(s.Output, v...)
		default:
			s.Output = append(s.Output, v)
		}
	default:
		s.Output = append(s.Output, v)
	}
}

// conditionGroup evaluates {mode: all|some, conditions: [{input1, operator, input2}]}.
func conditionGroup(v any) (bool, error) {
	g, ok := v.(map[string]any)
	if !ok {
		return false, failf("conditions must be an object with mode and conditions")
	}
	conds, _ := g["conditions"].([]any)
	some := g["mode"] == "some"
	if len(conds) == 0 {
		return false, failf("conditions is empty")
	}
	for _, c := range conds {
		cm, ok := c.(map[string]any)
		if !ok {
			return false, failf("a condition must be an object")
		}
		op, _ := cm["operator"].(string)
		holds, err := formula.Compare(cm["input1"], op, cm["input2"])
		if err != nil {
			return false, failf("%v", err)
		}
		if some && holds {
			return true, nil
		}
		if !some && !holds {
			return false, nil
		}
	}
	return !some, nil
}

// jump moves the run to a LabelBlock: it leaves every frame nested deeper
// than the label's chain and continues that chain at the label. A label in
// a chain that is not on the stack (another branch) is entered from the
// top level.
func (e *Engine) jump(label *workspace.Block) {
	s := e.state
	if e.containers == nil {
		e.containers = containers(e.ws)
	}
	want := e.containers[label.ID]
	for i := len(s.Frames) - 1; i >= 0; i-- {
		if f := &s.Frames[i]; f.Kind == frameChain && f.Container == want {
			f.Next = label.ID
			s.Frames = s.Frames[:i+1]
			return
		}
	}
	if len(s.Frames) > 0 {
		s.Frames = s.Frames[:1]
		s.Frames[0].Next = ""
	}
	s.push(Frame{Kind: frameChain, Next: label.ID, Container: want})
}

func decodeJSON(raw json.RawMessage) (any, error) {
	var v any
	err := json.Unmarshal(raw, &v)
	return v, err
}
