package automation

import (
	"encoding/json"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"automate/internal/apperr"
	"automate/internal/schedule"
)

func TestDeriveExample(t *testing.T) {
	t.Parallel()
	raw, err := os.ReadFile("../../../shared/reference/examples/user-created-add-to-space.json")
	if err != nil {
		t.Fatal(err)
	}
	d, err := Derive(raw)
	if err != nil {
		t.Fatal(err)
	}
	if d.RunMode != RunModeWebhook {
		t.Errorf("run mode = %q", d.RunMode)
	}
	if !slices.Equal(d.ConnectorIDs, []string{"61a87510-c7a3-11ea-95da-0fb0c241e75c"}) {
		t.Errorf("connectors = %v (the StartBlock's datasourcetype_guid input must not count)", d.ConnectorIDs)
	}
	if len(d.EndpointIDs) != 2 || len(d.SnippetIDs) != 0 {
		t.Errorf("endpoints %v snippets %v", d.EndpointIDs, d.SnippetIDs)
	}
}

func TestDerive(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		ws        string
		mode      string
		snippets  []string
		endpoints []string
		conns     []string
		wantErr   bool
	}{
		{name: "empty object", ws: `{}`, mode: "manual"},
		{name: "null blocks", ws: `{"blocks":null}`, mode: "manual"},
		{name: "no start block", ws: `{"blocks":[{"type":"ShowBlock"}]}`, mode: "manual"},
		{name: "start without run_mode", ws: `{"blocks":[{"type":"StartBlock","inputs":[]}]}`, mode: "manual"},
		{name: "empty run_mode", ws: `{"blocks":[{"type":"StartBlock","inputs":[{"id":"run_mode","value":""}]}]}`, mode: "manual"},
		{name: "scheduled", ws: `{"blocks":[{"type":"StartBlock","inputs":[{"id":"run_mode","value":"scheduled"}]}]}`, mode: "scheduled"},
		{name: "snippets and endpoints, deduplicated, disconnected ones too", ws: `{"blocks":[
			{"type":"SnippetBlock","snippet_guid":"s1","datasourcetype_guid":"c1"},
			{"type":"EndpointBlock","endpoint_guid":"e1","datasourcetype_guid":"c1"},
			{"type":"EndpointBlock","endpoint_guid":"e2","datasourcetype_guid":"c2","childId":null},
			{"type":"EndpointBlock","endpoint_guid":"e1","datasourcetype_guid":null},
			{"type":"SnippetBlock","snippet_guid":""}]}`,
			mode: "manual", snippets: []string{"s1"}, endpoints: []string{"e1", "e2"}, conns: []string{"c1", "c2"}},
		{name: "not an object", ws: `[]`, wantErr: true},
		{name: "null", ws: `null`, wantErr: true},
		{name: "blocks an object", ws: `{"blocks":{}}`, wantErr: true},
		{name: "block not an object", ws: `{"blocks":[1]}`, wantErr: true},
		{name: "two starts", ws: `{"blocks":[{"type":"StartBlock"},{"type":"StartBlock"}]}`, wantErr: true},
		{name: "unknown run mode", ws: `{"blocks":[{"type":"StartBlock","inputs":[{"id":"run_mode","value":"hourly"}]}]}`, wantErr: true},
		{name: "snippet guid a number", ws: `{"blocks":[{"type":"SnippetBlock","snippet_guid":1}]}`, wantErr: true},
	}
	for _, tt := range tests {
		d, err := Derive(json.RawMessage(tt.ws))
		if tt.wantErr {
			if !apperr.IsKind(err, apperr.Invalid) {
				t.Errorf("%s: err = %v, want a validation error", tt.name, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		if d.RunMode != tt.mode || !slices.Equal(d.SnippetIDs, nonNil(tt.snippets)) ||
			!slices.Equal(d.EndpointIDs, nonNil(tt.endpoints)) || !slices.Equal(d.ConnectorIDs, nonNil(tt.conns)) {
			t.Errorf("%s: got %+v", tt.name, d)
		}
	}
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func TestNewExecutionToken(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	counts := map[rune]int{}
	for range 2000 {
		tok := NewExecutionToken()
		if len(tok) != 64 || strings.Trim(tok, tokenAlphabet) != "" {
			t.Fatalf("token %q", tok)
		}
		if seen[tok] {
			t.Fatal("repeated token")
		}
		seen[tok] = true
		for _, c := range tok {
			counts[c]++
		}
	}
	// 128,000 characters over 62 symbols: about 2,065 each. A biased
	// generator (e.g. byte % 62 without rejection) skews the first eight.
	for _, c := range tokenAlphabet {
		if n := counts[c]; n < 1700 || n > 2450 {
			t.Errorf("character %q appeared %d times", c, n)
		}
	}
}

func TestApply(t *testing.T) {
	t.Parallel()
	name, long := "n", strings.Repeat("x", MaxDescriptionLength+1)
	a, _, err := NewFromInput(Input{Name: &name}, DefaultSettings, time.Now())
	if err != nil || a.MaxConcurrentRuns != 1 || a.State != StateAvailable || a.RunMode != RunModeManual {
		t.Fatalf("NewFromInput = %+v, %v", a, err)
	}
	if _, err := a.Apply(Input{Description: &long}, DefaultSettings, nil, time.Now()); !apperr.IsKind(err, apperr.Invalid) {
		t.Errorf("long description: %v", err)
	}
	if _, err := a.Apply(Input{Workspace: json.RawMessage(`{"blocks": [ ]}`)}, DefaultSettings, nil, time.Now()); err != nil || string(a.Workspace) != `{"blocks":[]}` {
		t.Errorf("workspace compacted to %s, %v", a.Workspace, err)
	}
	if _, err := a.Apply(Input{Workspace: json.RawMessage(`null`)}, DefaultSettings, nil, time.Now()); err != nil || string(a.Workspace) != `{"blocks":[]}` {
		t.Errorf("null workspace must keep the old one: %s, %v", a.Workspace, err)
	}
	if _, _, err := NewFromInput(Input{}, DefaultSettings, time.Now()); !apperr.IsKind(err, apperr.Invalid) {
		t.Errorf("missing name: %v", err)
	}
}

// FuzzDerive checks that no workspace panics and that what Derive accepts
// is an object whose derived lists hold no duplicates.
func FuzzDerive(f *testing.F) {
	f.Add([]byte(`{"blocks":[{"type":"StartBlock","inputs":[{"id":"run_mode","value":"webhook"}]},{"type":"EndpointBlock","endpoint_guid":"e","datasourcetype_guid":"c"}]}`))
	f.Add([]byte(`{"blocks":[{"type":"SnippetBlock","snippet_guid":"s"}],"variables":[]}`))
	f.Add([]byte(`{}`))
	f.Add([]byte(`[{"blocks":1}]`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		d, err := Derive(raw)
		if err != nil {
			if !apperr.IsKind(err, apperr.Invalid) {
				t.Fatalf("error of the wrong kind: %v", err)
			}
			return
		}
		var obj map[string]any
		if json.Unmarshal(raw, &obj) != nil {
			t.Fatalf("accepted a workspace that is not a JSON object: %q", raw)
		}
		for _, ids := range [][]string{d.SnippetIDs, d.EndpointIDs, d.ConnectorIDs} {
			if len(slices.Compact(slices.Sorted(slices.Values(ids)))) != len(ids) {
				t.Fatalf("duplicates in %v", ids)
			}
		}
		switch d.RunMode {
		case RunModeManual, RunModeScheduled, RunModeTriggered, RunModeWebhook:
		default:
			t.Fatalf("run mode %q", d.RunMode)
		}
	})
}

// TestRunModeDrift: an active schedule makes an automation scheduled
// whatever its StartBlock says; without one (removed, or its series over)
// the StartBlock's run mode comes back at the next save.
func TestRunModeDrift(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	str := func(s string) *string { return &s }
	triggered := json.RawMessage(`{"blocks":[{"type":"StartBlock","inputs":[{"id":"run_mode","value":"triggered"}]}]}`)
	daily := []schedule.Spec{{Recurrence: str("FREQ=DAILY"), StartAt: str("2026-01-01 09:00:00")}}
	over := []schedule.Spec{{Recurrence: str("FREQ=DAILY"), StartAt: str("2026-01-01 09:00:00"), StopAt: str("2026-02-01 00:00:00")}}
	none := []schedule.Spec{}

	a, sched, err := NewFromInput(Input{Name: str("n"), Workspace: triggered, Schedules: &daily}, DefaultSettings, now)
	if err != nil || a.RunMode != RunModeScheduled || sched == nil {
		t.Fatalf("with a schedule: %v, %v, %v", a.RunMode, sched, err)
	}
	if want := time.Date(2026, 5, 2, 9, 0, 0, 0, time.UTC); !sched.NextRunAt.Equal(want) {
		t.Errorf("nextRunAt = %v, want %v", sched.NextRunAt, want)
	}
	// A save without schedules keeps the schedule and the mode, even when
	// the workspace changes.
	kept, err := a.Apply(Input{Workspace: triggered}, DefaultSettings, sched, now)
	if err != nil || kept != sched || a.RunMode != RunModeScheduled {
		t.Fatalf("save without schedules: %v, %v, %v", a.RunMode, kept, err)
	}
	// The same schedule sent again is the same schedule, state and all.
	again, err := a.Apply(Input{Schedules: &daily}, DefaultSettings, sched, now.Add(time.Hour))
	if err != nil || again != sched {
		t.Fatalf("unchanged schedule replaced: %+v, %v", again, err)
	}
	// A changed one keeps its id and last start.
	sched.ID, sched.LastStartedAt = "s1", now
	weekly := []schedule.Spec{{Recurrence: str("FREQ=WEEKLY"), StartAt: str("2026-01-01 09:00:00")}}
	changed, err := a.Apply(Input{Schedules: &weekly}, DefaultSettings, sched, now)
	if err != nil || changed == sched || changed.ID != "s1" || !changed.LastStartedAt.Equal(now) || changed.Recurrence != "FREQ=WEEKLY" {
		t.Fatalf("changed schedule: %+v, %v", changed, err)
	}
	// A series that is over is no longer active.
	ended, err := a.Apply(Input{Schedules: &over}, DefaultSettings, changed, now)
	if err != nil || ended == nil || a.RunMode != RunModeTriggered || !ended.NextRunAt.IsZero() {
		t.Fatalf("ended series: %v, %+v, %v", a.RunMode, ended, err)
	}
	// Removing the schedule gives the StartBlock its say again.
	a.RunMode = RunModeScheduled
	removed, err := a.Apply(Input{Schedules: &none}, DefaultSettings, sched, now)
	if err != nil || removed != nil || a.RunMode != RunModeTriggered {
		t.Fatalf("removed schedule: %v, %v, %v", a.RunMode, removed, err)
	}
	// A disabled automation keeps its schedule but nothing is due.
	a.State = StateDisabled
	off, err := a.Apply(Input{Schedules: &daily}, DefaultSettings, nil, now)
	if err != nil || off == nil || !off.NextRunAt.IsZero() || a.RunMode != RunModeScheduled {
		t.Fatalf("disabled: %v, %+v, %v", a.RunMode, off, err)
	}
	two := []schedule.Spec{daily[0], weekly[0]}
	if _, err := a.Apply(Input{Schedules: &two}, DefaultSettings, nil, now); err == nil || !strings.Contains(err.Error(), "at most one schedule") {
		t.Errorf("two schedules: %v", err)
	}
}
