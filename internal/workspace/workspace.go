// Package workspace parses a Qlik Automate workspace (the JSON the editor
// exports) into a graph of blocks and validates it: every problem is
// reported with the block's name and id. It does not run anything.
package workspace

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

// Block is one block of a workspace.
type Block struct {
	ID          string
	Type        string
	Name        string // what formulas call it: {$.Name}
	DisplayName string
	Disabled    bool
	Inputs      []Field
	Settings    []Field

	ChildID              string
	ChildTrueID          string
	ChildFalseID         string
	LoopBlockID          string
	DefaultChildID       string
	StatementChildrenIDs []string

	// VariableBlock.
	VariableGUID string
	Operations   []Operation

	// Connector blocks.
	DatasourceTypeGUID string
	EndpointGUID       string
	SnippetGUID        string
	Role               string // endpoint_role: list, search, create, ...
}

// Operation is one step of a VariableBlock: empty, set_value, append,
// add_item, merge, add_row, set, set_key_value, rename_key, remove_key, add,
// subtract, multiply or divide.
type Operation struct {
	ID    string          `json:"id"`
	Key   string          `json:"key"`
	Name  string          `json:"name"`
	Value json.RawMessage `json:"value"`
}

// Field is an input or a setting: an id and its raw JSON value.
type Field struct {
	ID    string
	Type  string
	Value json.RawMessage
}

// Input returns the raw value of the input with the given id.
func (b *Block) Input(id string) (json.RawMessage, bool) { return field(b.Inputs, id) }

// Setting returns the raw value of the setting with the given id.
func (b *Block) Setting(id string) (json.RawMessage, bool) { return field(b.Settings, id) }

// InputString returns an input's value when it is a JSON string.
func (b *Block) InputString(id string) string {
	raw, _ := b.Input(id)
	var s string
	json.Unmarshal(raw, &s)
	return s
}

// SettingString returns a setting's value when it is a JSON string.
func (b *Block) SettingString(id string) string {
	raw, _ := b.Setting(id)
	var s string
	json.Unmarshal(raw, &s)
	return s
}

func field(fs []Field, id string) (json.RawMessage, bool) {
	for _, f := range fs {
		if f.ID == id {
			return f.Value, true
		}
	}
	return nil, false
}

// Variable is a workspace variable declaration.
type Variable struct {
	GUID string
	Name string
	Type string // string, number, list, object, table
}

// Workspace is a parsed workspace.
type Workspace struct {
	Blocks    []*Block
	Variables []Variable
	Start     *Block
	byID      map[string]*Block
	labels    map[string]*Block
	reachable map[string]bool
}

// Variable returns the variable with a guid, or nil.
func (w *Workspace) Variable(guid string) *Variable {
	for i := range w.Variables {
		if w.Variables[i].GUID == guid {
			return &w.Variables[i]
		}
	}
	return nil
}

// Block returns the block with an id, or nil.
func (w *Workspace) Block(id string) *Block { return w.byID[id] }

// Label returns the LabelBlock a GotoBlock's label names, or nil.
func (w *Workspace) Label(label string) *Block { return w.labels[label] }

// Reachable reports whether a block can run: it is reachable from the
// StartBlock through edges and jumps.
func (w *Workspace) Reachable(id string) bool { return w.reachable[id] }

// Problem is one thing wrong with a workspace.
type Problem struct {
	BlockID   string `json:"blockId,omitempty"`
	BlockName string `json:"blockName,omitempty"`
	Message   string `json:"message"`
}

func (p Problem) String() string {
	if p.BlockID == "" {
		return p.Message
	}
	return fmt.Sprintf("block %q (%s): %s", p.BlockName, p.BlockID, p.Message)
}

// Error is a workspace that does not validate; it lists every problem.
type Error struct {
	Problems []Problem
}

func (e *Error) Error() string {
	s := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		s[i] = p.String()
	}
	return "invalid workspace: " + strings.Join(s, "; ")
}

// KnownTypes are the block types of Qlik's schema that automate recognises.
var KnownTypes = []string{
	"StartBlock", "EndpointBlock", "SnippetBlock", "IfElseBlock", "CaseBlock", "LabelBlock", "GotoBlock",
	"ForEachBlock", "FilterListBlock", "SleepBlock", "ShowBlock", "StopBlock", "FormBlock", "VariableBlock",
	"UpdateJobBlock", "CallUrlBlock", "CallWidgetBlock", "ErrorBlock", "MergeListsBlock", "LookupItemBlock",
	"DeduplicateListBlock", "CompareListsBlock", "ReplaceFieldNamesBlock", "TransformListBlock", "LimitBlock",
	"ListPointerBlock", "UpdatePointerBlock", "DeletePointerBlock", "CompareObjectBlock", "RedirectBlock",
	"ForEachBatchBlock", "ForEachBreakBlock", "CustomCodeBlock3", "OpenFileBlock", "CreateFileBlock",
	"CopyFileBlock", "ReadDataFromFileBlock", "WriteLineToFileBlock", "CloseFileBlock", "DeleteFileBlock",
	"MoveFileBlock", "CheckFileExistsBlock", "ListFilesBlock",
}

