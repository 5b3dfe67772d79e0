package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	"automate/internal/workspace"
)

// errInvalid makes the process exit non-zero after the problems were printed.
var errInvalid = errors.New("the workspace is not valid")

// runValidate checks a workspace file, or an automation (a JSON object with
// a "workspace" field, as the API returns it), and prints every problem.
func runValidate(args []string, stdout, stderr io.Writer) error {
	if len(args) != 1 {
		fmt.Fprintln(stderr, "usage: automate validate FILE")
		return errors.New("validate takes one file")
	}
	raw, err := os.ReadFile(args[0])
	if err != nil {
		return err
	}
	raw = unwrapAutomation(raw)
	w, err := workspace.Parse(raw)
	var we *workspace.Error
	if errors.As(err, &we) {
		for _, p := range we.Problems {
			fmt.Fprintln(stdout, p.String())
		}
		return fmt.Errorf("%w: %d problem(s)", errInvalid, len(we.Problems))
	}
	if err != nil {
		return err
	}
	reachable := 0
	for _, b := range w.Blocks {
		if w.Reachable(b.ID) {
			reachable++
		}
	}
	fmt.Fprintf(stdout, "valid: %d blocks (%d reachable from %q)\n", len(w.Blocks), reachable, w.Start.Name)
	return nil
}

// unwrapAutomation returns the "workspace" of an automation document, or
// raw itself when it is a bare workspace.
func unwrapAutomation(raw []byte) []byte {
	var doc struct {
		Workspace json.RawMessage `json:"workspace"`
		Blocks    json.RawMessage `json:"blocks"`
	}
	if json.Unmarshal(raw, &doc) == nil && doc.Blocks == nil && len(doc.Workspace) > 0 {
		return doc.Workspace
	}
	return raw
}
