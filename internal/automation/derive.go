package automation

import (
	"bytes"
	"encoding/json"
	"fmt"

	"automate/internal/apperr"
)

// Derived is what automate reads out of a workspace on every save.
type Derived struct {
	// RunMode is the StartBlock's run_mode input, or manual without one.
	RunMode      string
	SnippetIDs   []string
	EndpointIDs  []string
	ConnectorIDs []string
}

// wsBlock is the part of a block that derivation reads. Everything else of
// the workspace is kept as sent.
type wsBlock struct {
	Type               string          `json:"type"`
	Inputs             []wsInput       `json:"inputs"`
	DatasourceTypeGUID json.RawMessage `json:"datasourcetype_guid"`
	EndpointGUID       json.RawMessage `json:"endpoint_guid"`
	SnippetGUID        json.RawMessage `json:"snippet_guid"`
}

type wsInput struct {
	ID    string          `json:"id"`
	Value json.RawMessage `json:"value"`
}

// Derive validates the shape of a workspace just enough to read the derived
// fields from it: the workspace must be a JSON object; when it has blocks,
// they are a list of objects. Deeper validation belongs to the engine.
func Derive(workspace json.RawMessage) (Derived, error) {
	d := Derived{RunMode: RunModeManual, SnippetIDs: []string{}, EndpointIDs: []string{}, ConnectorIDs: []string{}}
	var ws struct {
		Blocks json.RawMessage `json:"blocks"`
	}
	if trimmed := bytes.TrimLeft(workspace, " \t\r\n"); len(trimmed) == 0 || trimmed[0] != '{' {
		return d, apperr.Validation("workspace must be a JSON object")
	}
	if err := json.Unmarshal(workspace, &ws); err != nil {
		return d, apperr.Validation("workspace must be a JSON object: %s", jsonProblem(err))
	}
	if len(ws.Blocks) == 0 || string(ws.Blocks) == "null" {
		return d, nil
	}
	var blocks []wsBlock
	if err := json.Unmarshal(ws.Blocks, &blocks); err != nil {
		return d, apperr.Validation("workspace.blocks must be a list of block objects: %s", jsonProblem(err))
	}
	starts := 0
	for i, b := range blocks {
		switch b.Type {
		case "StartBlock":
			starts++
			if starts > 1 {
				return d, apperr.Validation("workspace has more than one StartBlock (block %d)", i)
			}
			for _, in := range b.Inputs {
				if in.ID != "run_mode" {
					continue
				}
				var mode string
				if err := json.Unmarshal(in.Value, &mode); err != nil {
					return d, apperr.Validation("StartBlock input run_mode must be a string")
				}
				switch mode {
				case RunModeManual, RunModeScheduled, RunModeTriggered, RunModeWebhook:
					d.RunMode = mode
				case "":
				default:
					return d, apperr.Validation("StartBlock input run_mode %q is not one of manual, scheduled, triggered, webhook", mode)
				}
			}
		case "EndpointBlock", "SnippetBlock":
			var err error
			if d.ConnectorIDs, err = addGUID(d.ConnectorIDs, b.DatasourceTypeGUID, i, "datasourcetype_guid"); err != nil {
				return d, err
			}
			if b.Type == "EndpointBlock" {
				d.EndpointIDs, err = addGUID(d.EndpointIDs, b.EndpointGUID, i, "endpoint_guid")
			} else {
				d.SnippetIDs, err = addGUID(d.SnippetIDs, b.SnippetGUID, i, "snippet_guid")
			}
			if err != nil {
				return d, err
			}
		}
	}
	return d, nil
}

// addGUID appends the string in raw to ids unless it is absent, null, empty
// or already there. Order of first appearance is kept.
func addGUID(ids []string, raw json.RawMessage, block int, field string) ([]string, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return ids, nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return ids, apperr.Validation("block %d: %s must be a string", block, field)
	}
	if s == "" {
		return ids, nil
	}
	for _, id := range ids {
		if id == s {
			return ids, nil
		}
	}
	return append(ids, s), nil
}

// jsonProblem says what is wrong with a JSON value without echoing Go types.
func jsonProblem(err error) string {
	switch e := err.(type) {
	case *json.UnmarshalTypeError:
		return fmt.Sprintf("found %s", e.Value)
	case *json.SyntaxError:
		return fmt.Sprintf("syntax error at offset %d", e.Offset)
	}
	return err.Error()
}
