package engine

import (
	"context"
	"reflect"
	"sync"

	"automate/internal/formula"
	"automate/internal/workspace"
)

// AutomationCaller runs another automation for CallWidgetBlock and returns
// its output. The server implements it over its runs.
type AutomationCaller interface {
	CallAutomation(ctx context.Context, automationID string, inputs any) (any, error)
}

// Pointers keep per-automation incremental state for the pointer blocks,
// keyed by the id of the block that owns the pointer.
type Pointers interface {
	GetPointer(ctx context.Context, blockID string) (any, bool, error)
	SetPointer(ctx context.Context, blockID string, value any) error
	DeletePointer(ctx context.Context, blockID string) error
}

// MemoryPointers is a Pointers in memory, for `automate run` and tests.
type MemoryPointers struct {
	mu sync.Mutex
	m  map[string]any
}

// GetPointer returns a pointer.
func (p *MemoryPointers) GetPointer(_ context.Context, id string) (any, bool, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	v, ok := p.m[id]
	return v, ok, nil
}

// SetPointer stores a pointer.
func (p *MemoryPointers) SetPointer(_ context.Context, id string, v any) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.m == nil {
		p.m = map[string]any{}
	}
	p.m[id] = v
	return nil
}

// DeletePointer removes a pointer.
func (p *MemoryPointers) DeletePointer(_ context.Context, id string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.m, id)
	return nil
}

// callWidget runs another automation; an automation may not call itself.
func (e *Engine) callWidget(ctx context.Context, b *workspace.Block, in map[string]any) (any, error) {
	id := b.InputString("guid")
	if id == "" {
		return nil, failf("no automation to call")
	}
	if id == e.opt.AutomationID {
		return nil, failf("an automation cannot call itself")
	}
	if e.opt.Automations == nil {
		return nil, failf("calling other automations is not available here")
	}
	inputs, err := e.input(b, "widgetInputs", in)
	if err != nil {
		return nil, err
	}
	if l, ok := inputs.([]any); ok { // [{key, value}] becomes an object
		obj := map[string]any{}
		for _, kv := range pairsAny(l) {
			obj[kv.key] = kv.value
		}
		inputs = obj
	}
	out, err := e.opt.Automations.CallAutomation(ctx, id, inputs)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, failf("automation %s: %v", id, err)
	}
	return out, nil
}

type keyValue struct {
	key   string
	value any
}

func pairsAny(l []any) []keyValue {
	var out []keyValue
	for _, it := range l {
		if m, ok := it.(map[string]any); ok && formula.String(m["key"]) != "" {
			out = append(out, keyValue{formula.String(m["key"]), m["value"]})
		}
	}
	return out
}

// pointer runs ListPointer, UpdatePointer and DeletePointer.
func (e *Engine) pointer(ctx context.Context, b *workspace.Block, in map[string]any) (any, error) {
	if e.opt.Pointers == nil {
		return nil, failf("pointers are not available here")
	}
	id := b.InputString("pointer_block_id")
	if id == "" || e.ws.Block(id) == nil {
		return nil, failf("pointer_block_id %q names no block of this workspace", id)
	}
	switch b.Type {
	case "ListPointerBlock":
		v, _, err := e.opt.Pointers.GetPointer(ctx, id)
		if err != nil {
			return nil, failf("pointer: %v", err)
		}
		return v, nil
	case "DeletePointerBlock":
		if err := e.opt.Pointers.DeletePointer(ctx, id); err != nil {
			return nil, failf("pointer: %v", err)
		}
		return nil, nil
	}
	value := map[string]any{}
	for _, key := range []string{"last_retrieved_at", "highest_record_retrieved"} {
		if _, ok := b.Input(key); ok {
			v, err := e.input(b, key, in)
			if err != nil {
				return nil, err
			}
			value[key] = v
		}
	}
	if err := e.opt.Pointers.SetPointer(ctx, id, value); err != nil {
		return nil, failf("pointer: %v", err)
	}
	return value, nil
}

// compareObject reports, in compare_mode diff (the default), the keys
// whose values differ as {key: {object1, object2}}; in similar mode, the
// keys whose values agree with their value. ignore_missing_in_object1/2
// leave out keys missing from that object.
func (e *Engine) compareObject(b *workspace.Block, in map[string]any) (any, error) {
	o1, err := e.input(b, "object1", in)
	if err != nil {
		return nil, err
	}
	o2, err := e.input(b, "object2", in)
	if err != nil {
		return nil, err
	}
	m1, ok1 := o1.(map[string]any)
	m2, ok2 := o2.(map[string]any)
	if (!ok1 && o1 != nil) || (!ok2 && o2 != nil) {
		return nil, failf("object1 and object2 must be objects")
	}
	similar := b.SettingString("compare_mode") == "similar"
	skip1, skip2 := truthySetting(b, "ignore_missing_in_object1"), truthySetting(b, "ignore_missing_in_object2")
	out := map[string]any{}
	keys := map[string]bool{}
	for k := range m1 {
		keys[k] = true
	}
	for k := range m2 {
		keys[k] = true
	}
	for k := range keys {
		v1, in1 := m1[k]
		v2, in2 := m2[k]
		if (!in1 && skip1) || (!in2 && skip2) {
			continue
		}
		same := in1 == in2 && reflect.DeepEqual(v1, v2)
		switch {
		case similar && same:
			out[k] = v1
		case !similar && !same:
			out[k] = map[string]any{"object1": v1, "object2": v2}
		}
	}
	return out, nil
}
