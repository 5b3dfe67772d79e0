package formula

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
)

// testEnv is a fixed environment: blocks and variables by name.
type testEnv struct {
	vals map[string]any
	now  time.Time
	loc  *time.Location
}

func (e testEnv) Lookup(name string) (any, bool) { v, ok := e.vals[name]; return v, ok }
func (e testEnv) Now() time.Time                 { return e.now }
func (e testEnv) Location() *time.Location {
	if e.loc == nil {
		return time.UTC
	}
	return e.loc
}
func (e testEnv) RunID() string { return "run-123" }

func env(t *testing.T) testEnv {
	t.Helper()
	var vals map[string]any
	err := json.Unmarshal([]byte(`{
		"Start": {"name": "ada lovelace", "n": 5, "tags": ["b", "a", "c"], "obj": {"x": 1, "y": "", "z": null, "w": {"q": ""}}},
		"list": {"items": [{"id": 1, "name": "one", "sub": {"k": "v1"}}, {"id": 2, "name": "two", "sub": {"k": "v2"}}]},
		"nums": [3, 10, 2],
		"myVar": "variable value",
		"braces": "a } and { in data",
		"loop": {"item": {"id": 7}, "index": 0}
	}`), &vals)
	if err != nil {
		t.Fatal(err)
	}
	return testEnv{vals: vals, now: time.Date(2026, 3, 9, 14, 5, 6, 789000000, time.UTC)}
}

