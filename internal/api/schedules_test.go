package api_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"automate/internal/dispatch"
	"automate/internal/run"
)

// The bundle's fake clock starts at 2026-01-02 03:04:05 UTC (04:04:05 in
// Stockholm).

// scheduleRuns lists an automation's runs oldest first, as
// "scheduledStartTime trigger-context" strings.
func (b *bundle) scheduleRuns(bearer, automationID string) []string {
	b.t.Helper()
	var list runList
	b.get(base+"/"+automationID+"/runs?limit=100&sort=id", bearer).decode(b.t, http.StatusOK, &list)
	var out []string
	for _, r := range list.Data {
		at := "-"
		if r.ScheduledStartTime != nil {
			at = *r.ScheduledStartTime
		}
		out = append(out, at)
	}
	return out
}

// waitFired waits until the scheduler has dealt with every occurrence up to
// the fake clock's now: the automation's next run is after it.
func (b *bundle) waitFired(t *testing.T, automationID string) {
	t.Helper()
	waitFor(t, func() bool {
		sc, err := b.db.GetSchedule(context.Background(), automationID)
		return err == nil && sc != nil && (sc.NextRunAt.IsZero() || sc.NextRunAt.After(b.clock.Now()))
	})
}

func (b *bundle) automation(bearer, id string) automationBody {
	b.t.Helper()
	var a automationBody
	b.get(base+"/"+id, bearer).decode(b.t, http.StatusOK, &a)
	return a
}

// TestScheduleFires runs a one-minute recurrence under the fake clock: each
// occurrence creates one run with its scheduledStartTime, and the schedule
// reports lastStartedAt and nextRunAt.
func TestScheduleFires(t *testing.T) {
	t.Parallel()
	b := setup(t)
	alice := b.creator("alice")
	a := b.create(alice, map[string]any{"name": "every minute", "workspace": flow("manual", nil, show("out", "tick")),
		"schedules": []any{map[string]any{"recurrence": "RRULE:FREQ=MINUTELY", "startAt": "2026-01-02 04:05:00",
			"timezone": "Europe/Stockholm"}}})
	if a.RunMode != "scheduled" || len(a.Schedules) != 1 {
		t.Fatalf("created %s with %+v", a.RunMode, a.Schedules)
	}
	sc := a.Schedules[0]
	if sc.ID == "" || sc.Interval != -1 || sc.Recurrence != "RRULE:FREQ=MINUTELY" || sc.StartAt != "2026-01-02 04:05:00" ||
		sc.Timezone != "Europe/Stockholm" || sc.StopAt != "" || sc.LastStartedAt != "" || sc.NextRunAt != "2026-01-02T03:05:00.000000Z" {
		t.Fatalf("schedule %+v", sc)
	}
	if runs := b.scheduleRuns(alice, a.ID); len(runs) != 0 {
		t.Fatalf("runs before the first occurrence: %v", runs)
	}
	var want []string
	for i := range 3 {
		b.clock.Set(time.Date(2026, 1, 2, 3, 5+i, 0, 0, time.UTC))
		b.waitFired(t, a.ID)
		alice = b.creator("alice")
		want = append(want, fmt.Sprintf("2026-01-02T03:%02d:00.000000Z", 5+i))
		if got := b.scheduleRuns(alice, a.ID); !slices.Equal(got, want) {
			t.Fatalf("after occurrence %d runs are %v, want %v", i+1, got, want)
		}
		got := b.automation(alice, a.ID).Schedules[0]
		if got.ID != sc.ID || got.LastStartedAt != want[i] || got.NextRunAt != fmt.Sprintf("2026-01-02T03:%02d:00.000000Z", 6+i) {
			t.Fatalf("after occurrence %d: %+v", i+1, got)
		}
	}
	var list runList
	b.get(base+"/"+a.ID+"/runs?sort=id", alice).decode(t, http.StatusOK, &list)
	for _, r := range list.Data {
		got := b.waitRun(alice, a.ID, r.ID)
		if got.Status != "finished" || got.ExecutedByID != "alice" || got.Context != "api_async" {
			t.Errorf("scheduled run %+v", got)
		}
	}
	// Usage counts them as scheduled runs.
	var usage struct {
		Data []struct {
			Name  string  `json:"name"`
			Value float64 `json:"value"`
		} `json:"data"`
	}
	admin := b.user("root", "TenantAdmin")
	b.get(base+"/usage?filter="+q(`name eq "scheduledRuns" and date eq "2026-01-02"`), admin).decode(t, http.StatusOK, &usage)
	if len(usage.Data) != 1 || usage.Data[0].Value != 3 {
		t.Errorf("scheduledRuns usage %+v", usage.Data)
	}
}