// iterableTypes own a loop body (loopBlockId).
var iterableTypes = []string{
	"ForEachBlock", "ForEachBatchBlock", "FilterListBlock", "TransformListBlock", "DeduplicateListBlock",
	"MergeListsBlock", "CompareListsBlock", "ReplaceFieldNamesBlock", "ListFilesBlock", "ReadDataFromFileBlock",
}

// listRoles make an Endpoint or Snippet block iterable.
var listRoles = []string{"list", "search", "listnew", "listupdated"}

// Iterable reports whether b may own a loop body.
func (b *Block) Iterable() bool {
	if slices.Contains(iterableTypes, b.Type) {
		return true
	}
	return (b.Type == "EndpointBlock" || b.Type == "SnippetBlock") && slices.Contains(listRoles, b.Role)
}

// jsonBlock is a block as the editor writes it. Edge fields may be null.
type jsonBlock struct {
	ID                   *string     `json:"id"`
	Type                 *string     `json:"type"`
	Name                 *string     `json:"name"`
	DisplayName          string      `json:"displayName"`
	Disabled             bool        `json:"disabled"`
	Inputs               []jsonField `json:"inputs"`
	Settings             []jsonField `json:"settings"`
	ChildID              *string     `json:"childId"`
	ChildTrueID          *string     `json:"childTrueId"`
	ChildFalseID         *string     `json:"childFalseId"`
	LoopBlockID          *string     `json:"loopBlockId"`
	DefaultChildID       *string     `json:"defaultChildId"`
	StatementChildrenIDs []*string   `json:"statementChildrenIds"`
	DatasourceTypeGUID   *string     `json:"datasourcetype_guid"`
	EndpointGUID         *string     `json:"endpoint_guid"`
	SnippetGUID          *string     `json:"snippet_guid"`
	EndpointRole         *string     `json:"endpoint_role"`
	VariableGUID         *string     `json:"variableGuid"`
	Operations           []Operation `json:"operations"`
}

type jsonField struct {
	ID    string          `json:"id"`
	Type  string          `json:"type"`
	Value json.RawMessage `json:"value"`
}

type jsonWorkspace struct {
	Blocks    []json.RawMessage `json:"blocks"`
	Variables []struct {
		GUID string `json:"guid"`
		Name string `json:"name"`
		Type string `json:"type"`
	} `json:"variables"`
}

