package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"automate/internal/schedule"
	"automate/internal/workspace"
)

// shownOccurrences is how many upcoming occurrences validate prints.
const shownOccurrences = 5

// errInvalid makes the process exit non-zero after the problems were printed.
var errInvalid = errors.New("the workspace is not valid")

// runValidate checks a workspace file, or an automation (a JSON object with
// a "workspace" field, as the API returns it), and prints every problem.
// An automation's schedule is checked too, and its next occurrences shown.
func runValidate(args []string, stdout, stderr io.Writer) error {
	if len(args) != 1 {
		fmt.Fprintln(stderr, "usage: automate validate FILE")
		return errors.New("validate takes one file")
	}
	raw, err := os.ReadFile(args[0])
	if err != nil {
		return err
	}
	if err := validateSchedules(raw, time.Now(), stdout); err != nil {
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

// validateSchedules checks the "schedules" of an automation document, as
// the API would on save, and prints each one's next occurrences.
func validateSchedules(raw []byte, now time.Time, stdout io.Writer) error {
	var doc struct {
		Schedules []schedule.Spec `json:"schedules"`
	}
	if json.Unmarshal(raw, &doc) != nil || len(doc.Schedules) == 0 {
		return nil // a bare workspace, or no schedule: nothing to check
	}
	if len(doc.Schedules) > 1 {
		fmt.Fprintf(stdout, "schedules: an automation has at most one schedule; got %d\n", len(doc.Schedules))
		return fmt.Errorf("%w: the schedules", errInvalid)
	}
	s, err := schedule.FromSpec(doc.Schedules[0], now)
	if err != nil {
		fmt.Fprintln(stdout, err)
		return fmt.Errorf("%w: the schedule", errInvalid)
	}
	r, err := s.Rule()
	if err != nil {
		return err
	}
	loc, _ := time.LoadLocation(s.Timezone)
	fmt.Fprintf(stdout, "schedule in %s from %s", s.Timezone, s.StartAt)
	if s.StopAt != "" {
		fmt.Fprintf(stdout, " to %s", s.StopAt)
	}
	fmt.Fprintln(stdout, ", next occurrences:")
	at := now
	for range shownOccurrences {
		if at = r.Next(at); at.IsZero() {
			fmt.Fprintln(stdout, "  (the series ends)")
			break
		}
		fmt.Fprintf(stdout, "  %s  (%s)\n", at.In(loc).Format("2006-01-02 Mon 15:04 -0700"), at.UTC().Format(time.RFC3339))
	}
	return nil
}