// TestScheduleValidation: every bad field is a 400 that names it.
func TestScheduleValidation(t *testing.T) {
	t.Parallel()
	b := setup(t)
	alice := b.creator("alice")
	tests := []struct {
		name      string
		schedules any
		detail    string
	}{
		{"two schedules", []any{map[string]any{"interval": 60}, map[string]any{"interval": 120}}, "at most one schedule; got 2"},
		{"interval too short", []any{map[string]any{"interval": 20}}, "schedules[0].interval"},
		{"interval not a number", []any{map[string]any{"interval": "sixty"}}, "schedules"},
		{"neither", []any{map[string]any{"timezone": "UTC"}}, "needs a recurrence or an interval"},
		{"timezone", []any{map[string]any{"interval": 60, "timezone": "Europe/Atlantis"}}, "schedules[0].timezone"},
		{"startAt", []any{map[string]any{"interval": 60, "startAt": "01/02/2026 10:00"}}, "schedules[0].startAt"},
		{"stopAt", []any{map[string]any{"interval": 60, "stopAt": "2026-13-01 00:00:00"}}, "schedules[0].stopAt"},
		{"stopAt before startAt", []any{map[string]any{"interval": 60, "startAt": "2026-02-01 00:00:00", "stopAt": "2026-01-01 00:00:00"}}, "schedules[0].stopAt"},
		{"DTSTART", []any{map[string]any{"recurrence": "FREQ=DAILY;DTSTART=20260101T000000Z"}}, "must not contain DTSTART"},
		{"UNTIL", []any{map[string]any{"recurrence": "RRULE:FREQ=DAILY;UNTIL=20270101T000000Z"}}, "must not contain UNTIL"},
		{"bad RRULE", []any{map[string]any{"recurrence": "FREQ=FORTNIGHTLY"}}, "schedules[0].recurrence"},
		{"never", []any{map[string]any{"recurrence": "FREQ=YEARLY;BYMONTH=4;BYMONTHDAY=31"}}, "never occurs"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			body := map[string]any{"name": "bad", "schedules": tc.schedules}
			env := b.post(base, alice, body).wantError(t, http.StatusBadRequest, "AUTOMATE-VALIDATION")
			if !strings.Contains(env.Errors[0].Detail, tc.detail) {
				t.Errorf("detail %q does not contain %q", env.Errors[0].Detail, tc.detail)
			}
		})
	}
	// Nothing was stored.
	var list listBody
	b.get(base, alice).decode(t, http.StatusOK, &list)
	if len(list.Data) != 0 {
		t.Errorf("%d automations stored from bad requests", len(list.Data))
	}
}

// TestScheduleRunModeDrift: the schedule wins over the StartBlock while it
// is active, and the StartBlock's mode comes back when it is removed or
// over. A GET body sent back unchanged keeps the schedule as it was.
func TestScheduleRunModeDrift(t *testing.T) {
	t.Parallel()
	b := setup(t)
	alice := b.creator("alice")
	ws := flow("triggered", nil, show("out", "x"))
	a := b.create(alice, map[string]any{"name": "drift", "workspace": ws})
	if a.RunMode != "triggered" || len(a.Schedules) != 0 {
		t.Fatalf("without a schedule: %s %+v", a.RunMode, a.Schedules)
	}
	put := func(body any) automationBody {
		var got automationBody
		b.request("PUT", base+"/"+a.ID, alice, body).decode(t, http.StatusOK, &got)
		return got
	}
	got := put(map[string]any{"name": "drift", "schedules": []any{map[string]any{"interval": 3600}}})
	if got.RunMode != "scheduled" || len(got.Schedules) != 1 || got.Schedules[0].StartAt != "2026-01-02 03:04:00" ||
		got.Schedules[0].NextRunAt != "2026-01-02T04:04:00.000000Z" || got.Schedules[0].Timezone != "UTC" {
		t.Fatalf("with an interval: %s %+v", got.RunMode, got.Schedules)
	}
	id := got.Schedules[0].ID
	// The run URL refuses a scheduled automation.
	b.runURL("POST", a.ID, a.ExecutionToken, "", nil).wantError(t, http.StatusBadRequest, "AUTOMATE-NOT-TRIGGERED")
	// A save without schedules (and one sending back the GET body) keeps it.
	got = put(map[string]any{"name": "renamed", "workspace": ws})
	if got.RunMode != "scheduled" || len(got.Schedules) != 1 || got.Schedules[0].ID != id {
		t.Fatalf("save without schedules: %s %+v", got.RunMode, got.Schedules)
	}
	whole := b.get(base+"/"+a.ID, alice)
	var back map[string]any
	whole.decode(t, http.StatusOK, &back)
	got = put(back)
	if got.RunMode != "scheduled" || len(got.Schedules) != 1 || got.Schedules[0] != b.automation(alice, a.ID).Schedules[0] {
		t.Fatalf("GET body sent back: %s %+v", got.RunMode, got.Schedules)
	}
	// A series that is over does not make the automation scheduled.
	got = put(map[string]any{"schedules": []any{map[string]any{"recurrence": "FREQ=DAILY", "startAt": "2025-01-01 09:00:00",
		"stopAt": "2025-12-31 09:00:00"}}})
	if got.RunMode != "triggered" || len(got.Schedules) != 1 || got.Schedules[0].NextRunAt != "" || got.Schedules[0].ID != id {
		t.Fatalf("ended series: %s %+v", got.RunMode, got.Schedules)
	}
	// An empty list removes the schedule.
	got = put(map[string]any{"schedules": []any{}})
	if got.RunMode != "triggered" || len(got.Schedules) != 0 {
		t.Fatalf("removed: %s %+v", got.RunMode, got.Schedules)
	}
	// The StartBlock's own "scheduled" mode without a schedule stays.
	got = put(map[string]any{"workspace": flow("scheduled", nil)})
	if got.RunMode != "scheduled" || len(got.Schedules) != 0 {
		t.Fatalf("StartBlock says scheduled: %s %+v", got.RunMode, got.Schedules)
	}
}