func str(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// MaxBlocks bounds a workspace, so that validation stays cheap.
const MaxBlocks = 10_000

// Parse reads and validates a workspace. A workspace that is not JSON of
// the right shape, or that breaks a rule, returns an *Error listing every
// problem found.
func Parse(raw []byte) (*Workspace, error) {
	if t := bytes.TrimLeft(raw, " \t\r\n"); len(t) == 0 || t[0] != '{' {
		return nil, &Error{Problems: []Problem{{Message: "the workspace must be a JSON object"}}}
	}
	var jw jsonWorkspace
	if err := json.Unmarshal(raw, &jw); err != nil {
		return nil, &Error{Problems: []Problem{{Message: "the workspace is not valid: " + err.Error()}}}
	}
	if len(jw.Blocks) > MaxBlocks {
		return nil, &Error{Problems: []Problem{{Message: fmt.Sprintf("the workspace has %d blocks; the limit is %d", len(jw.Blocks), MaxBlocks)}}}
	}
	w := &Workspace{byID: map[string]*Block{}, labels: map[string]*Block{}, reachable: map[string]bool{}}
	var probs []Problem
	for i, rawBlock := range jw.Blocks {
		var jb jsonBlock
		if err := json.Unmarshal(rawBlock, &jb); err != nil {
			probs = append(probs, Problem{Message: fmt.Sprintf("block %d is not a valid block: %v", i, err)})
			continue
		}
		b := &Block{
			ID: str(jb.ID), Type: str(jb.Type), Name: str(jb.Name), DisplayName: jb.DisplayName, Disabled: jb.Disabled,
			ChildID: str(jb.ChildID), ChildTrueID: str(jb.ChildTrueID), ChildFalseID: str(jb.ChildFalseID),
			LoopBlockID: str(jb.LoopBlockID), DefaultChildID: str(jb.DefaultChildID),
			DatasourceTypeGUID: str(jb.DatasourceTypeGUID), EndpointGUID: str(jb.EndpointGUID),
			SnippetGUID: str(jb.SnippetGUID), Role: str(jb.EndpointRole),
			VariableGUID: str(jb.VariableGUID), Operations: jb.Operations,
		}
		for _, s := range jb.StatementChildrenIDs {
			b.StatementChildrenIDs = append(b.StatementChildrenIDs, str(s))
		}
		for _, f := range jb.Inputs {
			b.Inputs = append(b.Inputs, Field(f))
		}
		for _, f := range jb.Settings {
			b.Settings = append(b.Settings, Field(f))
		}
		if b.ID == "" {
			probs = append(probs, Problem{Message: fmt.Sprintf("block %d has no id", i)})
			continue
		}
		if w.byID[b.ID] != nil {
			probs = append(probs, b.problem("its id is used by another block too"))
			continue
		}
		w.byID[b.ID] = b
		w.Blocks = append(w.Blocks, b)
	}
	for _, v := range jw.Variables {
		w.Variables = append(w.Variables, Variable(v))
	}
	probs = append(probs, w.validate()...)
	if len(probs) > 0 {
		return w, &Error{Problems: probs}
	}
	return w, nil
}

func (b *Block) problem(format string, args ...any) Problem {
	return Problem{BlockID: b.ID, BlockName: b.Name, Message: fmt.Sprintf(format, args...)}
}

// edges lists a block's outgoing edges by field name.
func (b *Block) edges() [][2]string {
	var es [][2]string
	add := func(field, id string) {
		if id != "" {
			es = append(es, [2]string{field, id})
		}
	}
	add("childId", b.ChildID)
	add("childTrueId", b.ChildTrueID)
	add("childFalseId", b.ChildFalseID)
	add("loopBlockId", b.LoopBlockID)
	add("defaultChildId", b.DefaultChildID)
	for i, id := range b.StatementChildrenIDs {
		add(fmt.Sprintf("statementChildrenIds[%d]", i), id)
	}
	return es
}

func (w *Workspace) validate() []Problem {
	var probs []Problem
	names := map[string]*Block{}
	target := map[string]string{} // block id -> "source id.field" of the edge into it
	for _, b := range w.Blocks {
		switch {
		case b.Type == "":
			probs = append(probs, b.problem("it has no type"))
		case !slices.Contains(KnownTypes, b.Type):
			probs = append(probs, b.problem("unknown block type %q", b.Type))
		}
		if b.Name == "" {
			probs = append(probs, b.problem("it has no name"))
		} else if other := names[b.Name]; other != nil {
			probs = append(probs, b.problem("its name is also the name of block %s; formulas could not tell them apart", other.ID))
		} else {
			names[b.Name] = b
		}
		if b.Type == "StartBlock" {
			if w.Start != nil {
				probs = append(probs, b.problem("a second StartBlock; a workspace has exactly one"))
			} else {
				w.Start = b
			}
		}
		if b.LoopBlockID != "" && !b.Iterable() {
			probs = append(probs, b.problem("it has a loopBlockId, but a %s does not loop", b.Type))
		}
		for _, e := range b.edges() {
			field, to := e[0], e[1]
			if w.byID[to] == nil {
				probs = append(probs, b.problem("%s points at block %s, which does not exist", field, to))
				continue
			}
			if to == b.ID {
				probs = append(probs, b.problem("%s points at the block itself", field))
				continue
			}
			if prev, ok := target[to]; ok {
				probs = append(probs, b.problem("%s points at block %s, which %s already points at; a block is the target of one edge at most", field, to, prev))
				continue
			}
			target[to] = b.ID + "." + field
		}
		if b.Type == "CaseBlock" {
			var statements []json.RawMessage
			if raw, ok := b.Input("statements"); ok && json.Unmarshal(raw, &statements) == nil && len(statements) != len(b.StatementChildrenIDs) {
				probs = append(probs, b.problem("it has %d statements but %d statementChildrenIds", len(statements), len(b.StatementChildrenIDs)))
			}
		}
		if b.Type == "VariableBlock" && w.Variable(b.VariableGUID) == nil {
			probs = append(probs, b.problem("variableGuid %q names no variable of the workspace", b.VariableGUID))
		}
		if b.Type == "LabelBlock" {
			for _, key := range []string{b.InputString("name"), b.ID} {
				if key != "" {
					w.labels[key] = b
				}
			}
		}
	}
	if w.Start == nil {
		probs = append(probs, Problem{Message: "the workspace has no StartBlock"})
	} else if _, ok := target[w.Start.ID]; ok {
		probs = append(probs, w.Start.problem("the StartBlock is the target of an edge"))
	}
	for _, b := range w.Blocks {
		if b.Type == "GotoBlock" {
			label := b.InputString("label")
			if label == "" {
				probs = append(probs, b.problem("it has no label to jump to"))
			} else if w.labels[label] == nil {
				probs = append(probs, b.problem("it jumps to label %q, which no LabelBlock has", label))
			}
		}
	}
	w.markReachable()
	return probs
}

// markReachable walks from the StartBlock through every edge and jump.
func (w *Workspace) markReachable() {
	if w.Start == nil {
		return
	}
	stack := []*Block{w.Start}
	for len(stack) > 0 {
		b := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if w.reachable[b.ID] {
			continue
		}
		w.reachable[b.ID] = true
		for _, e := range b.edges() {
			if n := w.byID[e[1]]; n != nil {
				stack = append(stack, n)
			}
		}
		if b.Type == "GotoBlock" {
			if l := w.labels[b.InputString("label")]; l != nil {
				stack = append(stack, l)
			}
		}
	}
}