func TestEval(t *testing.T) {
	t.Parallel()
	e := env(t)
	tests := []struct {
		in   string
		want any // compared as JSON
	}{
		// literal text and references
		{`plain text`, "plain text"},
		{``, ""},
		{`{$.Start.name}`, "ada lovelace"},
		{`{ $.Start.name }`, "ada lovelace"},
		{`Hello {$.Start.name}!`, "Hello ada lovelace!"},
		{`{$.Start.n}`, 5},
		{`n={$.Start.n}`, "n=5"},
		{`{$.Start.tags}`, []any{"b", "a", "c"}},
		{`tags: {$.Start.tags}`, `tags: ["b","a","c"]`},
		{`{$.Start.tags[0]}`, "b"},
		{`{$.Start.tags[-1]}`, "c"},
		{`{$.Start.tags[9]}`, nil},
		{`{$.list.items[*].name}`, []any{"one", "two"}},
		{`{$.list.items[*].sub.k}`, []any{"v1", "v2"}},
		{`{$.list.items.id}`, []any{1, 2}},
		{`{$.list.items[1]['name']}`, "two"},
		{`groups/{$.list.items[0].id}`, "groups/1"},
		{`{$.loop.item.id}`, 7},
		{`{$.myVar}`, "variable value"},
		{`{$.missing.deep}`, nil},
		{`x{$.missing}y`, "xy"},
		{`{$.Start.obj}`, map[string]any{"x": 1, "y": "", "z": nil, "w": map[string]any{"q": ""}}},
		// braces that are not formulas stay text; braces in data are data
		{`{"json": "literal"}`, `{"json": "literal"}`},
		{`{not a formula} and }{`, `{not a formula} and }{`},
		{`{$.braces}`, "a } and { in data"},
		{`{uppercase: 'a } b { c'}`, "A } B { C"},
		{`{uppercase: "it's"}`, "IT'S"},
		{`{uppercase: 'it\'s'}`, "IT'S"},
		// text
		{`{uppercase: {$.Start.name}}`, "ADA LOVELACE"},
		{`{uppercase: $.Start.name}`, "ADA LOVELACE"},
		{`{lowercase: 'ABC'}`, "abc"},
		{`{capitalizename: 'aDA   lovelace'}`, "Ada Lovelace"},
		{`{trim: '  x  '}`, "x"},
		{`{trim: '--x--', '-'}`, "x"},
		{`{ltrim: '  x  '}`, "x  "},
		{`{rtrim: '  x  '}`, "  x"},
		{`{replace: 'a-b-c', '-', '+'}`, "a+b+c"},
		{`{regexparse: 'order 1234 ok', '[0-9]+'}`, "1234"},
		{`{regexparse: 'id=ab12;', '/id=([a-z0-9]+)/i'}`, "ab12"},
		{`{regexparse: 'none', '[0-9]+'}`, ""},
		{`{regexparseall: 'a1 b22 c333', '[0-9]+'}`, []any{"1", "22", "333"}},
		{`{explode: 'a,b,c', ','}`, []any{"a", "b", "c"}},
		{`{base64encode: 'hello'}`, "aGVsbG8="},
		{`{base64decode: 'aGVsbG8='}`, "hello"},
		{`{uppercase: {replace: {$.Start.name}, 'ada', 'augusta'}}`, "AUGUSTA LOVELACE"},
		{`{uppercase: pre-{$.Start.n}-post}`, "PRE-5-POST"},
		// lists
		{`{count: {$.Start.tags}}`, 3},
		{`{count: {$.Start.obj}}`, 4},
		{`{count: {$.missing}}`, 0},
		{`{getkeys: {$.Start.obj}}`, []any{"w", "x", "y", "z"}},
		{`{implode: {$.Start.tags}, ';'}`, "b;a;c"},
		{`{implode: {$.Start.tags}}`, "b,a,c"},
		{`{sort: {$.Start.tags}}`, []any{"a", "b", "c"}},
		{`{sortdesc: {$.nums}}`, []any{10, 3, 2}},
		{`{sort: {$.nums}}`, []any{2, 3, 10}},
		{`{sortdesc: {$.list.items}, 'id'}`, []any{map[string]any{"id": 2, "name": "two", "sub": map[string]any{"k": "v2"}}, map[string]any{"id": 1, "name": "one", "sub": map[string]any{"k": "v1"}}}},
		{`{csv: {$.Start.tags}}`, "b\na\nc"},
		{`{csv: {map: {$.list.items}, 'sub'}}`, "k\nv1\nv2"},
		// math
		{`{add: 1, 2}`, 3},
		{`{add: {$.Start.n}, '2.5', 1}`, 8.5},
		{`{subtract: 10, 4}`, 6},
		{`{multiply: 3, {$.Start.n}}`, 15},
		{`{divide: 7, 2}`, 3.5},
		{`{mod: 7, 3}`, 1},
		{`{round: 2.567, 2}`, 2.57},
		{`{round: 2.5}`, 3},
		{`{max: {$.nums}}`, 10},
		{`{min: 4, 9, -1}`, -1},
		{`total {add: 0.1, 0.2}`, "total 0.30000000000000004"},
		// dates (now is 2026-03-09 14:05:06.789 UTC, a Monday)
		{`{date: 'now', 'Y-m-d H:i:s'}`, "2026-03-09 14:05:06"},
		{`{date: 'today', 'Y-m-d H:i'}`, "2026-03-09 00:00"},
		{`{date: 'yesterday', 'Y-m-d'}`, "2026-03-08"},
		{`{date: 'tomorrow', 'D, d M Y'}`, "Tue, 10 Mar 2026"},
		{`{date: 'now', 'l jS \o\f F'}`, "Monday 9th of March"},
		{`{date: 'now', 'N w z W t L y n G g A a u v'}`, "1 1 67 11 31 0 26 3 14 2 PM pm 789000 789"},
		{`{date: 'now', 'c'}`, "2026-03-09T14:05:06+00:00"},
		{`{date: 'now'}`, "2026-03-09T14:05:06+00:00"},
		{`{date: 'now', 'U'}`, "1773065106"},
		{`{date: '2026-01-31', 'd/m/Y'}`, "31/01/2026"},
		{`{date: '2026-01-31T10:00:00Z', 'H:i T'}`, "10:00 UTC"},
		{`{date: '31.01.2026', 'Y-m-d', 'd.m.Y'}`, "2026-01-31"},
		{`{date: 1700000000, 'Y-m-d H:i:s'}`, "2023-11-14 22:13:20"},
		{`{date: 'now', 'Y-m-d H:i T', '', 'Europe/Stockholm'}`, "2026-03-09 15:05 CET"},
		{`{date: '2026-07-01 12:00:00', 'H:i P', '', 'America/New_York'}`, "08:00 -04:00"},
		// other
		{`{if: {$.Start.n} > 3, 'big', 'small'}`, "big"},
		{`{if: {$.Start.n} >= 6, 'big', 'small'}`, "small"},
		{`{if: {$.Start.name} = 'ada lovelace', yes, no}`, "yes"},
		{`{if: $.Start.n != 5, 'different'}`, ""},
		{`{if: {$.Start.tags}, 'has tags'}`, "has tags"},
		{`{if: {$.missing}, 'x', {uppercase: 'lazy'}}`, "LAZY"},
		{`{map: {$.list.items}, 'name'}`, []any{"one", "two"}},
		{`{object: 'a', 1, 'b', {$.Start.tags}}`, map[string]any{"a": "1", "b": []any{"b", "a", "c"}}},
		{`{removeemptyproperties: {$.Start.obj}}`, map[string]any{"x": 1}},
		{`{jobguid}`, "run-123"},
		{`run {jobguid: }`, "run run-123"},
	}
	for _, tt := range tests {
		got, err := EvalString(tt.in, e)
		if err != nil {
			t.Errorf("%s: %v", tt.in, err)
			continue
		}
		gj, _ := json.Marshal(got)
		wj, _ := json.Marshal(tt.want)
		if string(gj) != string(wj) {
			t.Errorf("%s = %s, want %s", tt.in, gj, wj)
		}
	}
}