// TestScheduleDisabled: a disabled automation does not fire, and enabling
// it does not replay what it missed.
func TestScheduleDisabled(t *testing.T) {
	t.Parallel()
	b := setup(t)
	alice := b.creator("alice")
	a := b.create(alice, map[string]any{"name": "off", "workspace": flow("manual", nil),
		"schedules": []any{map[string]any{"interval": 60, "startAt": "2026-01-02 03:05:00"}}})
	b.post(base+"/"+a.ID+"/actions/disable", alice, nil).wantStatus(t, http.StatusNoContent)
	if sc := b.automation(alice, a.ID).Schedules[0]; sc.NextRunAt != "" {
		t.Fatalf("disabled automation has a next run: %+v", sc)
	}
	b.clock.Set(time.Date(2026, 1, 2, 3, 10, 30, 0, time.UTC))
	b.scheduler.Changed()
	alice = b.creator("alice")
	b.post(base+"/"+a.ID+"/actions/enable", alice, nil).wantStatus(t, http.StatusNoContent)
	if sc := b.automation(alice, a.ID).Schedules[0]; sc.NextRunAt != "2026-01-02T03:11:00.000000Z" {
		t.Fatalf("enabled again: %+v", sc)
	}
	b.clock.Set(time.Date(2026, 1, 2, 3, 11, 0, 0, time.UTC))
	b.waitFired(t, a.ID)
	alice = b.creator("alice")
	if got := b.scheduleRuns(alice, a.ID); !slices.Equal(got, []string{"2026-01-02T03:11:00.000000Z"}) {
		t.Fatalf("runs %v, want only the occurrence after enabling", got)
	}
}

