package engine

import (
	"context"
	"testing"

	"automate/internal/workspace"
)

func mustParse(b *testing.B, raw string) *workspace.Workspace {
	b.Helper()
	ws, err := workspace.Parse([]byte(raw))
	if err != nil {
		b.Fatal(err)
	}
	return ws
}

// BenchmarkSmallWorkspace runs Start→Variable→IfElse→Show end to end in
// process, with no journal (what a fast webhook run costs the engine).
func BenchmarkSmallWorkspace(b *testing.B) {
	ws := mustParse(b, `{"blocks":[
		{"id":"S","type":"StartBlock","name":"Start","inputs":[{"id":"run_mode","value":"triggered"}],"childId":"V"},
		{"id":"V","type":"VariableBlock","name":"setN","inputs":[],"variableGuid":"22222222-2222-4222-8222-222222222222",
		 "operations":[{"id":"set_value","key":"k","name":"set","value":"{$.Start.n}"}],"childId":"I"},
		{"id":"I","type":"IfElseBlock","name":"big","inputs":[{"id":"conditions","value":{"mode":"all","conditions":[{"input1":"{$.n}","operator":">","input2":"3"}]}}],
		 "childTrueId":"Y","childFalseId":null},
		{"id":"Y","type":"ShowBlock","name":"out","inputs":[{"id":"input","value":"big: {$.n}"}]}],
		"variables":[{"guid":"22222222-2222-4222-8222-222222222222","name":"n","type":"number"}]}`)
	inputs := map[string]any{"n": float64(5)}
	b.ReportAllocs()
	for b.Loop() {
		res, err := New(ws, Options{Inputs: inputs}).Run(context.Background())
		if err != nil || res.Status != StatusFinished || len(res.Output) != 1 {
			b.Fatalf("%+v %v", res, err)
		}
	}
}

// BenchmarkLoop10k runs a 10,000-item loop whose body adds to a variable.
func BenchmarkLoop10k(b *testing.B) {
	ws := mustParse(b, `{"blocks":[
		{"id":"S","type":"StartBlock","name":"Start","inputs":[],"childId":"L"},
		{"id":"L","type":"ForEachBlock","name":"loop","inputs":[{"id":"input","value":"{$.Start.items}"}],"loopBlockId":"V"},
		{"id":"V","type":"VariableBlock","name":"sum","inputs":[],"variableGuid":"22222222-2222-4222-8222-222222222222",
		 "operations":[{"id":"add","key":"k","name":"add","value":"{$.loop.item}"}]}],
		"variables":[{"guid":"22222222-2222-4222-8222-222222222222","name":"n","type":"number"}]}`)
	items := make([]any, 10_000)
	for i := range items {
		items[i] = float64(i)
	}
	inputs := map[string]any{"items": items}
	b.ReportAllocs()
	for b.Loop() {
		e := New(ws, Options{Inputs: inputs})
		res, err := e.Run(context.Background())
		if err != nil || res.Status != StatusFinished || e.state.Variables["n"] != float64(49_995_000) {
			b.Fatalf("%+v %v %v", res, err, e.state.Variables["n"])
		}
	}
}