func TestRandom(t *testing.T) {
	t.Parallel()
	e := env(t)
	for range 50 {
		v, err := EvalString(`{randomnumber: 1, 6}`, e)
		if f, ok := v.(float64); err != nil || !ok || f < 1 || f > 6 || f != float64(int(f)) {
			t.Fatalf("randomnumber = %v, %v", v, err)
		}
	}
	v, err := EvalString(`{randomtext: 16}`, e)
	if s, ok := v.(string); err != nil || !ok || len(s) != 16 || strings.Trim(s, randomAlphabet) != "" {
		t.Fatalf("randomtext = %v, %v", v, err)
	}
}

func TestErrors(t *testing.T) {
	t.Parallel()
	e := env(t)
	tests := []struct {
		in  string
		pos int
		msg string
	}{
		{`x {nosuch: 1}`, 3, `unknown function "nosuch"`},
		{`{$.a`, 0, "not closed"},
		{`{uppercase: 'a'`, 12, "not closed"},
		{`{uppercase: 'a}`, 12, "string is not closed"},
		{`{$.}`, 3, `expected a name after "."`},
		{`{$.a[x]}`, 4, "is not a number"},
		{`{$.a[1}`, 4, `"[" is not closed`},
		{`{$x}`, 1, `starts with "$."`},
		{`{divide: 1, 0}`, 1, "division by zero"},
		{`{mod: 1, 0}`, 1, "modulo by zero"},
		{`{add: 1, 'x'}`, 1, "is not a number"},
		{`{uppercase: 'a', 'b'}`, 1, "takes 1 arguments, got 2"},
		{`{add: 1}`, 1, "takes at least 2"},
		{`{regexparse: 'a', '('}`, 1, "bad regular expression"},
		{`{date: 'not a date', 'Y'}`, 1, "is not a date"},
		{`{date: 'now', 'Y', '', 'Mars/Olympus'}`, 1, "unknown timezone"},
		{`{date: '2026', 'Y', 'Q'}`, 1, "cannot be read"},
		{`{object: 'a'}`, 1, "key, value pairs"},
		{`{uppercase: {x}}`, 12, `"{" in an argument must start a formula`},
		{strings.Repeat("{uppercase: ", 70) + "'a'" + strings.Repeat("}", 70), 768, "nest deeper"},
	}
	for _, tt := range tests {
		_, err := EvalString(tt.in, e)
		var fe *Error
		if !errors.As(err, &fe) {
			t.Errorf("%s: err = %v, want *Error", tt.in, err)
			continue
		}
		if fe.Pos != tt.pos || !strings.Contains(fe.Msg, tt.msg) {
			t.Errorf("%s: %v, want position %d and %q", tt.in, fe, tt.pos, tt.msg)
		}
	}
}

