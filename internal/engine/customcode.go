package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"runtime/metrics"
	"strings"
	"sync"
	"time"

	"github.com/dop251/goja"

	"automate/internal/formula"
	"automate/internal/workspace"
)

// Limits of CustomCodeBlock3.
const (
	DefaultCodeTimeout  = 30 * time.Second
	DefaultCodeMemory   = 256 << 20 // heap growth that interrupts a script
	maxCodeOutputBytes  = 8 << 20
	memoryCheckInterval = 10 * time.Millisecond
)

// customCode runs a CustomCodeBlock3. Only nodejs runs, in goja: the
// inputs are the global `inputs` object, there is no require, file system
// or network, console.log prints, and the output is what the code returns
// or, when it returns nothing, what it printed (JSON decoded when it is
// JSON). The code input is not a formula and is never evaluated as one.
func (e *Engine) customCode(ctx context.Context, b *workspace.Block, in map[string]any) (any, error) {
	lang := strings.ToLower(b.InputString("language"))
	if lang != "nodejs" {
		return nil, failf("language %q is not supported; only nodejs runs here", lang)
	}
	iv, err := e.input(b, "inputs", in)
	if err != nil {
		return nil, err
	}
	inputs := map[string]any{}
	switch v := iv.(type) {
	case []any:
		for _, entry := range v {
			if m, ok := entry.(map[string]any); ok && formula.String(m["key"]) != "" {
				inputs[formula.String(m["key"])] = m["value"]
			}
		}
	case map[string]any:
		inputs = v
	}
	code := b.InputString("code")

	vm := goja.New()
	var (
		mu      sync.Mutex
		printed strings.Builder
	)
	console := vm.NewObject()
	console.Set("log", func(call goja.FunctionCall) goja.Value {
		parts := make([]string, len(call.Arguments))
		for i, a := range call.Arguments {
			if o, ok := a.Export().(map[string]any); ok {
				bs, _ := json.Marshal(o)
				parts[i] = string(bs)
			} else if l, ok := a.Export().([]any); ok {
				bs, _ := json.Marshal(l)
				parts[i] = string(bs)
			} else {
				parts[i] = a.String()
			}
		}
		mu.Lock()
		defer mu.Unlock()
		if printed.Len() < maxCodeOutputBytes {
			printed.WriteString(strings.Join(parts, " ") + "\n")
		}
		return goja.Undefined()
	})
	vm.Set("console", console)
	vm.Set("inputs", inputs)

	timeout := e.opt.CodeTimeout
	stop := make(chan struct{})
	defer close(stop)
	var why error
	var whyMu sync.Mutex
	interrupt := func(err error) {
		whyMu.Lock()
		if why == nil {
			why = err
		}
		whyMu.Unlock()
		vm.Interrupt(err)
	}
	go func() {
		sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
		metrics.Read(sample)
		base := sample[0].Value.Uint64()
		deadline := time.NewTimer(timeout)
		defer deadline.Stop()
		tick := time.NewTicker(memoryCheckInterval)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-ctx.Done():
				interrupt(ctx.Err())
				return
			case <-deadline.C:
				interrupt(fmt.Errorf("custom code ran longer than %s", timeout))
				return
			case <-tick.C:
				// A guard, not a cap: goja has no memory limit, so the
				// process heap is watched while the script runs.
				metrics.Read(sample)
				if used := sample[0].Value.Uint64(); used > base && used-base > uint64(e.opt.CodeMemory) {
					interrupt(fmt.Errorf("custom code used more than %d MiB", e.opt.CodeMemory>>20))
					return
				}
			}
		}
	}()
	// The snippet is a function body, so that `return` works.
	v, err := vm.RunString("(function(){\n" + code + "\n})()")
	if err != nil {
		var ie *goja.InterruptedError
		if errors.As(err, &ie) {
			whyMu.Lock()
			reason := why
			whyMu.Unlock()
			if errors.Is(reason, context.Canceled) || errors.Is(reason, context.DeadlineExceeded) {
				return nil, reason
			}
			return nil, failf("%v", reason)
		}
		var ex *goja.Exception
		if errors.As(err, &ex) {
			return nil, failf("custom code threw: %s", ex.Value().String())
		}
		return nil, failf("custom code: %v", err)
	}
	if v != nil && !goja.IsUndefined(v) && !goja.IsNull(v) {
		bs, err := json.Marshal(v.Export())
		if err != nil {
			return nil, failf("custom code returned a value that is not JSON: %v", err)
		}
		var out any
		json.Unmarshal(bs, &out)
		return out, nil
	}
	text := strings.TrimRight(printed.String(), "\n")
	var out any
	if text != "" && json.Unmarshal([]byte(text), &out) == nil {
		return out, nil
	}
	return text, nil
}
