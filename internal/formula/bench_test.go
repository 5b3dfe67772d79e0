package formula

import (
	"testing"
	"time"
)

type benchEnv map[string]any

func (e benchEnv) Lookup(name string) (any, bool) { v, ok := e[name]; return v, ok }
func (benchEnv) Now() time.Time                   { return time.Unix(0, 0) }
func (benchEnv) Location() *time.Location         { return time.UTC }
func (benchEnv) RunID() string                    { return "r" }

// BenchmarkReference evaluates a parsed {$.a.b.c}: what a block input costs
// per execution once its template is parsed (the engine parses once per run).
func BenchmarkReference(b *testing.B) {
	env := benchEnv{"a": map[string]any{"b": map[string]any{"c": "value"}}}
	t, err := Parse("{$.a.b.c}")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if v, _ := t.Eval(env); v != "value" {
			b.Fatal(v)
		}
	}
}

// BenchmarkParseAndReference includes parsing the template.
func BenchmarkParseAndReference(b *testing.B) {
	env := benchEnv{"a": map[string]any{"b": map[string]any{"c": "value"}}}
	b.ReportAllocs()
	for b.Loop() {
		if v, _ := EvalString("{$.a.b.c}", env); v != "value" {
			b.Fatal(v)
		}
	}
}

// BenchmarkTextTemplate is text with two references and a function.
func BenchmarkTextTemplate(b *testing.B) {
	env := benchEnv{"user": map[string]any{"first": "ada", "last": "lovelace"}}
	t, err := Parse("Dear {capitalizename: {$.user.first}} {$.user.last}, welcome")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		t.Eval(env)
	}
}