func TestCompare(t *testing.T) {
	t.Parallel()
	list := []any{"a", float64(2)}
	tests := []struct {
		a    any
		op   string
		b    any
		want bool
	}{
		{"2", "=", float64(2), true}, {"a", "=", "A", false}, {"a", "!=", "b", true},
		{float64(10), ">", "9", true}, {"10", ">", "9", true}, {"b", ">", "a", true}, {"5", ">=", float64(5), true},
		{float64(1), "<", float64(2), true}, {"2", "<=", "1", false},
		{"", "empty", nil, true}, {nil, "empty", nil, true}, {[]any{}, "empty", nil, true}, {"x", "notEmpty", nil, true},
		{"hello", "contain", "ell", true}, {list, "contain", "a", true}, {"hello", "doesntContain", "z", true},
		{"b", "inList", "a, b, c", true}, {float64(2), "inList", list, true}, {"z", "notInList", list, true},
		{"abc", "isText", nil, true}, {"12", "isText", nil, false}, {"12", "isNumber", nil, true}, {true, "isNumber", nil, false},
		{map[string]any{}, "isObject", nil, true}, {"x", "isNotObject", nil, true}, {list, "isList", nil, true}, {"x", "isNotList", nil, true},
		{"ada@example.com", "isEmail", nil, true}, {"ada@localhost", "isEmail", nil, false}, {"Ada <ada@example.com>", "isNotEmail", nil, true},
		{"+46 70 123 45 67", "isPhone", nil, true}, {"call me", "isNotPhone", nil, true},
		{true, "isTrue", nil, true}, {"yes", "isTrue", nil, true}, {"false", "isFalse", nil, true}, {float64(0), "isFalse", nil, true},
	}
	for _, tt := range tests {
		got, err := Compare(tt.a, tt.op, tt.b)
		if err != nil || got != tt.want {
			t.Errorf("%v %s %v = %v, %v; want %v", tt.a, tt.op, tt.b, got, err, tt.want)
		}
	}
	if _, err := Compare(1, "~", 2); err == nil {
		t.Error("unknown operator accepted")
	}
	for _, op := range Operators {
		if _, err := Compare("x", op, "y"); err != nil {
			t.Errorf("operator %s: %v", op, err)
		}
	}
}

// FuzzFormula: no input panics the parser or the evaluator; what fails
// fails with a positioned *Error inside the input.
func FuzzFormula(f *testing.F) {
	for _, s := range []string{`Hello {$.Start.name}!`, `{if: {$.Start.n} > 3, 'big', {uppercase: "x}"}}`, `{date: 'now', 'Y-m-d', '', 'Europe/Stockholm'}`,
		`{$.list.items[*].sub.k}`, `{"json": 1}`, `{sortdesc: {$.list.items}, 'id'}`, `{regexparse: 'a', '/(a)/i'}`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		e := env(t)
		_, err := EvalString(s, e)
		if err == nil {
			return
		}
		var fe *Error
		if !errors.As(err, &fe) {
			t.Fatalf("%q: error %v is not a *formula.Error", s, err)
		}
		if fe.Pos < 0 || fe.Pos > len(s) {
			t.Fatalf("%q: position %d outside the input", s, fe.Pos)
		}
	})
}
