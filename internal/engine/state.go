package engine

import (
	"strconv"
	"time"

	"automate/internal/formula"
	"automate/internal/workspace"
)

// Frame kinds.
const (
	frameChain = "chain" // runs blocks along childId
	frameLoop  = "loop"  // iterates a loop block's items
)

// Frame is one level of the execution stack.
type Frame struct {
	Kind string `json:"kind"`
	// Next is the block a chain frame runs next ("" when it is done).
	Next string `json:"next,omitempty"`
	// Container names the chain a chain frame walks: "" for the top level,
	// "if:<id>:true", "case:<id>:<n>", "loop:<id>" for nested ones. Goto
	// uses it to leave the right frames.
	Container string `json:"container,omitempty"`
	// Owner, Items and Index belong to a loop frame: the loop block, its
	// items, and how many have been started.
	Owner string `json:"owner,omitempty"`
	Items []any  `json:"items,omitempty"`
	Index int    `json:"index,omitempty"`
}

// State is everything a run needs to continue: serialise it (JSON) after a
// block and Resume from it.
type State struct {
	Frames    []Frame        `json:"frames"`
	Outputs   map[string]any `json:"outputs"`   // block name -> output
	Variables map[string]any `json:"variables"` // variable name -> value
	Output    []any          `json:"output"`
	Title     string         `json:"title"`
	Errors    []RunError     `json:"errors"`
	Warned    bool           `json:"warned,omitempty"`
	Failed    bool           `json:"failed,omitempty"`
	Steps     int64          `json:"steps"`
	Jumps     int64          `json:"jumps,omitempty"`
	Metrics   Metrics        `json:"metrics"`
	StartedAt time.Time      `json:"startedAt"`
	// WakeAt is when a run parked in a SleepBlock continues.
	WakeAt time.Time `json:"wakeAt,omitzero"`
}

func newState(ws *workspace.Workspace, inputs any) *State {
	s := &State{Outputs: map[string]any{}, Variables: map[string]any{}}
	for _, v := range ws.Variables {
		s.Variables[v.Name] = zeroValue(v.Type)
	}
	if ws.Start != nil {
		s.Outputs[ws.Start.Name] = inputs
	}
	return s
}

func zeroValue(typ string) any {
	switch typ {
	case "number":
		return float64(0)
	case "list", "table":
		return []any{}
	case "object":
		return map[string]any{}
	}
	return ""
}

func (s *State) push(f Frame) { s.Frames = append(s.Frames, f) }

func (s *State) status() string {
	switch {
	case s.Failed:
		return StatusFailed
	case s.Warned:
		return StatusFinishedWithWarnings
	}
	return StatusFinished
}

// loopPath is the index of the current item of every enclosing loop.
func (s *State) loopPath() []int {
	var p []int
	for _, f := range s.Frames {
		if f.Kind == frameLoop {
			p = append(p, f.Index-1)
		}
	}
	return p
}

// advance finds the next block to run, moving the stack past finished
// chains and into loop iterations. The chain frame it returns from already
// points at the block's successor (childId); blocks that branch or jump
// change the stack from there.
func (e *Engine) advance() (*workspace.Block, bool) {
	s := e.state
	for len(s.Frames) > 0 {
		i := len(s.Frames) - 1
		f := &s.Frames[i]
		switch f.Kind {
		case frameChain:
			if f.Next == "" {
				s.Frames = s.Frames[:i]
				continue
			}
			b := e.ws.Block(f.Next)
			if b == nil {
				s.Frames = s.Frames[:i]
				continue
			}
			f.Next = b.ChildID
			if b.Disabled {
				continue // a disabled block is skipped; its chain goes on
			}
			return b, false
		case frameLoop:
			owner := e.ws.Block(f.Owner)
			if owner == nil || f.Index >= len(f.Items) {
				s.Frames = s.Frames[:i]
				continue
			}
			s.Outputs[owner.Name] = map[string]any{"item": f.Items[f.Index], "index": float64(f.Index)}
			f.Index++
			s.push(Frame{Kind: frameChain, Next: owner.LoopBlockID, Container: "loop:" + owner.ID})
		default:
			s.Frames = s.Frames[:i]
		}
	}
	return nil, true
}

// env is what formulas see during a run.
type env struct{ e *Engine }

func (v env) Lookup(name string) (any, bool) {
	if val, ok := v.e.state.Variables[name]; ok {
		return val, true
	}
	val, ok := v.e.state.Outputs[name]
	return val, ok
}

func (v env) Now() time.Time           { return v.e.opt.Clock.Now() }
func (v env) Location() *time.Location { return v.e.opt.Location }
func (v env) RunID() string            { return v.e.opt.RunID }

var _ formula.Env = env{}

// containers maps every block to the chain it sits in (see Frame.Container).
func containers(ws *workspace.Workspace) map[string]string {
	out := map[string]string{}
	var walk func(id, c string)
	walk = func(id, c string) {
		for id != "" {
			if _, seen := out[id]; seen {
				return
			}
			b := ws.Block(id)
			if b == nil {
				return
			}
			out[id] = c
			walk(b.ChildTrueID, "if:"+b.ID+":true")
			walk(b.ChildFalseID, "if:"+b.ID+":false")
			walk(b.LoopBlockID, "loop:"+b.ID)
			walk(b.DefaultChildID, "case:"+b.ID+":default")
			for i, sc := range b.StatementChildrenIDs {
				walk(sc, "case:"+b.ID+":"+strconv.Itoa(i))
			}
			if b.Type == "GotoBlock" {
				if l := ws.Label(b.InputString("label")); l != nil {
					if _, seen := out[l.ID]; !seen {
						walk(l.ID, c)
					}
				}
			}
			id = b.ChildID
		}
	}
	if ws.Start != nil {
		walk(ws.Start.ID, "")
	}
	return out
}