// TestScheduleCatchUp stops the dispatcher and scheduler across four
// occurrences of a five-minute interval (03:10, 03:15, 03:20, 03:25),
// starts new ones at 03:27:30 over the same database, and checks each
// policy exactly; then the schedule is back on its rule.
func TestScheduleCatchUp(t *testing.T) {
	t.Parallel()
	tests := []struct {
		cfg      dispatch.ScheduleConfig
		caughtUp []string
	}{
		{dispatch.ScheduleConfig{}, []string{"03:25"}}, // latest, the default
		{dispatch.ScheduleConfig{CatchUp: dispatch.CatchUpSkip}, nil},
		{dispatch.ScheduleConfig{CatchUp: dispatch.CatchUpAll}, []string{"03:10", "03:15", "03:20", "03:25"}},
		{dispatch.ScheduleConfig{CatchUp: dispatch.CatchUpAll, CatchUpLimit: 2}, []string{"03:20", "03:25"}},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("%s-%d", tc.cfg.CatchUp, tc.cfg.CatchUpLimit), func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			alice := b.creator("alice")
			a := b.create(alice, map[string]any{"name": "five", "workspace": flow("manual", nil),
				"schedules": []any{map[string]any{"interval": 300, "startAt": "2026-01-02 03:05:00"}}})
			b.clock.Set(time.Date(2026, 1, 2, 3, 5, 0, 0, time.UTC))
			b.waitFired(t, a.ID)

			// The server's dispatcher and scheduler stop; four occurrences
			// pass; new ones start over the same database file.
			b.scheduler.Stop()
			b.dispatch.Stop()
			b.clock.Set(time.Date(2026, 1, 2, 3, 27, 30, 0, time.UTC))
			b.dispatch = dispatch.New(b.db, b.clock, slog.New(slog.NewTextHandler(io.Discard, nil)), dispatch.Config{}, nil)
			b.dispatch.Start(context.Background())
			t.Cleanup(b.dispatch.Stop)
			restarted := dispatch.NewScheduler(b.dispatch, tc.cfg)
			restarted.Start(context.Background())
			t.Cleanup(restarted.Stop)
			b.waitFired(t, a.ID)
			alice = b.creator("alice")
			want := []string{"03:05"}
			want = append(want, tc.caughtUp...)
			if got := hhmm(b.scheduleRuns(alice, a.ID)); !slices.Equal(got, want) {
				t.Fatalf("runs after the restart %v, want %v", got, want)
			}
			sc := b.automation(alice, a.ID).Schedules[0]
			if sc.NextRunAt != "2026-01-02T03:30:00.000000Z" {
				t.Fatalf("next run after catching up: %+v", sc)
			}
			if len(tc.caughtUp) > 0 && sc.LastStartedAt != "2026-01-02T03:27:30.000000Z" {
				t.Errorf("lastStartedAt %s", sc.LastStartedAt)
			}
			b.clock.Set(time.Date(2026, 1, 2, 3, 30, 0, 0, time.UTC))
			b.waitFired(t, a.ID)
			alice = b.creator("alice")
			if got := hhmm(b.scheduleRuns(alice, a.ID)); !slices.Equal(got, append(want, "03:30")) {
				t.Fatalf("runs after the next occurrence %v", got)
			}
			// Every run is a scheduled one of this schedule.
			var list runList
			b.get(base+"/"+a.ID+"/runs?limit=100", alice).decode(t, http.StatusOK, &list)
			for _, r := range list.Data {
				got := b.waitRun(alice, a.ID, r.ID)
				if got.Status != run.StatusFinished {
					t.Errorf("run %+v", got)
				}
			}
		})
	}
}

// hhmm shortens scheduledStartTimes of 2026-01-02 to HH:MM.
func hhmm(ts []string) []string {
	out := make([]string, len(ts))
	for i, s := range ts {
		out[i] = strings.TrimSuffix(strings.TrimPrefix(s, "2026-01-02T"), ":00.000000Z")
	}
	return out
}

// TestScheduleCopy: a copy has the same series under a new schedule id,
// without the source's last start; `schedules: null` keeps a schedule.
func TestScheduleCopy(t *testing.T) {
	t.Parallel()
	b := setup(t)
	alice := b.creator("alice")
	a := b.create(alice, map[string]any{"name": "src", "workspace": flow("manual", nil),
		"schedules": []any{map[string]any{"recurrence": "FREQ=HOURLY;BYMINUTE=30", "timezone": "America/New_York"}}})
	b.clock.Set(time.Date(2026, 1, 2, 3, 30, 0, 0, time.UTC))
	b.waitFired(t, a.ID)
	alice = b.creator("alice")
	var kept automationBody
	b.request("PUT", base+"/"+a.ID, alice, map[string]any{"name": "src", "schedules": nil}).decode(t, http.StatusOK, &kept)
	src := kept.Schedules
	if len(src) != 1 || src[0].LastStartedAt != "2026-01-02T03:30:00.000000Z" || src[0].StartAt != "2026-01-01 22:04:00" {
		t.Fatalf("source schedule %+v", src)
	}
	var copied struct{ ID string }
	b.post(base+"/"+a.ID+"/actions/copy", alice, map[string]any{"name": "dst"}).decode(t, http.StatusCreated, &copied)
	c := b.automation(alice, copied.ID)
	if c.RunMode != "scheduled" || len(c.Schedules) != 1 {
		t.Fatalf("copy %s %+v", c.RunMode, c.Schedules)
	}
	got := c.Schedules[0]
	if got.ID == src[0].ID || got.LastStartedAt != "" || got.Recurrence != src[0].Recurrence || got.StartAt != src[0].StartAt ||
		got.Timezone != "America/New_York" || got.NextRunAt != "2026-01-02T04:30:00.000000Z" {
		t.Fatalf("copied schedule %+v, source %+v", got, src[0])
	}
}
