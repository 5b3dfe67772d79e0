package workspace

import (
	"errors"
	"os"
	"strings"
	"testing"
)

func TestParseExample(t *testing.T) {
	t.Parallel()
	raw, err := os.ReadFile("../../../shared/reference/examples/user-created-add-to-space.json")
	if err != nil {
		t.Fatal(err)
	}
	w, err := Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	if w.Start == nil || w.Start.Name != "UserCreated" || w.Start.InputString("run_mode") != "webhook" {
		t.Fatalf("start = %+v", w.Start)
	}
	search := w.Block("689E8B00-5803-4A44-B0C2-BBE363933BBC")
	if search == nil || !search.Iterable() || search.LoopBlockID == "" {
		t.Fatalf("searchSpaces = %+v", search)
	}
	for _, b := range w.Blocks {
		if !w.Reachable(b.ID) {
			t.Errorf("%s unreachable", b.Name)
		}
	}
	if s := search.SettingString("blendr_on_error"); s == "" {
		t.Log("no on-error setting on searchSpaces")
	}
}

// ws builds a workspace from block JSON objects.
func ws(blocks ...string) []byte {
	return []byte(`{"blocks":[` + strings.Join(blocks, ",") + `],"variables":[]}`)
}

const start = `{"id":"S","type":"StartBlock","name":"Start","inputs":[{"id":"run_mode","value":"manual"}],"childId":"A"}`

func TestParseProblems(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		raw  []byte
		want []string // substrings, one per expected problem
	}{
		{"not an object", []byte(`[]`), []string{"must be a JSON object"}},
		{"not JSON", []byte(`{"blocks":`), []string{"not valid"}},
		{"no start", ws(`{"id":"A","type":"ShowBlock","name":"a","inputs":[]}`), []string{"no StartBlock"}},
		{"two starts", ws(start, `{"id":"A","type":"StartBlock","name":"a","inputs":[]}`), []string{`block "a" (A): a second StartBlock`}},
		{"dangling child", ws(start), []string{`block "Start" (S): childId points at block A, which does not exist`}},
		{"two edges into one block", ws(start,
			`{"id":"A","type":"IfElseBlock","name":"a","inputs":[],"childTrueId":"B","childFalseId":"B"}`,
			`{"id":"B","type":"ShowBlock","name":"b","inputs":[]}`), []string{"childFalseId points at block B, which A.childTrueId already points at"}},
		{"unknown type", ws(start, `{"id":"A","type":"TeleportBlock","name":"a","inputs":[]}`), []string{`unknown block type "TeleportBlock"`}},
		{"loop on a non-iterable", ws(start, `{"id":"A","type":"ShowBlock","name":"a","inputs":[],"loopBlockId":"B"}`,
			`{"id":"B","type":"ShowBlock","name":"b","inputs":[]}`), []string{"a ShowBlock does not loop"}},
		{"goto without label", ws(start, `{"id":"A","type":"GotoBlock","name":"a","inputs":[{"id":"label","value":"nowhere"}]}`),
			[]string{`jumps to label "nowhere"`}},
		{"duplicate ids", ws(start, `{"id":"A","type":"ShowBlock","name":"a","inputs":[]}`, `{"id":"A","type":"ShowBlock","name":"b","inputs":[]}`),
			[]string{"its id is used by another block"}},
		{"duplicate names", ws(start, `{"id":"A","type":"ShowBlock","name":"Start","inputs":[]}`), []string{"is also the name of block S"}},
		{"self edge", ws(start, `{"id":"A","type":"ShowBlock","name":"a","inputs":[],"childId":"A"}`), []string{"points at the block itself"}},
		{"case statements mismatch", ws(start, `{"id":"A","type":"CaseBlock","name":"a","inputs":[{"id":"expression","value":"x"},{"id":"statements","value":["1","2"]}],"statementChildrenIds":["B"]}`,
			`{"id":"B","type":"ShowBlock","name":"b","inputs":[]}`), []string{"2 statements but 1 statementChildrenIds"}},
		{"every problem at once", ws(start, `{"id":"A","type":"Nope","name":"a","inputs":[],"childId":"Z"}`, `{"id":"B","type":"GotoBlock","name":"b","inputs":[]}`),
			[]string{`unknown block type "Nope"`, "childId points at block Z", "no label to jump to"}},
	}
	for _, tt := range tests {
		_, err := Parse(tt.raw)
		var we *Error
		if !errors.As(err, &we) {
			t.Errorf("%s: err = %v, want *Error", tt.name, err)
			continue
		}
		if len(we.Problems) != len(tt.want) {
			t.Errorf("%s: %d problems %v, want %d", tt.name, len(we.Problems), we.Problems, len(tt.want))
			continue
		}
		for i, w := range tt.want {
			if !strings.Contains(we.Problems[i].String(), w) {
				t.Errorf("%s: problem %q, want it to contain %q", tt.name, we.Problems[i], w)
			}
		}
	}
}

func TestReachability(t *testing.T) {
	t.Parallel()
	w, err := Parse(ws(start,
		`{"id":"A","type":"GotoBlock","name":"a","inputs":[{"id":"label","value":"L"}]}`,
		`{"id":"L","type":"LabelBlock","name":"l","inputs":[{"id":"name","value":"L"}],"childId":"B"}`,
		`{"id":"B","type":"ShowBlock","name":"b","inputs":[],"disabled":true}`,
		`{"id":"X","type":"ShowBlock","name":"x","inputs":[]}`))
	if err != nil {
		t.Fatal(err)
	}
	for id, want := range map[string]bool{"S": true, "A": true, "L": true, "B": true, "X": false} {
		if w.Reachable(id) != want {
			t.Errorf("reachable(%s) = %v", id, !want)
		}
	}
	if !w.Block("B").Disabled || w.Label("L") == nil {
		t.Error("disabled flag or label lost")
	}
}

// FuzzParse: no workspace panics the parser, and a workspace that parses
// has exactly one StartBlock and edges that all resolve.
func FuzzParse(f *testing.F) {
	raw, _ := os.ReadFile("../../../shared/reference/examples/user-created-add-to-space.json")
	f.Add(raw)
	f.Add(ws(start, `{"id":"A","type":"IfElseBlock","name":"a","inputs":[],"childTrueId":"B","childFalseId":null}`, `{"id":"B","type":"ShowBlock","name":"b","inputs":[]}`))
	f.Add(ws(start, `{"id":"A","type":"CaseBlock","name":"a","inputs":[{"id":"statements","value":["x"]}],"statementChildrenIds":[null],"defaultChildId":"B"}`, `{"id":"B","type":"GotoBlock","name":"b","inputs":[{"id":"label","value":"B"}]}`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		w, err := Parse(raw)
		if err != nil {
			var we *Error
			if !errors.As(err, &we) || len(we.Problems) == 0 {
				t.Fatalf("error without problems: %v", err)
			}
			return
		}
		if w.Start == nil {
			t.Fatal("valid workspace without a StartBlock")
		}
		for _, b := range w.Blocks {
			for _, e := range b.edges() {
				if w.Block(e[1]) == nil {
					t.Fatalf("valid workspace with a dangling %s", e[0])
				}
			}
		}
	})
}
